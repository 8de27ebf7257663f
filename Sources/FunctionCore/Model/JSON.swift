#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Canonical JSON for `Value`: keys sorted by UTF-8 bytes, no insignificant
/// white space, integers without a fraction. The same value always gives the
/// same bytes, which is what logs, goldens and tests compare.
extension Value {
    /// The canonical JSON text of this value.
    public func canonicalJSON() -> String {
        var out = ""
        Value.writeJSON(self, into: &out)
        return out
    }

    private static func writeJSON(_ value: Value, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            // JSON has no NaN or infinity; protobuf's Struct cannot carry them either.
            out += d.isFinite ? String(d) : "null"
        case .string(let s): writeJSONString(s, into: &out)
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                writeJSON(item, into: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (key, field)) in fields.enumerated() {
                if i > 0 { out += "," }
                writeJSONString(key, into: &out)
                out += ":"
                writeJSON(field, into: &out)
            }
            out += "}"
        }
    }

    /// Writes `s` as a JSON string literal.
    static func writeJSONString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// Whether two strings have the same UTF-8 bytes (Go's and protobuf's equality;
/// Swift's `==` also equates canonically equivalent strings).
public func utf8Equal(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y -> Bool in
            x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
        }
    }
    if let result = fast ?? nil { return result }
    return a.utf8.elementsEqual(b.utf8)
}

/// Orders strings by their UTF-8 bytes, the order Go and protobuf use for map keys.
/// (Not `<`: Swift compares by canonical equivalence, which is another order.)
public func utf8Less(_ a: String, _ b: String) -> Bool {
    // Native strings are contiguous UTF-8: compare with memcmp instead of element by element.
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y -> Bool in
            let n = min(x.count, y.count)
            if n > 0 {
                let c = memcmp(x.baseAddress!, y.baseAddress!, n)
                if c != 0 { return c < 0 }
            }
            return x.count < y.count
        }
    }
    if let result = fast ?? nil { return result }
    return a.utf8.lexicographicallyPrecedes(b.utf8)
}
