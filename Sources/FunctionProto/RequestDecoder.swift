import FunctionCore
import struct FoundationEssentials.Data

/// Decodes a serialized RunFunctionRequest straight into the core model, in
/// one linear pass over the bytes.
///
/// Why not swift-protobuf: decoding into its `Google_Protobuf_Struct` and then
/// converting to `Value` took 38 ms for a 370 KB request (100 clusters, all
/// hydrating; measured with bench-core), most of it allocating and copying the
/// intermediate messages. This reader builds `Value`s directly. It follows
/// proto3 semantics (unknown fields skipped, last map entry wins, missing
/// fields take defaults, strings must be UTF-8) and bounds nesting (`maxDepth`);
/// tests and the fuzzer check that it reads every well-formed request as
/// swift-protobuf does.
struct RequestDecoder {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A failure that says where in the body it happened.
    private func failure(_ what: String) -> Failure {
        Failure(description: "\(what) at byte \(pos)")
    }

    /// Nested messages allowed. A level of JSON-like nesting costs three (map
    /// entry, Value, Struct), so this admits 100 levels of objects — as deep as
    /// swift-protobuf's default limit of 100 messages — and bounds the recursion
    /// on gRPC's threads.
    static let maxDepth = 310

    private let base: UnsafePointer<UInt8>
    private var pos: Int
    private let end: Int
    private var depth = 0
    /// Subtrees already decoded in this request, shared by every nested decoder.
    /// Unowned: `decode` holds it for the whole decoding, and a nested decoder
    /// is made per message, so counting references here would cost a retain
    /// and a release per message.
    private unowned(unsafe) let shared: SharedSubtrees

