/// The Secrets an `s3` or `oci` source names (sources.md §1): looked up on the workload
/// cluster as `<namespace>.<name>` (the cache's namespace, a dot, the name), so one team
/// never reaches another team's Secret; never copied, never read by the function.
public enum SourceSecret {
    /// The longest name: `<namespace>.<name>` must stay a DNS-1123 subdomain of at most 253
    /// characters with a namespace of up to 63.
    public static let maxNameBytes = 253 - 63 - 1

    /// The Secret's name on the workload cluster: `<namespace>.<name>`.
    public static func remoteName(namespace: String, name: String) -> String { "\(namespace).\(name)" }

    /// Reads a Secret name at `field`: a DNS-1123 subdomain of at most `maxNameBytes` characters.
    static func name(_ value: Value?, _ field: String, _ v: inout Validator) -> String? {
        guard let name = v.string(value, field) else { return nil }
        guard Rules.isDNSSubdomain(name), name.utf8.count <= maxNameBytes else {
            v.fail(
                field, .string(name),
                "is not a valid Secret name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.') of at "
                    + "most \(maxNameBytes) characters (the workload cluster's Secret is named <namespace>.<name>)")
            return nil
        }
        return name
    }
}

/// Relative paths a source names (an S3 prefix, a volume's subPath): segments separated by
/// single `/`, none empty, `.` or `..`, of letters, digits, `-`, `_`, `.` and `extra` only.
enum SafePath {
    /// Whether `s` is such a path of at most `maxBytes` bytes.
    static func isSafe<S: StringProtocol>(_ s: S, extra: String, maxBytes: Int) -> Bool {
        guard (1...maxBytes).contains(s.utf8.count) else { return false }
        let allowed = Array(extra.utf8)
        return s.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.utf8.allSatisfy {
                    Rules.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                        || $0 == UInt8(ascii: ".") || allowed.contains($0)
                }
        }
    }
}
