/// A `volume` source (sources.md §1): an existing ReadWriteMany claim on each selected
/// cluster, filled by someone else; it pins itself.
public struct VolumeSource: Sendable, Hashable {
    /// The claim's name, in the Job namespace of each cluster.
    public var claimName: String
    /// The directory of the claim that holds the files; nil means the claim's root.
    public var subPath: String?

    /// The longest identity: `pvc://`, a 253-character claim name, `/` and a 1024-byte subPath.
    public static let maxIdentityBytes = 6 + 253 + 1 + 1024

    /// `pvc://<claimName>[/<subPath>]`.
    public var identity: String { subPath.map { "pvc://\(claimName)/\($0)" } ?? "pvc://\(claimName)" }

    /// The rule `subPath` states.
    static let subPathRule =
        "must be a relative path of at most 1024 characters: letters, digits, '-', '_' and '.' in segments "
        + "separated by single '/', none of them '.' or '..', not starting or ending with '/'"

    /// Parses `spec.artifact.source.volume` (at `field`); nil when anything is invalid (each error recorded).
    static func parse(_ volume: Value, _ field: String, _ v: inout Validator) -> VolumeSource? {
        let claim = v.string(volume["claimName"], "\(field).claimName")
        var valid = true
        if let claim, !Rules.isDNSSubdomain(claim) {
            v.fail(
                "\(field).claimName", .string(claim),
                "is not a valid claim name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.')")
            valid = false
        }
        let subPath = v.string(volume["subPath"], "\(field).subPath", required: false)
        if let subPath, !SafePath.isSafe(subPath, extra: "", maxBytes: 1024) {
            v.fail("\(field).subPath", .string(subPath), subPathRule)
            valid = false
        }
        guard valid, let claim else { return nil }
        return VolumeSource(claimName: claim, subPath: subPath)
    }
}

extension VolumeSource {
    /// Reads an identity `pvc://<claimName>[/<subPath>]` back (from a status: lifecycle.md §7
    /// rule 8); nil unless the claim name and the subPath obey the rules `parse` enforces.
    public init?(identity: String) {
        guard identity.hasPrefix("pvc://"), identity.utf8.count <= Self.maxIdentityBytes else { return nil }
        let rest = identity.dropFirst(6)
        let claim = rest.prefix { $0 != "/" }
        let subPath = rest.dropFirst(claim.count).dropFirst()
        guard Rules.isDNSSubdomain(String(claim)),
            claim.count == rest.count || SafePath.isSafe(subPath, extra: "", maxBytes: 1024)
        else { return nil }
        self.init(claimName: String(claim), subPath: subPath.isEmpty ? nil : String(subPath))
    }
}
