import FunctionCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A `google.protobuf.Struct` body in the request bytes, read one level at a
/// time as the composers ask for fields.
///
/// On the first lookup the level is scanned once into an index of its map
/// entries (where each key and entry lies; nothing is allocated per entry);
/// each value is decoded the first time its key is asked for and remembered,
/// so walking the same path again costs a few comparisons. Nested objects
/// become deferred structs in turn.
///
/// The bytes are checked as they are read, by the rules `RequestDecoder`
/// applies up front in checking mode (lengths, wire types, UTF-8, nesting):
/// the first problem is recorded in the request's `DecodingReport`, the
/// malformed part reads as absent, and the caller refuses the request.
final class DeferredStruct: DeferredObject, @unchecked Sendable {
    /// The request the Struct is in.
    let bytes: RequestBytes
    /// Where the Struct's body starts.
    let start: Int
    /// Where it ends.
    let end: Int
    /// How many messages enclose the body (bounds nesting, as the decoder does).
    let depth: Int

    /// One map entry of the level.
    private struct Slot {
        /// The entry message's body.
        var entryStart: Int32
        var entryEnd: Int32
        /// Its (last) key field's bytes; an entry without a key has the empty key.
        var keyStart: Int32
        var keyCount: Int32
        /// The decoded value, once asked for.
        var value: Value?
    }

    /// The index and what was decoded, behind a pointer: reached through a
    /// `let`, it needs no exclusivity checks. Guarded by `lock`.
    private struct State {
        /// The level's entries in wire order; nil until the first lookup.
        var slots: UnsafeMutableBufferPointer<Slot>?
        /// Every field, once `fields()` ran.
        var decoded: Fields?
    }

    private let lock = SpinLock()
    private let state: UnsafeMutablePointer<State>
    private let decodedFlag = Atomic<Bool>(false)

    init(bytes: RequestBytes, start: Int, end: Int, depth: Int) {
        self.bytes = bytes
        self.start = start
        self.end = end
        self.depth = depth
        // malloc rather than `allocate`: this runs for every object read, and
        // `allocate` goes through posix_memalign.
        state = malloc(MemoryLayout<State>.stride)!.assumingMemoryBound(to: State.self)
        state.initialize(to: State())
    }

    deinit {
        if let slots = state.pointee.slots {
            slots.deinitialize()
            free(slots.baseAddress)
        }
        state.deinitialize(count: 1)
        free(state)
    }

    override var isDecoded: Bool { decodedFlag.load(ordering: .acquiring) }

    override func value(forKey key: String) -> Value? {
        var key = key
        return key.withUTF8 { key in
            lock.withLock {
                let slots = state.pointee.slots ?? index()
                // Of repeated keys, the last entry counts (protobuf map semantics).
                var i = slots.count
                while i > 0 {
                    i -= 1
                    guard Int(slots[i].keyCount) == key.count,
                        Self.equal(bytes.base + Int(slots[i].keyStart), key)
                    else { continue }
                    if let v = slots[i].value { return v }
                    let v = entryValue(Int(slots[i].entryStart), Int(slots[i].entryEnd))
                    slots[i].value = v
                    return v
                }
                return nil
            }
        }
    }

