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
    if s.utf8.count <= echoLimit,
        s.utf8.withContiguousStorageIfAvailable({ bytes in
            !bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }
        }) == true
    {
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
