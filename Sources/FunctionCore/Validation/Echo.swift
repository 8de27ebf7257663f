/// The most Unicode scalars of a string a cluster wrote that the function
/// passes on (lifecycle.md §7 rule 8).
public let echoLimit = 1024

/// A string a cluster wrote (a Job's condition reason or message, a hydration
/// report, any string read back from observed status), made safe to pass on
/// in a result, an event or status: control characters (C0, DEL and C1) are
/// escaped as `\n`, `\t`, `\r` or `\u{…}`, and at most `echoLimit` Unicode
/// scalars are kept, `...` marking the cut. Counting scalars, not characters,
/// bounds a string of one base and a million combining marks too. Plain text
/// comes back unchanged, so a well-behaved cluster's messages read as written.
public func echo(_ s: String) -> String {
    // The usual case first, byte by byte: at most `echoLimit` UTF-8 bytes (so at most as many
    // scalars) and no byte of a control character (C0, DEL, or the 0xC2 lead of C1 and of
    // U+00A0–U+00BF, which the full check below tells apart). Counting scalars costs more.
    if s.utf8.count <= echoLimit, s.utf8.withContiguousStorageIfAvailable(isPlainASCII) == true {
        return s
    }
    let scalars = s.unicodeScalars
    if scalars.count <= echoLimit, !scalars.contains(where: isControl) { return s }
    var shown = String.UnicodeScalarView()
    var count = 0
    for scalar in scalars {
        let escaped = isControl(scalar) ? escape(scalar) : String(scalar)
        let width = escaped.unicodeScalars.count
        // Room for the cut mark: stop before a piece that would not leave it.
        if count + width > echoLimit - 3 {
            shown.append(contentsOf: "...".unicodeScalars)
            return String(shown)
        }
        shown.append(contentsOf: escaped.unicodeScalars)
        count += width
    }
    return String(shown)
}

/// Whether `bytes` are printable ASCII (no control character, DEL or non-ASCII
/// byte), read eight at a time: this runs for every string read back from
/// status, on every cluster.
private func isPlainASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    // A byte of `w` is below 0x20, or 0x7F, or at least 0x80: each test sets that byte's high bit.
    func clean(_ w: UInt64) -> Bool {
        let below20 = (w &- ones &* 0x20) & ~w
        let del = (w ^ (ones &* 0x7F)) &- ones & ~(w ^ (ones &* 0x7F))
        return (below20 | del | w) & highs == 0
    }
    let raw = UnsafeRawBufferPointer(bytes)
    var i = 0
    while i + 8 <= raw.count {
        if !clean(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
        i += 8
    }
    while i < raw.count {
        let b = raw[i]
        if b < 0x20 || b >= 0x7F { return false }
        i += 1
    }
    return true
}

/// Whether `scalar` is a control character (C0, DEL or C1).
private func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
}

/// The escaped spelling of a control character.
private func escape(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\n": return "\\n"
    case "\t": return "\\t"
    case "\r": return "\\r"
    default: return "\\u{" + String(scalar.value, radix: 16) + "}"
    }
}
