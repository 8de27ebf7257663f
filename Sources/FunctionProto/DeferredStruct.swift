import FunctionCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A `google.protobuf.Struct` body in the request bytes, read as the
/// composers ask for fields.
///
/// A lookup scans the level's bytes for its key (skipping every other value by
/// its length) and decodes only that value; a path (`value(forPath:)`) is
/// followed through the bytes level by level without building the objects
/// along it. Nested objects become deferred structs in turn. Iterating or
/// encoding the object decodes its level once, and later lookups use that.
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

    private let lock = SpinLock()
    /// Every field, once `fields()` ran; written once under `lock`, then `decodedFlag` is set.
    private var decoded: Fields?
    private let decodedFlag = Atomic<Bool>(false)

    init(bytes: RequestBytes, start: Int, end: Int, depth: Int) {
        self.bytes = bytes
        self.start = start
        self.end = end
        self.depth = depth
    }

    override var isDecoded: Bool { decodedFlag.load(ordering: .acquiring) }

    override func value(forKey key: String) -> Value? {
        // Decoded already (the object was iterated or encoded): look it up there.
        if decodedFlag.load(ordering: .acquiring), let decoded = lock.withLock({ decoded }) {
            return decoded[key]
        }
        // Otherwise scan the level's bytes for the key and decode only its value.
        // Measured against indexing a level and remembering its values: the
        // composers ask most objects one to three things, and a scan of a level
        // costs less than building and keeping an index (bench/instructions.sh).
        var key = key
        return key.withUTF8 { key in
            guard let entry = lastEntry(key: key, start: start, end: end, depth: depth) else { return nil }
            return value(of: entry, depth: depth)
        }
    }

    override func value(forPath keys: UnsafeBufferPointer<String>) -> Value? {
        if decodedFlag.load(ordering: .acquiring) {
            guard let v = value(forKey: keys[0]) else { return nil }
            return v.value(atPath: UnsafeBufferPointer(rebasing: keys.dropFirst()))
        }
        // The path is followed through the bytes: each level is scanned (and
        // checked) for its key, and no object is built until the last step, or
        // until a step is not one plain object (then the general reading takes over).
        var (start, end, depth) = (self.start, self.end, self.depth)
        var i = 0
        while true {
            var key = keys[i]
            let entry = key.withUTF8 { lastEntry(key: $0, start: start, end: end, depth: depth) }
            guard let entry else { return nil }
            if i == keys.count - 1 { return value(of: entry, depth: depth) }
            if let body = structBody(entry, depth: depth) {
                (start, end, depth) = body
                i += 1
                continue
            }
            let v = entryValue(entry.start, entry.end, depth: depth)
            return v.value(atPath: UnsafeBufferPointer(rebasing: keys[(i + 1)...]))
        }
    }

    /// The last map entry with key `key` of the Struct body `start..<end`, the
    /// level's framing checked (lengths, wire types, nesting); nil when there is
    /// none or the bytes are malformed (recorded). Other entries' keys are not
    /// checked as UTF-8 on the usual encoding: they are not read (`fields()` checks them).
    private func lastEntry(key: UnsafeBufferPointer<UInt8>, start: Int, end: Int, depth: Int) -> Entry? {
        var r = WireReader(bytes.base, start, end, depth: depth)
        var found: Entry?
        do {
            while r.pos < r.end {
                guard let e = try Self.nextEntry(&r, checkingKey: false) else { continue }
                if e.keyCount == key.count, Self.equal(bytes.base + e.keyStart, key) {
                    found = Entry(start: e.start, end: e.end, value: e.value)
                }
            }
        } catch {
            bytes.report.record("\(error)")
            return nil
        }
        return found
    }

    /// A map entry found in a level: its body, and where its one Value message
    /// body starts when it is exactly a key and a value (else -1).
    private struct Entry {
        var start: Int
        var end: Int
        var value: Int
    }

    /// The value of `entry` (of a Struct body at `depth`): a plain string read
    /// in place, anything else by `entryValue`.
    @inline(__always)
    private func value(of entry: Entry, depth: Int) -> Value {
        if entry.value >= 0, depth + 1 < WireReader.maxDepth,
            let s = soleField(ofValue: entry.value, entry.end, depth: depth + 2, field: WireContract.Value.stringValue),
            WireReader.isValidUTF8(UnsafeBufferPointer(start: bytes.base + s.start, count: s.end - s.start))
        {
            return .string(
                String(
                    decoding: UnsafeBufferPointer(start: bytes.base + s.start, count: s.end - s.start), as: UTF8.self))
        }
        return entryValue(entry.start, entry.end, depth: depth)
    }

    /// A length of one or two varint bytes at `p` (what the inline reading
    /// handles), moving `p` past it; nil for anything else. `p < limit` on entry.
    /// Offsets stay far below `Int.max`, so wrapping arithmetic never wraps.
    @inline(__always)
    private static func shortLength(_ base: UnsafePointer<UInt8>, _ p: inout Int, _ limit: Int) -> Int? {
        let b0 = Int(base[p])
        if b0 < 0x80 {
            p &+= 1
            return b0
        }
        guard p &+ 1 < limit, base[p &+ 1] < 0x80 else { return nil }
        let n = (b0 & 0x7F) | Int(base[p &+ 1]) &<< 7
        p &+= 2
        return n
    }

    /// Reads the field at the cursor of a Struct body: for a map entry, where it
    /// and its (last) key lie, its framing checked, and on the usual encoding
    /// its key's UTF-8 only with `checkingKey` (a scan for one key need not: a
    /// key equal to a valid one is valid, and the others are not read; the
    /// general path always checks); nil for another field (skipped). `value` is
    /// where the entry's one Value message body starts when the entry is exactly
    /// a key and a value (the usual encoding), else -1. Throws on malformed bytes.
    @inline(__always)
    private static func nextEntry(_ r: inout WireReader, checkingKey: Bool) throws -> (
        start: Int, end: Int, keyStart: Int, keyCount: Int, value: Int
    )? {
        let base = r.base
        let limit = r.end
        // The usual encoding, read inline: an entry field (tag 0x0A) holding a key
        // (0x0A) and then, filling the entry, a value (0x12), with lengths of one
        // or two bytes. Anything else takes the general path below.
        var p = r.pos &+ 1
        if base[r.pos] == 0x0A, p < limit, r.depth < WireReader.maxDepth,
            let n = shortLength(base, &p, limit), n >= 2, n <= limit &- p, base[p] == 0x0A
        {
            let entryStart = p
            let stop = p &+ n
            p &+= 1
            if let k = shortLength(base, &p, stop), k <= stop &- p {
                let keyStart = p
                p &+= k
                var whole = p == stop
                var value = -1
                if !whole, base[p] == 0x12 {
                    p &+= 1
                    if p < stop, let v = shortLength(base, &p, stop), v == stop &- p {
                        whole = true
                        value = p
                    }
                }
                if whole {
                    if checkingKey {
                        guard WireReader.isValidUTF8(UnsafeBufferPointer(start: base + keyStart, count: k)) else {
                            r.pos = keyStart
                            throw r.failure("a string field is not valid UTF-8")
                        }
                    }
                    r.pos = stop
                    return (entryStart, stop, keyStart, k, value)
                }
            }
        }
        let (field, wire) = try r.tag()
        guard field == WireContract.Struct.fields, wire == 2 else {
            try r.skip(wire, field: field)
            return nil
        }
        let stop = try r.lengthLimit()
        guard r.depth < WireReader.maxDepth else {
            throw r.failure("messages nest deeper than \(WireReader.maxDepth) levels")
        }
        let entryStart = r.pos
        let key = try Self.key(of: WireReader(base, r.pos, stop, depth: r.depth + 1))
        r.pos = stop
        return (entryStart, stop, key.start, key.count, -1)
    }

    /// The Struct body an entry's value holds when that value is exactly one
    /// `struct_value` (the usual encoding); nil for anything else, which the
    /// general reading then decodes. Checks the framing it reads.
    private func structBody(_ entry: Entry, depth: Int) -> (start: Int, end: Int, depth: Int)? {
        soleValue(ofEntry: entry, depth: depth, field: WireContract.Value.structValue)
    }

    /// `soleValue(ofEntry:_:depth:field:)`, reading the usual encoding in place.
    @inline(__always)
    private func soleValue(ofEntry entry: Entry, depth: Int, field: Int) -> (start: Int, end: Int, depth: Int)? {
        if entry.value >= 0 {
            guard depth + 1 < WireReader.maxDepth else { return nil }
            return soleField(ofValue: entry.value, entry.end, depth: depth + 2, field: field)
        }
        return soleValue(ofEntry: entry.start, entry.end, depth: depth, field: field)
    }

    /// The body of field `field` of the map entry's value (the entry in
    /// `start..<end` of a Struct body at `depth`) when the entry holds exactly
    /// one value and that value exactly that one field; nil otherwise (the
    /// general reading then decodes it, and finds any problem).
    private func soleValue(ofEntry start: Int, _ end: Int, depth: Int, field: Int) -> (
        start: Int, end: Int, depth: Int
    )? {
        var entry = WireReader(bytes.base, start, end, depth: depth + 1)
        var body: (start: Int, end: Int, depth: Int)?
        do {
            while entry.pos < entry.end {
                let (f, w) = try entry.tag()
                if f == WireContract.MapEntry.value, w == 2 {
                    guard body == nil else { return nil }
                    let stop = try entry.lengthLimit()
                    guard entry.depth < WireReader.maxDepth,
                        let inner = soleField(ofValue: entry.pos, stop, depth: entry.depth + 1, field: field)
                    else { return nil }
                    body = inner
                    entry.pos = stop
                } else if f == WireContract.MapEntry.key, w == 2 {
                    entry.pos = try entry.lengthLimit()
                } else {
                    try entry.skipInMapEntry(w, field: f)
                }
            }
        } catch {
            return nil
        }
        return body
    }

    /// The body of a google.protobuf.Value message (`start..<end`, at `depth`)
    /// that is exactly one field `field`; nil otherwise.
    private func soleField(ofValue start: Int, _ end: Int, depth: Int, field: Int) -> (
        start: Int, end: Int, depth: Int
    )? {
        var value = WireReader(bytes.base, start, end, depth: depth)
        guard value.pos < value.end, let (f, w) = try? value.tag(), f == field, w == 2,
            let bodyEnd = try? value.lengthLimit(), bodyEnd == end, value.depth < WireReader.maxDepth
        else { return nil }
        return (value.pos, bodyEnd, value.depth + 1)
    }

    override func firstObject(inListAt keys: UnsafeBufferPointer<String>, where key: String, is wanted: String)
        -> Value?
    {
        func general() -> Value? { super.firstObject(inListAt: keys, where: key, is: wanted) }
        if decodedFlag.load(ordering: .acquiring) { return general() }
        // Follow the path to the list through the bytes, as `value(forPath:)` does.
        var (start, end, depth) = (self.start, self.end, self.depth)
        for i in keys.indices {
            var step = keys[i]
            guard let entry = step.withUTF8({ lastEntry(key: $0, start: start, end: end, depth: depth) }) else {
                return nil
            }
            let field = i == keys.count - 1 ? WireContract.Value.listValue : WireContract.Value.structValue
            guard let body = soleValue(ofEntry: entry, depth: depth, field: field) else {
                return general()
            }
            (start, end, depth) = body
        }
        // Then each item: its `key` compared in place, and only the item found built.
        // Every item is read as far as a search of the decoded list reads it (its
        // framing, and a non-object item in full), also after the one found.
        var wantedBytes = wanted
        let wantedIsASCII = wanted.utf8.allSatisfy { $0 < 0x80 }
        return wantedBytes.withUTF8 { wantedBytes -> Value? in
            var keyBytes = key
            return keyBytes.withUTF8 { keyBytes -> Value? in
                var found: Value?
                var list = WireReader(bytes.base, start, end, depth: depth)
                do {
                    while list.pos < list.end {
                        let (f, w) = try list.tag()
                        guard f == WireContract.ListValue.values, w == 2 else {
                            try list.skip(w, field: f)
                            continue
                        }
                        let stop = try list.lengthLimit()
                        guard list.depth < WireReader.maxDepth else {
                            throw list.failure("messages nest deeper than \(WireReader.maxDepth) levels")
                        }
                        let item = (start: list.pos, end: stop, depth: list.depth + 1)
                        list.pos = stop
                        guard
                            let body = soleField(
                                ofValue: item.start, item.end, depth: item.depth, field: WireContract.Value.structValue)
                        else {
                            var r = WireReader(bytes.base, item.start, item.end, depth: item.depth)
                            let v = try r.value(bytes, merging: .null)
                            if found == nil, v[key]?.stringValue == wanted { found = v }
                            continue
                        }
                        guard found == nil,
                            let entry = lastEntry(key: keyBytes, start: body.start, end: body.end, depth: body.depth)
                        else { continue }
                        let matches: Bool
                        if let s = soleValue(ofEntry: entry, depth: body.depth, field: WireContract.Value.stringValue) {
                            let text = UnsafeBufferPointer(start: bytes.base + s.start, count: s.end - s.start)
                            if wantedIsASCII && Self.isASCII(text) {
                                // Two ASCII strings are equal exactly when their bytes are.
                                matches = text.count == wantedBytes.count && Self.equal(text.baseAddress!, wantedBytes)
                            } else {
                                // Otherwise as Swift compares strings (canonical equivalence).
                                guard WireReader.isValidUTF8(text) else {
                                    list.pos = s.start
                                    throw list.failure("a string field is not valid UTF-8")
                                }
                                matches = String(decoding: text, as: UTF8.self) == wanted
                            }
                        } else {
                            matches = entryValue(entry.start, entry.end, depth: body.depth).stringValue == wanted
                        }
                        if matches {
                            found = .object(
                                Fields(
                                    deferred: DeferredStruct(
                                        bytes: bytes, start: body.start, end: body.end, depth: body.depth)))
                        }
                    }
                } catch {
                    bytes.report.record("\(error)")
                    return nil
                }
                return found
            }
        }
    }

    /// Whether every byte is ASCII.
    private static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in b where byte >= 0x80 { return false }
        return true
    }

    override func fields() -> Fields {
        lock.withLock {
            if let decoded { return decoded }
            var builder = Fields.Builder()
            var r = WireReader(bytes.base, start, end, depth: depth)
            do {
                while r.pos < r.end {
                    guard let e = try Self.nextEntry(&r, checkingKey: true) else { continue }
                    let key = UnsafeBufferPointer(start: bytes.base + e.keyStart, count: e.keyCount)
                    builder.append(String(decoding: key, as: UTF8.self), entryValue(e.start, e.end))
                }
            } catch {
                bytes.report.record("\(error)")
            }
            // Go and upb send map entries unordered: the builder sorts once, the last of a repeated key wins.
            let fields = builder.build()
            decoded = fields
            decodedFlag.store(true, ordering: .releasing)
            return fields
        }
    }

    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count {
            if a[i] != b[i] { return false }
            i &+= 1
        }
        return true
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
        entryValue(start, end, depth: depth)
    }

    /// `entryValue` for an entry of a Struct body at `depth` (a level reached by a path walk).
    private func entryValue(_ start: Int, _ end: Int, depth: Int) -> Value {
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
