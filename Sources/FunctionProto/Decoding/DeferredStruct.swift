import FunctionCore
import Synchronization

/// A `google.protobuf.Struct` body in the request bytes, read as the
/// composers ask for fields.
///
/// A lookup scans the level's bytes for its key (skipping every other value by
/// its length) and decodes only that value; a path (`value(forPath:)`) is
/// followed through the bytes level by level without building the objects
/// along it. Nested objects become deferred structs in turn. Iterating or
/// encoding the object decodes its level once, and later lookups use that.
///
/// The bytes are checked as they are read, by the rules `checkStruct` applies
/// up front in checking mode (lengths, wire types, UTF-8, nesting): the first
/// problem is recorded in the request's `DecodingReport`, the malformed part
/// reads as absent, and the pipeline refuses the request (see RequestDecoder.swift).
final class DeferredStruct: DeferredObject, @unchecked Sendable {
    /// The request the Struct is in.
    let bytes: RequestBytes
    /// The Struct's body (its depth bounds nesting, as the decoder does).
    let body: MessageBody

    /// Every field, once `fields()` ran; written once, then `decodedFlag` is set.
    private let decoded = Mutex<Fields?>(nil)
    /// Whether `decoded` is set: read without the lock by every lookup.
    private let decodedFlag = Atomic<Bool>(false)

    init(bytes: RequestBytes, body: MessageBody) {
        self.bytes = bytes
        self.body = body
    }

    override var isDecoded: Bool { decodedFlag.load(ordering: .acquiring) }

    override func value(forKey key: String) -> Value? {
        // Decoded already (the object was iterated or encoded): look it up there.
        if decodedFlag.load(ordering: .acquiring), let decoded = decoded.withLock({ $0 }) {
            return decoded[key]
        }
        // Otherwise scan the level's bytes for the key and decode only its value.
        // Measured against indexing a level and remembering its values: the
        // composers ask most objects one to three things, and a scan of a level
        // costs less than building and keeping an index (bench/instructions.sh).
        guard let entry = lastEntry(named: key, in: body) else { return nil }
        return value(of: entry, depth: body.depth)
    }

    override func value(forPath keys: Span<String>) -> Value? {
        if decodedFlag.load(ordering: .acquiring) { return super.value(forPath: keys) }
        // The path is followed through the bytes: each level is scanned (and
        // checked) for its key, and no object is built until the last step, or
        // until a step is not one plain object (then the general reading takes
        // over). The hottest loop of a call: the key's bytes are taken here, not
        // through `lastEntry(named:in:)`, which measured 1 % more per call.
        var level = body
        var i = 0
        while true {
            var key = keys[i]
            let entry = key.withUTF8 { lastEntry(key: $0, in: level) }
            guard let entry else { return nil }
            if i == keys.count - 1 { return value(of: entry, depth: level.depth) }
            if let body = soleValue(ofEntry: entry, depth: level.depth, field: WireContract.Value.structValue) {
                level = body
                i += 1
                continue
            }
            let v = entryValue(entry.start, entry.end, depth: level.depth)
            return v.value(atPath: keys.extracting(droppingFirst: i + 1))
        }
    }

    override func firstObject(inListAt keys: Span<String>, where key: String, is wanted: String) -> Value? {
        switch findFirst(inListAt: keys, where: key, is: wanted) {
        case .body(let b)?:
            return .object(Fields(deferred: DeferredStruct(bytes: bytes, body: b)))
        case .decoded(let v)?: return v
        case nil: return nil
        }
    }

    override func value(
        ofField field: String, inFirstObjectInListAt keys: Span<String>, where key: String, is wanted: String
    ) -> Value? {
        switch findFirst(inListAt: keys, where: key, is: wanted) {
        case .body(let b)?:
            // The field is read in place: the object found is not built.
            return lastEntry(named: field, in: b).map { value(of: $0, depth: b.depth) }
        case .decoded(let v)?: return v[field]
        case nil: return nil
        }
    }

    /// An object found in a list: its Struct body in place, or, when the item
    /// was not in the usual form, the item decoded.
    private enum Found {
        case body(MessageBody)
        case decoded(Value)
    }

    /// The first object in the list at `keys` whose `key` is `wanted`, the path
    /// to the list followed through the bytes as `value(forPath:)` does.
    private func findFirst(inListAt keys: Span<String>, where key: String, is wanted: String) -> Found? {
        func general() -> Found? {
            super.firstObject(inListAt: keys, where: key, is: wanted).map { .decoded($0) }
        }
        if decodedFlag.load(ordering: .acquiring) { return general() }
        var level = body
        for i in keys.indices {
            guard let entry = lastEntry(named: keys[i], in: level) else { return nil }
            let field = i == keys.count - 1 ? WireContract.Value.listValue : WireContract.Value.structValue
            guard let body = soleValue(ofEntry: entry, depth: level.depth, field: field) else { return general() }
            level = body
        }
        return firstItem(inList: level, where: key, is: wanted)
    }

