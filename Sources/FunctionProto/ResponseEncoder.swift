import FunctionCore
import Synchronization
import struct FoundationEssentials.Data

/// Encodes a `RunResponse` straight to protobuf bytes, in one linear pass.
///
/// Why not swift-protobuf's serializer: for nested messages it computes each
/// child's size again at every level, so a Kubernetes manifest (a Struct nested
/// some twenty messages deep) cost about 400 µs per object — 80 ms for 100
/// clusters (measured with perf). This writer encodes back to front, so every
/// length is known when its prefix is written and every byte is written once.
/// Map keys are sorted by UTF-8 bytes, as swift-protobuf's deterministic mode
/// does; tests check that the bytes equal swift-protobuf's own deterministic
/// encoding of the same message.
/// The size of the last response encoded, shared by all calls.
private let sizeHint = Atomic<Int>(0)

struct ResponseEncoder {
    /// The message, filled from its end towards its start.
    private let buf: BackwardBuffer
    /// Where each object's Struct body was written, by storage identity. The
    /// composers share one manifest (a Job, a claim, labels) across every
    /// cluster's Object; its bytes are then written once and copied.
    private var written = IdentityTable()
    /// Objects with fewer fields are cheaper to encode than to look up.
    private static let sharedMinimumFields = 2

    static func encode(_ r: RunResponse) -> EncodedMessage {
        // Start at the size of the last response (Crossplane calls again and again
        // with much the same request): no regrowth, no copies of what is written.
        // Only the pages written are touched, so a generous block costs little.
        let hint = sizeHint.load(ordering: .relaxed)
        var e = ResponseEncoder(buf: BackwardBuffer(capacity: max(16 * 1024, hint + hint / 8)))
        e.response(r)
        let message = e.buf.finish()
        sizeHint.store(message.count, ordering: .relaxed)
        return message
    }

    // Fields are written in descending field-number order (so they read
    // ascending); a nested message is its body, then `close(mark, field)`.
    private mutating func response(_ r: RunResponse) {
        if let output = r.output { let m = mark(); structFields(output); close(m, 7) }
        for c in r.conditions.reversed() { let m = mark(); condition(c); close(m, 6) }
        if let req = r.requirements { let m = mark(); requirements(req); close(m, 5) }
        if let context = r.context { let m = mark(); structFields(context); close(m, 4) }
        for res in r.results.reversed() { let m = mark(); result(res); close(m, 3) }
        var m = mark()
        state(r.desired)
        close(m, 2)
        m = mark()
        if let ttl = r.ttlSeconds {
            let t = mark()
            int64(1, ttl)
            close(t, 2)
        }
        string(1, r.tag)
        close(m, 1)
    }

    private mutating func state(_ s: State) {
        for key in sortedKeys(s.resources).reversed() {
            let entry = mark()
            let m = mark()
            resource(s.resources[key]!)
            close(m, 2)
            string(1, key, always: true)
            close(entry, 2)
        }
        if let composite = s.composite {
            let m = mark()
            resource(composite)
            close(m, 1)
        }
    }

    private mutating func resource(_ r: Resource) {
        switch r.ready {
        case .unspecified: break
        case .ready: enumField(3, 1)
        case .notReady: enumField(3, 2)
        }
        for key in sortedKeys(r.connectionDetails).reversed() {
            let entry = mark()
            bytes(2, r.connectionDetails[key]!)
            string(1, key, always: true)
            close(entry, 2)
        }
        let m = mark()
        structFields(r.object)
        close(m, 1)
    }

    private mutating func result(_ r: FunctionResult) {
        if let target = r.target { enumField(4, target.number, always: true) }
        if let reason = r.reason { string(3, reason, always: true) }
        string(2, r.message)
        switch r.severity {
        case .fatal: enumField(1, 1)
        case .warning: enumField(1, 2)
        case .normal: enumField(1, 3)
        }
    }

    private mutating func condition(_ c: Condition) {
        if let target = c.target { enumField(5, target.number, always: true) }
        if let message = c.message { string(4, message, always: true) }
        string(3, c.reason)
        switch c.status {
        case .unknown: enumField(2, 1)
        case .true: enumField(2, 2)
        case .false: enumField(2, 3)
        }
        string(1, c.type)
    }

    private mutating func requirements(_ r: Requirements) {
        for key in sortedKeys(r.schemas).reversed() {
            let sel = r.schemas[key]!
            let entry = mark()
            let m = mark()
            string(2, sel.kind)
            string(1, sel.apiVersion)
            close(m, 2)
            string(1, key, always: true)
            close(entry, 3)
        }
        for key in sortedKeys(r.resources).reversed() {
            let entry = mark()
            let m = mark()
            selector(r.resources[key]!)
            close(m, 2)
            string(1, key, always: true)
            close(entry, 2)
        }
    }

