import FunctionCore

/// How plain (unquoted) scalars resolve: the YAML 1.2 core schema.
///
/// `null`, `~` and the empty scalar are null; `true`/`false` (three spellings
/// each) are booleans; decimal, `0o` octal and `0x` hex are integers; decimal
/// and exponent forms, `.inf` and `.nan` are floats; everything else, and every
/// quoted scalar, is a string. (So `yes`, `on` and `0777` stay strings, unlike
/// YAML 1.1.)
public enum CoreSchema {
    /// The value a plain scalar denotes.
    public static func resolve(_ s: String) -> Value {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let b = Array(s.utf8)
        if isDecimalInteger(b), let i = Int64(s) { return .int(i) }
        if b.count > 2, b[0] == UInt8(ascii: "0"), b[1] == UInt8(ascii: "o"),
            let i = Int64(String(decoding: b[2...], as: UTF8.self), radix: 8)
        {
            return .int(i)
        }
        if b.count > 2, b[0] == UInt8(ascii: "0"), b[1] == UInt8(ascii: "x"),
            let i = Int64(String(decoding: b[2...], as: UTF8.self), radix: 16)
        {
            return .int(i)
        }
        if isFloat(b), let d = Double(s) { return .double(d) }
        return .string(s)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// `[-+]?[0-9]+`
    private static func isDecimalInteger(_ b: [UInt8]) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        return i < b.count && b[i...].allSatisfy(isDigit)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ b: [UInt8]) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        var mantissaDigits = 0
        while i < b.count, isDigit(b[i]) {
            i += 1
            mantissaDigits += 1
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, isDigit(b[i]) {
                i += 1
                mantissaDigits += 1
            }
        }
        guard mantissaDigits > 0 else { return false }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        return i == b.count
    }
}
