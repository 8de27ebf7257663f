/// An `oci` source (sources.md §1): an artifact in an OCI registry, by tag or by digest.
public struct OCISource: Sendable, Hashable {
    /// The registry, `host[:port]`.
    public var registry: String
    /// The repository within the registry.
    public var repository: String
    /// The tag, when the reference names one.
    public var tag: String?
    /// The manifest digest `sha256:<64 hex>`, when the reference names one (then it pins itself).
    public var digest: String?
    /// The Secret of type dockerconfigjson, read on the workload cluster as `<namespace>.<name>`.
    public var pullSecret: String?

    /// `oci://<registry>/<repository>:<tag>` or `oci://<registry>/<repository>@sha256:<hex>`.
    public var identity: String {
        "oci://\(registry)/\(repository)" + (digest.map { "@" + $0 } ?? tag.map { ":" + $0 } ?? "")
    }

    /// The rule `reference` states.
    static let referenceRule =
        "must be <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<64 lowercase hex>: a registry "
        + "host with an optional port, a repository of lowercase path components ([a-z0-9] separated by '.', '_', "
        + "'__' or '-', joined by '/'), a tag of up to 128 letters, digits, '_', '.' and '-' not starting with '.' "
        + "or '-'; at most 512 characters"

    /// Parses `spec.artifact.source.oci` (at `field`); nil when anything is invalid (each error recorded).
    static func parse(_ oci: Value, _ field: String, _ v: inout Validator) -> OCISource? {
        var out: OCISource?
        if let reference = v.string(oci["reference"], "\(field).reference") {
            out = OCISource(reference: reference)
            if out == nil { v.fail("\(field).reference", .string(reference), referenceRule) }
        }
        if let ref = v.object(oci["pullSecretRef"], "\(field).pullSecretRef", required: false) {
            guard let name = SourceSecret.name(ref["name"], "\(field).pullSecretRef.name", &v) else { return nil }
            out?.pullSecret = name
        }
        return out
    }

    /// Reads `reference` (without `oci://`); nil when it breaks `referenceRule`.
    init?(reference: String) {
        guard reference.utf8.count <= 512, let slash = reference.firstIndex(of: "/") else { return nil }
        let registry = reference[..<slash]
        var rest = reference[reference.index(after: slash)...]
        guard HydrationRules.isHostPort(registry, portRequired: false, lowercase: true) else { return nil }
        if let at = rest.firstIndex(of: "@") {
            let digest = rest[rest.index(after: at)...]
            guard SourcePin.isDigest(digest) else { return nil }
            self.digest = String(digest)
            rest = rest[..<at]
        } else {
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            let tag = rest[rest.index(after: colon)...]
            guard Self.isTag(tag) else { return nil }
            self.tag = String(tag)
            rest = rest[..<colon]
        }
        guard rest.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(Self.isComponent) else {
            return nil
        }
        self.registry = String(registry)
        self.repository = String(rest)
    }

    /// `oci://<registry>/<repository>` of an identity: its tag or digest dropped.
    static func repositoryPart(of identity: String) -> String {
        if let at = identity.firstIndex(of: "@") { return String(identity[..<at]) }
        guard let colon = identity.lastIndex(of: ":"), let slash = identity.lastIndex(of: "/"), colon > slash else {
            return identity
        }
        return String(identity[..<colon])
    }

    /// Whether `s` is a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    static func isTag<S: StringProtocol>(_ s: S) -> Bool {
        let b = Array(s.utf8)
        guard (1...128).contains(b.count), b[0] != UInt8(ascii: "."), b[0] != UInt8(ascii: "-") else { return false }
        return b.allSatisfy {
            Rules.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
    }

    /// Whether `s` is a repository path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    static func isComponent<S: StringProtocol>(_ s: S) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last, Rules.isLowerAlnum(first), Rules.isLowerAlnum(last) else {
            return false
        }
        var run: [UInt8] = []
        for c in b {
            if Rules.isLowerAlnum(c) {
                guard
                    run.isEmpty || run == [UInt8(ascii: ".")] || run == [UInt8(ascii: "_")]
                        || run == [UInt8(ascii: "_"), UInt8(ascii: "_")] || run.allSatisfy({ $0 == UInt8(ascii: "-") })
                else { return false }
                run = []
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") {
                run.append(c)
            } else {
                return false
            }
        }
        return true
    }
}