    private mutating func selector(_ s: ResourceSelector) {
        if let ns = s.namespace { string(5, ns, always: true) }
        switch s.match {
        case .labels(let labels):
            let m = mark()
            for key in sortedKeys(labels).reversed() {
                let entry = mark()
                string(2, labels[key]!, always: true)
                string(1, key, always: true)
                close(entry, 1)
            }
            close(m, 4)
        case .name(let name): string(3, name, always: true)
        }
        string(2, s.kind)
        string(1, s.apiVersion)
    }

    // MARK: google.protobuf.Struct and Value

    /// The fields of a Struct (a non-object encodes as an empty Struct).
    private mutating func structFields(_ v: Value) {
        guard case .object(let fields) = v else { return }
        guard fields.count >= Self.sharedMinimumFields, let id = fields.storageIdentity else {
            return fieldEntries(fields)
        }
        // The response is alive and unchanged while it is encoded, so an
        // identity seen before is the same fields: copy their bytes.
        if let seen = written.find(id) {
            buf.prependCopy(writtenAt: seen.mark, count: seen.count)
            return
        }
        let m = mark()
        fieldEntries(fields)
        written.insert(id, mark: m, count: buf.count - m)
    }

    /// The map entries of a Struct; `Fields` are sorted, so they are written in reverse.
    private mutating func fieldEntries(_ fields: Fields) {
        fields.forEachReversed { key, field in
            let entry = mark()
            let m = mark()
            value(field)
            close(m, 2)
            string(1, key, always: true)
            close(entry, 1)
        }
    }

    /// A google.protobuf.Value: a oneof, so its one field is written even when zero.
    private mutating func value(_ v: Value) {
        switch v {
        case .null: enumField(1, 0, always: true)
        case .double(let d): double(2, d)
        case .int(let i): double(2, Double(i))
        case .string(let s): string(3, s, always: true)
        case .bool(let b): enumField(4, b ? 1 : 0, always: true)
        case .object:
            let m = mark()
            structFields(v)
            close(m, 5)
        case .list(let items):
            let m = mark()
            for item in items.reversed() {
                let i = mark()
                value(item)
                close(i, 1)
            }
            close(m, 6)
        }
    }

    // MARK: primitives (each writes its bytes reversed)

    /// Where a nested message's body ends (it is written first).
    private func mark() -> Int { buf.count }

    /// Prefixes the body written since `mark` with its length and tag.
    @inline(__always)
    private mutating func close(_ mark: Int, _ field: Int) {
        buf.prependVarint(UInt64(buf.count - mark))
        tag(field, 2)
    }

    private mutating func string(_ field: Int, _ s: String, always: Bool = false) {
        if s.isEmpty && !always { return }
        var s = s
        let count = s.withUTF8 { utf8 in
            buf.prepend(utf8)
            return utf8.count
        }
        buf.prependVarint(UInt64(count))
        tag(field, 2)
    }

    private mutating func bytes(_ field: Int, _ d: Data) {
        d.withUnsafeBytes { buf.prepend(UnsafeBufferPointer(start: $0.bindMemory(to: UInt8.self).baseAddress, count: d.count)) }
        buf.prependVarint(UInt64(d.count))
        tag(field, 2)
    }

    private mutating func enumField(_ field: Int, _ n: Int, always: Bool = false) {
        if n == 0 && !always { return }
        buf.prependVarint(UInt64(bitPattern: Int64(n)))
        tag(field, 0)
    }

    private mutating func int64(_ field: Int, _ n: Int64) {
        if n == 0 { return }
        buf.prependVarint(UInt64(bitPattern: n))
        tag(field, 0)
    }

    private mutating func double(_ field: Int, _ d: Double) {
        var bits = d.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { buf.prepend(UnsafeBufferPointer(start: $0.bindMemory(to: UInt8.self).baseAddress, count: 8)) }
        tag(field, 1)
    }

    @inline(__always)
    private mutating func tag(_ field: Int, _ wireType: Int) {
        // Every field number here is below 16: its tag is one byte.
        buf.prependByte(UInt8(truncatingIfNeeded: field << 3 | wireType))
    }
}

extension Target {
    var number: Int {
        switch self {
        case .composite: return 1
        case .compositeAndClaim: return 2
        }
    }
}

/// The keys in UTF-8 byte order. Sorting 1,000s of resource names with
/// `utf8Less` alone is a tenth of the encoder's time; comparing their first 16
/// bytes as two integers settles almost every comparison, and `utf8Less`
/// breaks the remaining ties.
func sortedKeys<V>(_ map: [String: V]) -> [String] {
    var keyed: [(hi: UInt64, lo: UInt64, key: String)] = []
    keyed.reserveCapacity(map.count)
    for key in map.keys {
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        var i = 0
        for b in key.utf8 {
            if i < 8 { hi |= UInt64(b) << (56 - 8 * i) } else if i < 16 { lo |= UInt64(b) << (56 - 8 * (i - 8)) } else { break }
            i += 1
        }
        keyed.append((hi, lo, key))
    }
    keyed.sort { a, b in
        if a.hi != b.hi { return a.hi < b.hi }
        if a.lo != b.lo { return a.lo < b.lo }
        return utf8Less(a.key, b.key)
    }
    return keyed.map(\.key)
}