    private init(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, shared: SharedSubtrees) {
        self.base = base
        self.pos = start
        self.end = end
        self.shared = shared
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> RunRequest {
        guard let raw = bytes.baseAddress, bytes.count > 0 else { return RunRequest() }
        let shared = SharedSubtrees()
        return try withExtendedLifetime(shared) {
            var d = RequestDecoder(raw.assumingMemoryBound(to: UInt8.self), 0, bytes.count, shared: shared)
            return try d.request()
        }
    }

    // MARK: messages

    private mutating func request() throws -> RunRequest {
        var r = RunRequest()
        var extra: [String: [Resource]] = [:]
        var required: [String: [Resource]] = [:]
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 2): try nested { try $0.meta(into: &r) }
            case (2, 2): r.observed = try nested { try $0.state(merging: r.observed) }
            case (3, 2): r.desired = try nested { try $0.state(merging: r.desired) }
            case (4, 2): r.input = try nested { try $0.structFields(merging: r.input) }
            case (5, 2): r.context = try nested { try $0.structFields(merging: r.context) }
            case (6, 2): let (k, v) = try nested { try $0.resourcesEntry() }; extra[k] = v
            case (7, 2):
                // Credentials without credential_data carry nothing: dropped, as the wire conversion does.
                let (k, v) = try nested { try $0.credentialsEntry() }
                if let v { r.credentials[k] = v } else { r.credentials[k] = nil }
            case (8, 2): let (k, v) = try nested { try $0.resourcesEntry() }; required[k] = v
            default: try skip(wire)
            }
        }
        // Older Crossplane answers under the deprecated extra_resources; required wins.
        r.requiredResources = extra.merging(required) { _, new in new }
        return r
    }

    private mutating func meta(into r: inout RunRequest) throws {
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 2): r.tag = try string()
            case (2, 0): r.capabilities.append(Self.capability(try varint()))
            case (2, 2):
                // Packed repeated enum.
                let stop = try lengthLimit()
                while pos < stop { r.capabilities.append(Self.capability(try varint())) }
                guard pos == stop else { throw failure("malformed packed field") }
            default: try skip(wire)
            }
        }
    }

    private static func capability(_ n: UInt64) -> Capability {
        switch n {
        case 1: return .capabilities
        case 2: return .requiredResources
        case 3: return .credentials
        case 4: return .conditions
        case 5: return .requiredSchemas
        default: return .unknown(Int(truncatingIfNeeded: Int32(truncatingIfNeeded: n)))
        }
    }

    private mutating func state(merging previous: State) throws -> State {
        var s = previous
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 2): s.composite = try nested { try $0.resource(merging: s.composite) }
            case (2, 2):
                var value: Resource?
                let key = try nested { try $0.mapEntry { value = try $0.nested { try $0.resource(merging: value) } } }
                s.resources[key] = value ?? Resource(object: .object([:]))
            default: try skip(wire)
            }
        }
        return s
    }

    private mutating func resource(merging previous: Resource?) throws -> Resource {
        var r = previous ?? Resource(object: .object([:]))
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 2): r.object = try nested { try $0.structFields(merging: r.object) }
            case (2, 2):
                let (k, v) = try nested { try $0.bytesEntry() }
                r.connectionDetails[k] = v
            case (3, 0):
                switch try varint() {
                case 1: r.ready = .ready
                case 2: r.ready = .notReady
                default: r.ready = .unspecified
                }
            default: try skip(wire)
            }
        }
        return r
    }

    private mutating func resourcesEntry() throws -> (String, [Resource]) {
        var items: [Resource] = []
        // A map value message: fields of the same message merge, so items accumulate.
        let key = try mapEntry {
            try $0.nested { try $0.eachField1 { items.append(try $0.nested { try $0.resource(merging: nil) }) } }
        }
        return (key, items)
    }

    private mutating func credentialsEntry() throws -> (String, [String: Data]?) {
        var data: [String: Data]?
        let key = try mapEntry {
            try $0.nested {
                try $0.eachField1 {
                    if data == nil { data = [:] }
                    try $0.nested {
                        try $0.eachField1 {
                            let (k, v) = try $0.nested { try $0.bytesEntry() }
                            data?[k] = v
                        }
                    }
                }
            }
        }
        return (key, data)
    }

    private mutating func bytesEntry() throws -> (String, Data) {
        var value = Data()
        let key = try mapEntry { d in
            let n = try d.lengthLimit()
            value = Data(bytes: d.base + d.pos, count: n - d.pos)
            d.pos = n
        }
        return (key, value)
    }

    // MARK: google.protobuf.Struct / Value / ListValue

    private mutating func structFields(merging previous: Value?) throws -> Value {
        // Entries in wire order (Go and upb send map entries unordered), sorted once at the end.
        var fields = Fields.Builder(previous?.objectValue, adding: countEntries())
        while pos < end {
            let (field, wire) = try tag()
            guard field == 1, wire == 2 else {
                try skip(wire)
                continue
            }
            var value: Value = .null
            let key = try nested { try $0.mapEntry { value = try $0.nested { try $0.value() } } }
            fields.append(key, value)
        }
        return .object(fields.build())
    }

    private mutating func value() throws -> Value {
        // An empty Value has no kind set; proto3 JSON and Crossplane read it as null.
        var v: Value = .null
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 0): _ = try varint(); v = .null
            case (2, 1): v = .number(Double(bitPattern: try fixed64()))
            case (3, 2): v = .string(try string())
            case (4, 0): v = .bool(try varint() != 0)
            case (5, 2):
                // A repeated message field of the same oneof case merges, as in every protobuf runtime.
                if case .object = v {
                    let previous = v
                    v = try nested { try $0.structFields(merging: previous) }
                } else {
                    v = try sharedNested(kind: 5) { try $0.structFields(merging: nil) }
                }
            case (6, 2):
                let previous: [Value] = if case .list(let items) = v { items } else { [] }
                let read = { (d: inout RequestDecoder) throws -> Value in
                    var items = previous
                    try d.eachField1 { items.append(try $0.nested { try $0.value() }) }
                    return .list(items)
                }
                v = previous.isEmpty ? try sharedNested(kind: 6, read) : try nested(read)
            default: try skip(wire)
            }
        }
        return v
    }

    // MARK: wire primitives

    /// Reads a map entry at hand: returns its key (field 1) and hands each
    /// value field (2) to `value`, positioned at its length prefix.
    private mutating func mapEntry(_ value: (inout RequestDecoder) throws -> Void) throws -> String {
        var key = ""
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 2): key = try string()
            case (2, 2): try value(&self)
            default: try skip(wire)
            }
        }
        return key
    }

    /// Hands each length-delimited field 1 of the message at hand (a repeated
    /// message field) to `body`, positioned at its length prefix; skips the rest.
    private mutating func eachField1(_ body: (inout RequestDecoder) throws -> Void) throws {
        while pos < end {
            let (field, wire) = try tag()
            if field == 1, wire == 2 { try body(&self) } else { try skip(wire) }
        }
    }

    /// Runs `body` on the length-delimited message at the cursor, then moves past it.
    private mutating func nested<T>(_ body: (inout RequestDecoder) throws -> T) throws -> T {
        let stop = try lengthLimit()
        guard depth < Self.maxDepth else { throw failure("messages nest deeper than \(Self.maxDepth) levels") }
        var inner = RequestDecoder(base, pos, stop, shared: shared)
        inner.depth = depth + 1
        if inner.depth > shared.deepest { shared.deepest = inner.depth }
        let result = try body(&inner)
        pos = stop
        return result
    }

    /// `nested` for a Struct or ListValue body that may repeat byte for byte
    /// elsewhere in the request (the same manifest in every cluster's Object,
    /// the same conditions, labels, specs): equal bytes decode to equal values,
    /// so a repeat shares the first one's value instead of decoding again.
    /// Sharing saves time and, for big fleets, most of the decoded tree's memory.
    private mutating func sharedNested(kind: UInt8, _ body: (inout RequestDecoder) throws -> Value) throws -> Value {
        let start = pos
        let stop = try lengthLimit()
        let bodyStart = pos
        let length = stop - bodyStart
        guard length >= SharedSubtrees.minimumBytes, length <= SharedSubtrees.maximumBytes, depth < Self.maxDepth else {
            pos = start
            return try nested(body)
        }
        let key = SharedSubtrees.hash(base + bodyStart, length, kind: kind)
        if let hit = shared.find(key, base: base, start: bodyStart, length: length, kind: kind),
            depth + hit.height <= Self.maxDepth
        {
            pos = stop
            return hit.value
        }
        // Decode, measuring how deep the subtree goes below this level.
        let outer = shared.deepest
        shared.deepest = depth
        pos = start
        let value = try nested(body)
        let height = shared.deepest - depth
        shared.deepest = max(outer, shared.deepest)
        shared.insert(key, start: bodyStart, length: length, kind: kind, height: height, value: value)
        return value
    }

    /// Reads a length and returns where the delimited bytes end.
    @inline(__always)
    private mutating func lengthLimit() throws -> Int {
        let n = try varint()
        guard n <= UInt64(end - pos) else { throw failure("truncated message") }
        return pos + Int(n)
    }

    @inline(__always)
    private mutating func tag() throws -> (Int, Int) {
        let t = try varint()
        let field = t >> 3
        guard field > 0, field <= 536_870_911 else { throw failure("invalid field number") }
        return (Int(field), Int(t & 7))
    }

    @inline(__always)
    private mutating func varint() throws -> UInt64 {
        // Tags and most lengths are one byte.
        if pos < end, base[pos] < 0x80 {
            pos += 1
            return UInt64(base[pos - 1])
        }
        return try longVarint()
    }

    private mutating func longVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while pos < end {
            let b = base[pos]
            pos += 1
            if shift == 63 && b > 1 { throw failure("malformed varint") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw failure("malformed varint") }
        }
        throw failure("truncated varint")
    }

    private mutating func fixed64() throws -> UInt64 {
        guard end - pos >= 8 else { throw failure("truncated fixed64") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(base[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return v
    }

    private mutating func string() throws -> String {
        let stop = try lengthLimit()
        let buffer = UnsafeBufferPointer(start: base + pos, count: stop - pos)
        pos = stop
        // Kubernetes objects are almost all ASCII: skip the (generic, slow) validator for them.
        if Self.isASCII(buffer) { return String(decoding: buffer, as: UTF8.self) }
        guard let s = String(validating: buffer, as: UTF8.self) else {
            throw failure("a string field is not valid UTF-8")
        }
        return s
    }

    /// Whether every byte is below 0x80, eight bytes at a time.
    private static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= b.count {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < b.count {
            if base[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// How many map entries (field 1, length-delimited) the message at the cursor
    /// holds, without decoding them: lets a Struct's fields be allocated once.
    private func countEntries() -> Int {
        var probe = self
        var n = 0
        while probe.pos < probe.end {
            guard let (field, wire) = try? probe.tag(), (try? probe.skip(wire)) != nil else { break }
            if field == 1 && wire == 2 { n += 1 }
        }
        return n
    }

    private mutating func skip(_ wire: Int, groupDepth: Int = 0) throws {
        switch wire {
        case 3:
            // A (deprecated) group in an unknown field: skip to its end-group tag.
            guard groupDepth < Self.maxDepth else { throw failure("groups nest too deep") }
            while true {
                let (_, w) = try tag()
                if w == 4 { return }
                try skip(w, groupDepth: groupDepth + 1)
            }
        case 0: _ = try varint()
        case 1:
            guard end - pos >= 8 else { throw failure("truncated fixed64") }
            pos += 8
        case 2: pos = try lengthLimit()
        case 5:
            guard end - pos >= 4 else { throw failure("truncated fixed32") }
            pos += 4
        default: throw failure("unsupported wire type \(wire)")
        }
    }
}
