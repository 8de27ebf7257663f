/// Plain scalars that YAML 1.1 readers (Go's yaml.v2 behind `crossplane render`
/// and kubectl, PyYAML) read as something other than a string, although the
/// YAML 1.2 core schema reads them as strings. The emitter quotes them, as
/// Go's encoder does, so `"2024-01-01T00:00:00Z"` stays a string for every reader.
/// Deliberately broad: quoting a string that needed no quotes changes nothing.
public enum YAML11 {
    /// Whether a YAML 1.1 reader could read plain `s` as a non-string.
    public static func readsAsNonString(_ s: String) -> Bool {
        if booleans.contains(s) { return true }
        let b = Array(s.utf8)
        return isTimestampLike(b) || isNumberLike(b)
    }

    /// YAML 1.1 booleans (without the single letters `y` and `n`, which PyYAML reads as strings).
    static let booleans: Set<String> = ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"]

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// `YYYY-M-D` optionally followed by `T`, `t`, space or tab (the start of a time).
    static func isTimestampLike(_ b: [UInt8]) -> Bool {
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Bool {
            var n = 0
            while i < b.count, n < max, isDigit(b[i]) {
                i += 1
                n += 1
            }
            return n >= min
        }
        func dash() -> Bool {
            guard i < b.count, b[i] == UInt8(ascii: "-") else { return false }
            i += 1
            return true
        }
        guard digits(4, 4), dash(), digits(1, 2), dash(), digits(1, 2) else { return false }
        return i == b.count
            || [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " "), UInt8(ascii: "\t")].contains(b[i])
    }

    /// YAML 1.1 numbers the core schema does not know: digits with `_`, base 60
    /// (`1:20`), binary (`0b101`): anything of a sign, digits, `_`, `:` and `.`
    /// with at least one digit, or `0b` followed by binary digits.
    static func isNumberLike(_ b: [UInt8]) -> Bool {
        var rest = b[...]
        if let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        if rest.count > 2, rest.starts(with: Array("0b".utf8)),
            rest.dropFirst(2).allSatisfy({
                $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") || $0 == UInt8(ascii: "_")
            })
        {
            return true
        }
        let allowed = Set("0123456789_:.".utf8)
        return !rest.isEmpty && rest.allSatisfy(allowed.contains) && rest.contains(where: isDigit)
    }
}
