/// The platform's `hydration.allowedSources` (sources.md §1): identity prefixes such as
/// `s3://models-bucket/` or `oci://registry.internal/models/`. A prefix matches whole path
/// segments: an identity equal to it, or one that continues it after a `/` (the prefix's
/// last character or the identity's next one), or after the `@` of a revision or digest, or,
/// within an OCI repository, after the `:` of a tag. `s3://models-bucket/` and
/// `s3://models-bucket` both match `s3://models-bucket/x`, never `s3://models-bucket2`;
/// `oci://registry.internal` never matches `oci://registry.internal:5000/...`. Matching is
/// byte for byte (a Hugging Face id differing in case is refused: the check fails closed).
public enum SourcePrefix {
    /// The schemes of the four kinds' identities.
    public static let schemes = ["hf://", "s3://", "oci://", "pvc://"]

    /// The rule an entry states.
    public static let rule =
        "must be a source identity prefix: hf://, s3://, oci:// or pvc:// followed by at least one character, at "
        + "most 1024 characters without spaces or control characters, such as s3://models-bucket/ or "
        + "oci://registry.internal/models/"

    /// Why `s` is not an identity prefix, or nil.
    public static func problem(_ s: String) -> String? {
        guard let scheme = schemes.first(where: { s.hasPrefix($0) }), s.utf8.count > scheme.utf8.count,
            s.utf8.count <= 1024, !s.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "$") })
        else { return rule }
        return nil
    }

    /// Whether `prefix` matches `identity` on whole path segments.
    public static func matches(_ prefix: String, _ identity: String) -> Bool {
        // `s3://models-bucket/` covers the whole bucket, whose identity is `s3://models-bucket`.
        guard identity.hasPrefix(prefix) else {
            return prefix.utf8.count == identity.utf8.count + 1 && prefix.hasPrefix(identity)
                && prefix.utf8.last == UInt8(ascii: "/")
        }
        let rest = identity.utf8.dropFirst(prefix.utf8.count)
        guard let next = rest.first, prefix.utf8.last != UInt8(ascii: "/") else { return true }
        if next == UInt8(ascii: "/") || next == UInt8(ascii: "@") { return true }
        // A tag's `:` follows the repository, never the registry's host (`host:port`).
        return next == UInt8(ascii: ":") && prefix.hasPrefix("oci://") && prefix.dropFirst(6).contains("/")
    }

    /// Whether `identity` is allowed by `allowed` (nil allows everything; an empty list nothing).
    public static func allows(_ allowed: [String]?, _ identity: String) -> Bool {
        guard let allowed else { return true }
        return allowed.contains { matches($0, identity) }
    }
}
