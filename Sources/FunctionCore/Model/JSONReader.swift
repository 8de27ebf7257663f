/// A small, strict JSON reader into `Value`, for the few JSON texts a cluster
/// writes that the function reads (a hydration report). FunctionCore imports no
/// Foundation; the texts are bounded by the caller (a few KiB), and nesting is
/// bounded here, so a hostile text costs at most its length.
enum JSONReader {
    /// The deepest nesting read; anything deeper is refused.
    static let maxDepth = 8

    /// The value `text` holds, or nil when it is not one JSON value (trailing bytes,
    /// bad escapes, unpaired surrogates, nesting deeper than `maxDepth` and an object
    /// that repeats a key are refused: readers disagree on which repeat wins).
    static func parse(_ text: String) -> Value? {
        var copy = text
        return copy.withUTF8 { bytes in
            var reader = Cursor(bytes: bytes)
            guard let value = reader.value(depth: 0) else { return nil }
            reader.skipSpace()
            return reader.index == bytes.count ? value : nil
        }
    }

    /// Reads one value at a time over UTF-8 bytes.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { index += 1 }
        }

        mutating func literal(_ word: StaticString, _ value: Value) -> Value? {
            let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard index + w.count <= bytes.count, bytes[index..<index + w.count].elementsEqual(w) else { return nil }
            index += w.count
            return value
        }

        mutating func value(depth: Int) -> Value? {
            skipSpace()
            guard let b = peek, depth <= JSONReader.maxDepth else { return nil }
            switch b {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return list(depth: depth)
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Value? {
            index += 1
            var fields: [(String, Value)] = []
            skipSpace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return .object(Fields())
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let v = value(depth: depth + 1) else { return nil }
                fields.append((key, v))
                skipSpace()
                guard let b = peek else { return nil }
                index += 1
                if b == UInt8(ascii: "}") { return Self.distinct(fields) }
                guard b == UInt8(ascii: ",") else { return nil }
            }
        }

        /// The object of `pairs`, or nil when a key repeats.
        static func distinct(_ pairs: [(String, Value)]) -> Value? {
            let fields = Fields(lastWins: pairs)
            return fields.count == pairs.count ? .object(fields) : nil
        }

        mutating func list(depth: Int) -> Value? {
            index += 1
            var items: [Value] = []
            skipSpace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return .list(items)
            }
            while true {
                guard let v = value(depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace()
                guard let b = peek else { return nil }
                index += 1
                if b == UInt8(ascii: "]") { return .list(items) }
                guard b == UInt8(ascii: ",") else { return nil }
            }
        }

        /// A number: an integer when it has no fraction or exponent and fits, a double otherwise.
        mutating func number() -> Value? {
            let start = index
            while let b = peek,
                (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
            {
                index += 1
            }
            guard index > start else { return nil }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if let i = Int64(text) { return .int(i) }
            guard let d = Double(text), d.isFinite else { return nil }
            return .double(d)
        }

        /// A string literal, the cursor on its opening quote.
        mutating func string() -> String? {
            index += 1
            var scalars = String.UnicodeScalarView()
            var runStart = index
            while let b = peek {
                if b == UInt8(ascii: "\"") {
                    scalars.append(contentsOf: String(decoding: bytes[runStart..<index], as: UTF8.self).unicodeScalars)
                    index += 1
                    return String(scalars)
                }
                if b < 0x20 { return nil }
                guard b == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                scalars.append(contentsOf: String(decoding: bytes[runStart..<index], as: UTF8.self).unicodeScalars)
                index += 1
                guard let escaped = escape() else { return nil }
                scalars.append(escaped)
                runStart = index
            }
            return nil
        }

        /// The scalar of an escape, the cursor after its backslash.
        mutating func escape() -> Unicode.Scalar? {
            guard let b = peek else { return nil }
            index += 1
            switch b {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                guard let high = hex4() else { return nil }
                guard (0xD800...0xDBFF).contains(high) else { return Unicode.Scalar(high) }
                guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                else { return nil }
                index += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            default: return nil
            }
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
                index += 1
            }
            return v
        }
    }
}
