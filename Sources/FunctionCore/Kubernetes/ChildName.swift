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
    let length = min(max(length, 0), 64)
    var text = text
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
        text.withUTF8 { SHA256.hash($0, into: digest) }
        return String(unsafeUninitializedCapacity: length) { out in
            for i in 0..<length {
                let byte = digest[i / 2]
                let nibble = i % 2 == 0 ? byte >> 4 : byte & 0x0F
                out[i] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            return length
        }
    }
}

/// The directory, at the claim's root, that holds one source identity's files:
/// `rev-` and the first 12 hex digits of the SHA-256 of the identity
/// (lifecycle.md §1). Hydration Jobs write only there; workloads mount it as
/// their `subPath`; Usages carry it as their `modelplane.ai/cache-revision` label.
public func revisionDirectory(_ identity: String) -> String {
    "rev-" + shortDigest(identity, length: 12)
}

/// `value` as a valid Kubernetes label value (at most 63 characters of
/// letters, digits, `-`, `_`, `.`, starting and ending with a letter or
/// digit). A value that already is one is returned unchanged; a longer one
/// (object names may have up to 253 characters) is cut to 57 characters and
/// given `-` and 5 hex digits of its SHA-256, so distinct names stay distinct.
/// Every label the function writes from a user's name, and every selector that
/// matches such a label, goes through this one function.
public func labelValue(_ value: String) -> String {
    if isLabelValue(value) { return value }
    let allowed = value.utf8.filter {
        isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
    }
    var base = Array(allowed.prefix(57))
    while let last = base.last, !isAlnum(last) { base.removeLast() }
    while let first = base.first, !isAlnum(first) { base.removeFirst() }
    let hash = shortDigest(value, length: 5)
    return base.isEmpty ? hash : String(decoding: base, as: UTF8.self) + "-" + hash
}

/// Whether `value` is a valid Kubernetes label value.
public func isLabelValue(_ value: String) -> Bool {
    let bytes = value.utf8
    if bytes.isEmpty { return true }
    guard bytes.count <= 63, let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else {
        return false
    }
    return bytes.allSatisfy {
        isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
    }
}

@inline(__always) private func isAlnum(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
}
