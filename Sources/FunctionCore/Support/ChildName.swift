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
    let hash = shortDigest(joined, length: 5)
    var base = Substring(joined.utf8.count > 57 ? String(decoding: joined.utf8.prefix(57), as: UTF8.self) : joined)
    while base.hasSuffix("-") { base = base.dropLast() }
    return "\(base)-\(hash)"
}

/// The first `length` hex digits of the SHA-256 of `text`.
public func shortDigest(_ text: String, length: Int = 8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(length)
    for byte in SHA256.hash(data: Array(text.utf8)) where out.count < length {
        out.append(digits[Int(byte >> 4)])
        if out.count < length { out.append(digits[Int(byte & 0x0F)]) }
    }
    return String(decoding: out, as: UTF8.self)
}