    override func fields() -> Fields {
        lock.withLock {
            if let decoded = state.pointee.decoded { return decoded }
            let slots = state.pointee.slots ?? index()
            var builder = Fields.Builder(adding: slots.count)
            for i in slots.indices {
                let v = slots[i].value ?? entryValue(Int(slots[i].entryStart), Int(slots[i].entryEnd))
                slots[i].value = v
                let key = UnsafeBufferPointer(start: bytes.base + Int(slots[i].keyStart), count: Int(slots[i].keyCount))
                builder.append(String(decoding: key, as: UTF8.self), v)
            }
            // Go and upb send map entries unordered: the builder sorts once, the last of a repeated key wins.
            let fields = builder.build()
            state.pointee.decoded = fields
            decodedFlag.store(true, ordering: .releasing)
            return fields
        }
    }

    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Scans the level into `state.slots`: where each map entry and its key
    /// lie. On malformed bytes, records the problem and keeps the entries before it.
    private func index() -> UnsafeMutableBufferPointer<Slot> {
        var capacity = 8
        var slots = malloc(capacity * MemoryLayout<Slot>.stride)!.assumingMemoryBound(to: Slot.self)
        var n = 0
        let base = bytes.base
        var r = WireReader(base, start, end, depth: depth)
        do {
            while r.pos < r.end {
                var entryStart = 0
                var keyStart = 0
                var keyCount = -1
                var stop = 0
                // The usual encoding, read inline: an entry field (tag 0x0A) with a
                // one-byte length, holding a key (0x0A) then a value (0x12), each
                // with a one-byte length. Anything else takes the general path.
                let p = r.pos
                if base[p] == 0x0A, p + 1 < r.end, base[p + 1] < 0x80, depth < WireReader.maxDepth {
                    entryStart = p + 2
                    stop = entryStart + Int(base[p + 1])
                    if stop <= r.end, entryStart + 2 <= stop, base[entryStart] == 0x0A, base[entryStart + 1] < 0x80 {
                        let k = entryStart + 2
                        let keyEnd = k + Int(base[entryStart + 1])
                        if keyEnd + 2 <= stop, base[keyEnd] == 0x12, base[keyEnd + 1] < 0x80,
                            keyEnd + 2 + Int(base[keyEnd + 1]) == stop
                        {
                            (keyStart, keyCount) = (k, keyEnd - k)
                        } else if keyEnd == stop {
                            (keyStart, keyCount) = (k, keyEnd - k)
                        }
                    }
                }
                if keyCount >= 0 {
                    guard WireReader.isValidUTF8(UnsafeBufferPointer(start: base + keyStart, count: keyCount)) else {
                        r.pos = keyStart
                        throw r.failure("a string field is not valid UTF-8")
                    }
                } else {
                    let (field, wire) = try r.tag()
                    guard field == WireContract.Struct.fields, wire == 2 else {
                        try r.skip(wire, field: field)
                        continue
                    }
                    stop = try r.lengthLimit()
                    guard depth < WireReader.maxDepth else {
                        throw r.failure("messages nest deeper than \(WireReader.maxDepth) levels")
                    }
                    entryStart = r.pos
                    (keyStart, keyCount) = try Self.key(of: WireReader(base, r.pos, stop, depth: depth + 1))
                }
                if n == capacity {
                    capacity *= 2
                    slots = realloc(slots, capacity * MemoryLayout<Slot>.stride)!.assumingMemoryBound(to: Slot.self)
                }
                (slots + n).initialize(
                    to: Slot(
                        entryStart: Int32(entryStart), entryEnd: Int32(stop), keyStart: Int32(keyStart),
                        keyCount: Int32(keyCount)))
                n += 1
                r.pos = stop
            }
        } catch {
            bytes.report.record("\(error)")
        }
        let indexed = UnsafeMutableBufferPointer(start: slots, count: n)
        state.pointee.slots = indexed
        return indexed
    }

    /// Where the (last) key of the map entry at hand lies, its framing and the
    /// key's UTF-8 checked; an entry without a key has the empty key.
    private static func key(of entry: WireReader) throws -> (start: Int, count: Int) {
        var entry = entry
        var key = (start: entry.pos, count: 0)
        while entry.pos < entry.end {
            let (f, w) = try entry.tag()
            if f == WireContract.MapEntry.key, w == 2 {
                let keyEnd = try entry.lengthLimit()
                guard
                    WireReader.isValidUTF8(
                        UnsafeBufferPointer(start: entry.base + entry.pos, count: keyEnd - entry.pos))
                else { throw entry.failure("a string field is not valid UTF-8") }
                key = (entry.pos, keyEnd - entry.pos)
                entry.pos = keyEnd
            } else if f == WireContract.MapEntry.value, w == 2 {
                // The value's own bytes are checked when it is read.
                entry.pos = try entry.lengthLimit()
            } else {
                try entry.skipInMapEntry(w, field: f)
            }
        }
        return key
    }