    /// The first item of the ListValue body `list` that is an object whose
    /// `key` is `wanted`: each item's `key` compared in place, and only the item
    /// found built. Every item is read as far as a search of the decoded list
    /// reads it (its framing, and a non-object item in full), also after the one found.
    private func firstItem(inList list: MessageBody, where key: String, is wanted: String) -> Found? {
        // An ASCII `wanted` is compared as bytes (checked once here, not per item).
        let wantedIsASCII = wanted.utf8.allSatisfy { $0 < 0x80 }
        var (keyBytes, wantedBytes) = (key, wanted)
        return keyBytes.withUTF8 { keyBytes in
            wantedBytes.withUTF8 { wantedBytes -> Found? in
                let search = ItemSearch(
                    key: key, keyBytes: keyBytes, wanted: wanted, ascii: wantedIsASCII ? wantedBytes : nil)
                var found: Found?
                var r = WireReader(bytes.base, list.start, list.end, depth: list.depth)
                do {
                    while r.pos < r.end {
                        let (f, w) = try r.tag()
                        guard f == WireContract.ListValue.values, w == 2 else {
                            try r.skip(w, field: f)
                            continue
                        }
                        let hit = try match(r.messageBody(), against: search, searching: found == nil)
                        if found == nil { found = hit }
                    }
                } catch {
                    bytes.report.record("\(error)")
                    return nil
                }
                return found
            }
        }
    }

    /// What a list search looks for: items whose field `key` is the string `wanted`.
    private struct ItemSearch {
        /// The field compared.
        let key: String
        /// Its UTF-8 bytes.
        let keyBytes: UnsafeBufferPointer<UInt8>
        /// The string wanted.
        let wanted: String
        /// Its UTF-8 bytes when it is ASCII (then compared as bytes), else nil.
        let ascii: UnsafeBufferPointer<UInt8>?
    }

    /// Reads the list item `item` (a Value body) as a search of the decoded list
    /// reads it; the item when `searching` and it is an object that `search` looks for.
    @inline(__always)
    private func match(_ item: MessageBody, against search: ItemSearch, searching: Bool) throws -> Found? {
        guard
            let body = soleField(
                ofValue: item.start, item.end, depth: item.depth, field: WireContract.Value.structValue)
        else {
            // Not the usual encoding of an object: decoded (and so read in full).
            var general = WireReader(bytes.base, item.start, item.end, depth: item.depth)
            let v = try general.value(bytes, merging: .null)
            return searching && v[search.key]?.stringValue == search.wanted ? .decoded(v) : nil
        }
        guard searching, let entry = lastEntry(key: search.keyBytes, in: body),
            try stringValue(of: entry, depth: body.depth, equals: search.wanted, ascii: search.ascii)
        else { return nil }
        return .body(body)
    }

    /// Whether the value of `entry` (of a Struct body at `depth`) is the string
    /// `wanted` (whose bytes are `ascii` when it is ASCII), as Swift compares
    /// strings; a plain string value is compared in place.
    private func stringValue(
        of entry: Entry, depth: Int, equals wanted: String, ascii: UnsafeBufferPointer<UInt8>?
    ) throws -> Bool {
        guard let s = soleValue(ofEntry: entry, depth: depth, field: WireContract.Value.stringValue) else {
            return entryValue(entry.start, entry.end, depth: depth).stringValue == wanted
        }
        let text = UnsafeBufferPointer(start: bytes.base + s.start, count: s.end - s.start)
        if let ascii, Self.isASCII(text) {
            // Two ASCII strings are equal exactly when their bytes are.
            return text.count == ascii.count && Self.equal(text.baseAddress!, ascii)
        }
        // Otherwise as Swift compares strings (canonical equivalence), once checked as UTF-8.
        guard WireReader.isValidUTF8(text) else {
            throw WireReader(bytes.base, s.start, s.end, depth: depth).failure("a string field is not valid UTF-8")
        }
        return String(decoding: text, as: UTF8.self) == wanted
    }

    override func fields() -> Fields {
        decoded.withLock { decoded in
            if let decoded { return decoded }
            var builder = Fields.Builder()
            var r = WireReader(bytes.base, body.start, body.end, depth: body.depth)
            do {
                while r.pos < r.end {
                    guard let e = try Self.nextEntry(&r, checkingKey: true) else { continue }
                    let key = UnsafeBufferPointer(start: bytes.base + e.keyStart, count: e.keyCount)
                    builder.append(String(decoding: key, as: UTF8.self), value(of: e, depth: body.depth))
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

    /// The value of `entry` (of a Struct body at `depth`): a plain string read
    /// in place, anything else by `entryValue`.
    @inline(__always)
    func value(of entry: Entry, depth: Int) -> Value {
        if let valueBody = entry.valueBody, depth + 1 < WireReader.maxDepth,
            let s = soleField(ofValue: valueBody, entry.end, depth: depth + 2, field: WireContract.Value.stringValue),
            WireReader.isValidUTF8(UnsafeBufferPointer(start: bytes.base + s.start, count: s.end - s.start))
        {
            return .string(
                String(
                    decoding: UnsafeBufferPointer(start: bytes.base + s.start, count: s.end - s.start), as: UTF8.self))
        }
        return entryValue(entry.start, entry.end, depth: depth)
    }

    /// The value of the map entry in `start..<end` of a Struct body at `depth`
    /// (its `value` fields merged, protobuf's rule for a repeated message
    /// field); null without one, and on malformed bytes (recorded).
    func entryValue(_ start: Int, _ end: Int, depth: Int) -> Value {
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
