/// The per-kind pins of common25.md, read from identities alone (a pin read back from
/// status has only strings): the scheme of the identity says the kind.
public enum SourcePin {
    /// Whether `commit` is a pin of the shape `source`'s kind uses: 40 lowercase hex for
    /// `hf://` (and any identity of no known scheme, as before), 64 lowercase hex for `s3://`,
    /// `sha256:` and 64 lowercase hex for `oci://`, the identity itself for `pvc://`.
    public static func isPin(_ commit: String, of source: String) -> Bool {
        if source.hasPrefix("s3://") { return isHex(commit, count: 64) }
        if source.hasPrefix("oci://") { return isDigest(commit) }
        if source.hasPrefix("pvc://") { return commit == source }
        return isCommit(commit)
    }

    /// Whether `commit` has the shape of any kind's pin (a report is parsed before it is
    /// matched to a source): 40 or 64 lowercase hex, a `sha256:` digest, or a `pvc://` identity.
    public static func isAnyPin(_ commit: String) -> Bool {
        isCommit(commit) || isHex(commit, count: 64) || isDigest(commit)
            || (commit.hasPrefix("pvc://") && commit.utf8.count <= VolumeSource.maxIdentityBytes
                && echo(commit) == commit)
    }

    /// The staged identity of `source` pinned at `commit`: `hf://<repo>@<commit>` (the revision
    /// replaced), `s3://<bucket>[/<prefix>]@<hex>`, `oci://<registry>/<repository>@sha256:<hex>`
    /// (the tag or digest replaced), and a volume's identity itself.
    public static func staged(_ source: String, at commit: String) -> String {
        if source.hasPrefix("s3://") { return source + "@" + commit }
        if source.hasPrefix("oci://") { return OCISource.repositoryPart(of: source) + "@" + commit }
        if source.hasPrefix("pvc://") { return source }
        // A repo id has no `@`, so the first one starts the revision (which may contain `/`).
        let base = source.firstIndex(of: "@").map { String(source[..<$0]) } ?? source
        return base + "@" + commit
    }

    /// `source` at `commit`, short, for progress messages: `<repo>@<7 hex>` for Hugging Face
    /// (no scheme), `s3://<bucket>[/<prefix>]@<7 hex>`, `oci://<registry>/<repository>@sha256:<7 hex>`.
    static func short(_ source: String, at commit: String) -> String {
        if source.hasPrefix("s3://") { return "\(source)@\(commit.prefix(7))" }
        if source.hasPrefix("oci://") { return "\(OCISource.repositoryPart(of: source))@\(commit.prefix(14))" }
        if source.hasPrefix("pvc://") { return source }
        let repo = source.dropFirst(source.hasPrefix("hf://") ? 5 : 0)
        let base = repo.firstIndex(of: "@").map { repo[..<$0] } ?? repo
        return "\(base)@\(commit.prefix(7))"
    }

    /// Whether `s` is `sha256:` and 64 lowercase hex digits.
    public static func isDigest<S: StringProtocol>(_ s: S) -> Bool {
        s.hasPrefix("sha256:") && isHex(s.dropFirst(7), count: 64)
    }

    /// Whether `s` is exactly `count` lowercase hex digits.
    static func isHex<S: StringProtocol>(_ s: S, count: Int) -> Bool {
        let b = s.utf8
        return b.count == count
            && b.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }
}