    /// The value of the map entry in `start..<end` (its `value` fields merged,
    /// protobuf's rule for a repeated message field); null without one, and on
    /// malformed bytes (recorded).
    private func entryValue(_ start: Int, _ end: Int) -> Value {
        var entry = WireReader(bytes.base, start, end, depth: depth + 1)
        var value: Value = .null
        do {
            while entry.pos < entry.end {
                let (f, w) = try entry.tag()
                if f == WireContract.MapEntry.value, w == 2 {
                    value = try entry.nested { try $0.value(bytes, merging: value) }
                } else if f == WireContract.MapEntry.key, w == 2 {
                    entry.pos = try entry.lengthLimit()
                } else {
                    try entry.skipInMapEntry(w, field: f)
                }
            }
        } catch {
            bytes.report.record("\(error)")
            return .null
        }
        return value
    }
}

/// A Struct field that appeared again: the later Struct's entries merge into
/// the earlier fields (protobuf's rule for a repeated message field).
final class MergedStruct: DeferredObject, @unchecked Sendable {
    /// The fields so far.
    let base: Fields
    /// The Struct that merges into them.
    let next: DeferredStruct
    private let merged = Mutex<Fields?>(nil)

    init(base: Fields, next: DeferredStruct) {
        self.base = base
        self.next = next
    }

    override var isDecoded: Bool { merged.withLock { $0 != nil } }

    /// The merged fields.
    override func fields() -> Fields {
        merged.withLock { merged in
            if let merged { return merged }
            var fields = Fields.Builder(base)
            for (k, v) in next.fields() { fields.append(k, v) }
            let m = fields.build()
            merged = m
            return m
        }
    }

    /// A later entry wins.
    override func value(forKey key: String) -> Value? {
        next.value(forKey: key) ?? base[key]
    }
}

extension WireReader {
    /// A google.protobuf.Value body, merged into `previous`: a oneof, whose
    /// last field wins, except that an object or list field following one of
    /// the same kind merges into it. Strings are checked as UTF-8 here; nested
    /// objects are deferred (and checked when read).
    mutating func value(_ bytes: RequestBytes, merging previous: Value) throws -> Value {
        typealias V = WireContract.Value
        var v = previous
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (V.nullValue, 0):
                _ = try varint()
                v = .null
            case (V.numberValue, 1): v = .number(Double(bitPattern: try fixed64()))
            case (V.stringValue, 2): v = .string(try string())
            case (V.boolValue, 0): v = .bool(try varint() != 0)
            case (V.structValue, 2):
                let stop = try lengthLimit()
                guard depth < Self.maxDepth else { throw failure("messages nest deeper than \(Self.maxDepth) levels") }
                let body = DeferredStruct(bytes: bytes, start: pos, end: stop, depth: depth + 1)
                pos = stop
                if case .object(let base) = v {
                    v = .object(Fields(deferred: MergedStruct(base: base, next: body)))
                } else {
                    v = .object(Fields(deferred: body))
                }
            case (V.listValue, 2):
                var items: [Value] = if case .list(let items) = v { items } else { [] }
                v = .null
                try nested { list in
                    while list.pos < list.end {
                        let (field, wire) = try list.tag()
                        if field == WireContract.ListValue.values, wire == 2 {
                            items.append(try list.nested { try $0.value(bytes, merging: .null) })
                        } else {
                            try list.skip(wire, field: field)
                        }
                    }
                }
                v = .list(items)
            default: try skip(wire, field: field)
            }
        }
        return v
    }
}

/// A lock for the short critical sections of a deferred object: an atomic
/// flag, yielding while another thread holds it (composers read one request
/// on one thread, so it is almost never contended; uncontended it costs two
/// atomic operations, where a futex-based mutex asks the kernel for the
/// thread's id).
struct SpinLock: ~Copyable {
    private let held = Atomic<Bool>(false)

    init() {}

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        while !held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            sched_yield()
        }
        defer { held.store(false, ordering: .releasing) }
        return try body()
    }
}
