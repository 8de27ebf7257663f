/// A cursor over protobuf bytes: the primitives the request decoder and the
/// deferred-object decoder share. Each rule follows swift-protobuf's binary
/// decoder (the reference the tests compare against): tags of at most five
/// bytes, field numbers 1…2^29−1, varints of at most ten bytes, groups skipped
/// to their matching end tag, strings checked as UTF-8.
struct WireReader {
    /// Why bytes could not be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Nested messages allowed. A level of JSON-like nesting costs three (map
    /// entry, Value, Struct), so this admits about 100 levels of objects and
    /// bounds the recursion on gRPC's threads. (swift-protobuf's default limit
    /// counts 100 messages of every kind, so it refuses from about 33 levels:
    /// the one difference between the decoders, allowed for in the differential
    /// tests.)
    static let maxDepth = 310

    /// The bytes.
    let base: UnsafePointer<UInt8>
    /// The cursor.
    var pos: Int
    /// Where the message at hand ends.
    let end: Int
    /// How many messages enclose the one at hand.
    var depth: Int

    /// A reader of `base[start..<end]`, at nesting `depth`.
    init(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, depth: Int = 0) {
        self.base = base
        self.pos = start
        self.end = end
        self.depth = depth
    }

    /// A failure that says where in the body it happened.
    func failure(_ what: String) -> Failure {
        Failure(description: "\(what) at byte \(pos)")
    }

    /// Whether the message at hand has more fields.
    @inline(__always)
    var hasMore: Bool { pos < end }

    /// Runs `body` on the length-delimited message at the cursor, then moves past it.
    @inline(__always)
    mutating func nested<T>(_ body: (inout WireReader) throws -> T) throws -> T {
        let stop = try lengthLimit()
        guard depth < Self.maxDepth else { throw failure("messages nest deeper than \(Self.maxDepth) levels") }
        var inner = WireReader(base, pos, stop, depth: depth + 1)
        let result = try body(&inner)
        pos = stop
        return result
    }

    /// The body of the length-delimited message at the cursor, which moves past it.
    @inline(__always)
    mutating func messageBody() throws -> MessageBody {
        let stop = try lengthLimit()
        guard depth < Self.maxDepth else { throw failure("messages nest deeper than \(Self.maxDepth) levels") }
        defer { pos = stop }
        return MessageBody(start: pos, end: stop, depth: depth + 1)
    }

    /// Reads a length and returns where the delimited bytes end.
    @inline(__always)
    mutating func lengthLimit() throws -> Int {
        let n = try varint()
        guard n <= UInt64(end - pos) else { throw failure("truncated message") }
        return pos + Int(n)
    }

    /// The next field's number and wire type.
    @inline(__always)
    mutating func tag() throws -> (field: Int, wire: Int) {
        if pos < end, base[pos] < 0x80 {
            let t = Int(base[pos])
            pos += 1
            guard t >= 8, t & 7 <= 5 else { throw failure(t < 8 ? "invalid field number" : "invalid wire type") }
            return (t >> 3, t & 7)
        }
        return try longTag()
    }

    private mutating func longTag() throws -> (field: Int, wire: Int) {
        // As swift-protobuf: five bytes at most, the fifth below 16 (field numbers fit 29 bits).
        var t = 0
        for i in 0..<5 {
            guard pos < end else { throw failure("truncated tag") }
            let b = Int(base[pos])
            pos += 1
            if i == 4 && b > 15 { throw failure("invalid field number") }
            t |= (b & 0x7F) << (7 * i)
            if b < 0x80 { break }
        }
        guard t >= 8, t & 7 <= 5 else { throw failure(t < 8 ? "invalid field number" : "invalid wire type") }
        return (t >> 3, t & 7)
    }

    /// A varint.
    @inline(__always)
    mutating func varint() throws -> UInt64 {
        // Most lengths and values are one byte.
        if pos < end, base[pos] < 0x80 {
            pos += 1
            return UInt64(base[pos - 1])
        }
        return try longVarint()
    }

    private mutating func longVarint() throws -> UInt64 {
        // Ten bytes at most; bits beyond the 64th are dropped (as swift-protobuf and C++ do).
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while pos < end {
            let b = base[pos]
            pos += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw failure("malformed varint") }
        }
        throw failure("truncated varint")
    }

    /// A little-endian fixed64.
    mutating func fixed64() throws -> UInt64 {
        guard end - pos >= 8 else { throw failure("truncated fixed64") }
        let v = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
        pos += 8
        return UInt64(littleEndian: v)
    }

    /// A string field, checked as UTF-8.
    mutating func string() throws -> String {
        let stop = try lengthLimit()
        let buffer = UnsafeBufferPointer(start: base + pos, count: stop - pos)
        pos = stop
        guard Self.isValidUTF8(buffer) else { throw failure("a string field is not valid UTF-8") }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Whether `b` is valid UTF-8, by the same parser swift-protobuf uses; ASCII,
    /// almost all of a Kubernetes object, is checked eight bytes at a time.
    static func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = b.baseAddress else { return true }
        let raw = UnsafeRawPointer(start)
        let n = b.count
        let high: UInt64 = 0x8080_8080_8080_8080
        var bits: UInt64
        if n >= 8 {
            // Eight bytes at a time; the last eight (overlapping) cover the tail.
            var i = 0
            bits = 0
            while i + 8 <= n {
                bits |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i += 8
            }
            bits |= raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            bits = UInt64(
                raw.loadUnaligned(as: UInt32.self) | raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else if n >= 2 {
            bits = UInt64(
                raw.loadUnaligned(as: UInt16.self) | raw.loadUnaligned(fromByteOffset: n - 2, as: UInt16.self))
        } else {
            bits = n == 1 ? UInt64(start[0]) : 0
        }
        return bits & high == 0 || parsesAsUTF8(b)
    }

    private static func parsesAsUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = b.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .error: return false
            case .emptyInput: return true
            }
        }
    }

    /// Moves past a field of a map entry (its tag already read). A key or value
    /// of the wrong wire type moves past its tag only: swift-protobuf (the
    /// reference) then reads the field's body as further fields of the entry,
    /// and so do these decoders, so that both read every request alike.
    @inline(__always)
    mutating func skipInMapEntry(_ wire: Int, field: Int) throws {
        if field == WireContract.MapEntry.key || field == WireContract.MapEntry.value, wire != 2, wire != 4 { return }
        try skip(wire, field: field)
    }

    /// Moves past a field of wire type `wire` (its tag already read).
    mutating func skip(_ wire: Int, field: Int, groupDepth: Int = 0) throws {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard end - pos >= 8 else { throw failure("truncated fixed64") }
            pos += 8
        case 2: pos = try lengthLimit()
        case 3:
            // A (deprecated) group in an unknown field: skip to its own end-group tag.
            guard depth + groupDepth < Self.maxDepth else { throw failure("groups nest too deep") }
            while true {
                let (f, w) = try tag()
                if w == 4 {
                    guard f == field else { throw failure("mismatched end-group tag") }
                    return
                }
                try skip(w, field: f, groupDepth: groupDepth + 1)
            }
        case 5:
            guard end - pos >= 4 else { throw failure("truncated fixed32") }
            pos += 4
        default: throw failure("end-group tag outside a group")
        }
    }
}
