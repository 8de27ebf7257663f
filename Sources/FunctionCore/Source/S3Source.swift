/// An `s3` source (sources.md §1): the keys under a prefix of an S3-compatible bucket.
public struct S3Source: Sendable, Hashable {
    /// The bucket.
    public var bucket: String
    /// The prefix naming a directory, without a trailing `/`; empty for the whole bucket.
    public var prefix: String
    /// The endpoint of an S3-compatible store (`AWS_ENDPOINT_URL`), if not AWS's own.
    public var endpoint: String?
    /// The region (`AWS_REGION`), if given.
    public var region: String?
    /// The Secret holding the keys, read on the workload cluster as `<namespace>.<name>`; nil means
    /// the platform's workload identity (`hydration.serviceAccount`).
    public var credentials: S3Credentials?

    /// `s3://<bucket>[/<prefix>]`: the user's `uri` with a trailing `/` removed.
    public var identity: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    /// The rule `uri` states.
    static let uriRule =
        "must be s3://<bucket>[/<prefix>]: a bucket name of 3 to 63 lowercase letters, digits, '.' and '-' "
        + "(starting and ending with a letter or digit, no '..', not an IP address), and a prefix of at most 1024 "
        + "characters of letters, digits and !-_.*'() in segments separated by single '/', none of them '.' or '..'"
    /// The rule `region` states.
    static let regionRule = "must be 1 to 64 letters, digits, '-' or '_'"

    /// Parses `spec.artifact.source.s3` (at `field`); nil when anything is invalid (each error recorded).
    static func parse(_ s3: Value, _ field: String, _ v: inout Validator) -> S3Source? {
        var out: S3Source?
        if let uri = v.string(s3["uri"], "\(field).uri") {
            if let (bucket, prefix) = split(uri) {
                out = S3Source(bucket: bucket, prefix: prefix)
            } else {
                v.fail("\(field).uri", .string(uri), uriRule)
            }
        }
        if let endpoint = v.string(s3["endpoint"], "\(field).endpoint", required: false) {
            if let problem = HydrationRules.endpointProblem(endpoint) {
                v.fail("\(field).endpoint", .string(endpoint), problem)
                out = nil
            } else {
                out?.endpoint = endpoint
            }
        }
        if let region = v.string(s3["region"], "\(field).region", required: false) {
            if isRegion(region) {
                out?.region = region
            } else {
                v.fail("\(field).region", .string(region), regionRule)
                out = nil
            }
        }
        if let ref = v.object(s3["credentialsSecretRef"], "\(field).credentialsSecretRef", required: false) {
            let credentials = S3Credentials.parse(ref, "\(field).credentialsSecretRef", &v)
            if credentials == nil { return nil }
            out?.credentials = credentials
        }
        return out
    }

    /// The bucket and the prefix (trailing `/` removed) of `uri`, or nil when it breaks `uriRule`.
    static func split(_ uri: String) -> (bucket: String, prefix: String)? {
        guard uri.hasPrefix("s3://") else { return nil }
        let bucket = uri.dropFirst(5).prefix { $0 != "/" }
        var rest = uri.dropFirst(5 + bucket.count)
        guard isBucket(bucket) else { return nil }
        guard rest.count > 1 else { return (String(bucket), "") }  // `s3://b` or `s3://b/`
        rest = rest.dropFirst()
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard SafePath.isSafe(rest, extra: "!*'()", maxBytes: 1024) else { return nil }
        return (String(bucket), String(rest))
    }

    /// Whether `s` is an S3 bucket name (general purpose buckets' rules).
    static func isBucket<S: StringProtocol>(_ s: S) -> Bool {
        let b = Array(s.utf8)
        guard (3...63).contains(b.count), let first = b.first, let last = b.last,
            Rules.isLowerAlnum(first), Rules.isLowerAlnum(last), !s.contains(".."),
            b.allSatisfy({ Rules.isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else { return false }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let looksLikeIP = parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        return !looksLikeIP && !s.hasPrefix("xn--") && !s.hasPrefix("sthree-") && !s.hasSuffix("-s3alias")
            && !s.hasSuffix("--ol-s3")
    }

    /// Whether `s` is a region name: 1 to 64 letters, digits, `-` or `_`.
    static func isRegion(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy { Rules.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }
}

/// The keys of an `s3` source's `credentialsSecretRef`: which data keys of the Secret
/// `<namespace>.<name>` on the workload cluster hold what.
public struct S3Credentials: Sendable, Hashable {
    /// The Secret's name as the user gave it (the workload cluster's is `<namespace>.<name>`).
    public var name: String
    /// The key holding `AWS_ACCESS_KEY_ID`.
    public var accessKeyIdKey: String
    /// The key holding `AWS_SECRET_ACCESS_KEY`.
    public var secretAccessKeyKey: String
    /// The key holding `AWS_SESSION_TOKEN`, if any.
    public var sessionTokenKey: String?

    /// Parses `{name, accessKeyIdKey, secretAccessKeyKey, sessionTokenKey?}`; nil when anything is invalid.
    static func parse(_ ref: Value, _ field: String, _ v: inout Validator) -> S3Credentials? {
        let name = SourceSecret.name(ref["name"], "\(field).name", &v)
        let access = key(ref["accessKeyIdKey"], "\(field).accessKeyIdKey", required: true, &v)
        let secret = key(ref["secretAccessKeyKey"], "\(field).secretAccessKeyKey", required: true, &v)
        let session = key(ref["sessionTokenKey"], "\(field).sessionTokenKey", required: false, &v)
        guard let name, let access, let secret, session != nil || ref["sessionTokenKey"]?.isNull ?? true else {
            return nil
        }
        return S3Credentials(name: name, accessKeyIdKey: access, secretAccessKeyKey: secret, sessionTokenKey: session)
    }

    private static func key(_ value: Value?, _ field: String, required: Bool, _ v: inout Validator) -> String? {
        guard let key = v.string(value, field, required: required) else { return nil }
        guard Rules.isSecretKey(key) else {
            v.fail(field, .string(key), "is not a valid Secret key: use letters, digits, '-', '_', '.'")
            return nil
        }
        return key
    }
}
