import Crypto

/// The name of an object the function creates on a workload cluster.
///
/// Joins `parts` with `-`, cuts the result to 57 characters, strips trailing
/// `-`, and appends `-` plus the first 5 hex digits of the SHA-256 of the whole
/// joined string, so names stay unique after the cut and never exceed 63
/// characters (a DNS label). ModelCache and ModelReplica both name claims
/// through this one function; that is what lets a replica find a cache's claim.
public func childName(_ parts: String...) -> String {
    childName(parts)
}

/// `childName` for a list of parts.
public func childName(_ parts: [String]) -> String {
    let joined = parts.joined(separator: "-")
    let digest = SHA256.hash(data: Array(joined.utf8))
    let hash = digest.prefix(3).map { byte in
        let hex = String(byte, radix: 16)
        return hex.count == 1 ? "0" + hex : hex
    }.joined().prefix(5)
    var base = Substring(joined.utf8.count > 57 ? String(decoding: joined.utf8.prefix(57), as: UTF8.self) : joined)
    while base.hasSuffix("-") { base = base.dropLast() }
    return "\(base)-\(hash)"
}

/// The first `length` hex digits of the SHA-256 of `text`.
public func shortDigest(_ text: String, length: Int = 8) -> String {
    let digest = SHA256.hash(data: Array(text.utf8))
    return String(digest.map { byte in
        let hex = String(byte, radix: 16)
        return hex.count == 1 ? "0" + hex : hex
    }.joined().prefix(length))
}
