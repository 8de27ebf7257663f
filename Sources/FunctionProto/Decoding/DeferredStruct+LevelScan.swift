import FunctionCore

/// Reading one level of a Struct body in place: finding a map entry by key
/// without decoding the others, and recognising the usual encodings (an entry
/// that is exactly a key and a value, a Value that is exactly one field) so
/// that paths and list searches can step through them without building
/// objects. Every read checks the framing it crosses; anything unusual is left
/// to the general reading (`entryValue`), which decodes it as protobuf does.
extension DeferredStruct {
    /// The last map entry with key `key` of the Struct body `level`, the
    /// level's framing checked (lengths, wire types, nesting); nil when there is
    /// none or the bytes are malformed (recorded). Other entries' keys are not
    /// checked as UTF-8 on the usual encoding: they are not read (`fields()` checks them).
    @inline(__always)
    func lastEntry(key: UnsafeBufferPointer<UInt8>, in level: MessageBody) -> Entry? {
        let base = bytes.base
        var found: Entry?
        var p = level.start
        // Entries in the usual encoding, in a tight loop, the key compared only when
        // the lengths agree; the first entry in any other form hands over to the
        // general loop below.
        if level.depth < WireReader.maxDepth {
            while p < level.end, let e = Self.usualEntry(base, at: p, limit: level.end) {
                if e.keyCount == key.count, Self.equal(base + e.keyStart, key) { found = e }
                p = e.end
            }
        }
        var r = WireReader(base, p, level.end, depth: level.depth)
        do {
            while r.pos < r.end {
                guard let e = try Self.nextEntry(&r, checkingKey: false) else { continue }
                if e.keyCount == key.count, Self.equal(base + e.keyStart, key) { found = e }
            }
        } catch {
            bytes.report.record("\(error)")
            return nil
        }
        return found
    }

    /// `lastEntry(key:in:)` for a key given as a string.
    @inline(__always)
    func lastEntry(named key: String, in level: MessageBody) -> Entry? {
        var key = key
        return key.withUTF8 { lastEntry(key: $0, in: level) }
    }

    /// A map entry of a Struct level, where the scan found it.
    struct Entry {
        /// Where the entry's body starts.
        var start: Int
        /// Where it ends.
        var end: Int
        /// Where its (last) key's bytes start.
        var keyStart: Int
        /// How many bytes the key has.
        var keyCount: Int
        /// Where its one Value message's body starts when the entry is exactly a
        /// key and then a value (the usual encoding); nil otherwise, and then the
        /// general reading (`entryValue`) reads the entry.
        var valueBody: Int?
    }

    /// A length of one or two varint bytes at `p` (what the inline reading
    /// handles), moving `p` past it; nil for anything else. `p < limit` on entry.
    /// Offsets stay far below `Int.max`, so wrapping arithmetic never wraps.
    @inline(__always)
    static func shortLength(_ base: UnsafePointer<UInt8>, _ p: inout Int, _ limit: Int) -> Int? {
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

    /// The map entry at `p` of a Struct body ending at `limit` when it is in the
    /// usual encoding: an entry field (tag 0x0A) holding a key (0x0A) and then,
    /// filling the entry, a value (0x12) or nothing, with lengths of one or two
    /// bytes; its framing checked. nil for anything else (a second key would be
    /// the entry's key, so only this exact shape is read inline). An entry
    /// without a value has no `valueBody`. `p < limit`; the nesting bound is the caller's.
    @inline(__always)
    static func usualEntry(_ base: UnsafePointer<UInt8>, at p: Int, limit: Int) -> Entry? {
        var q = p &+ 1
        guard base[p] == 0x0A, q < limit, let n = shortLength(base, &q, limit), n >= 2, n <= limit &- q,
            base[q] == 0x0A
        else { return nil }
        let entryStart = q
        let stop = q &+ n
        q &+= 1
        guard let k = shortLength(base, &q, stop), k <= stop &- q else { return nil }
        let keyStart = q
        q &+= k
        guard q != stop else { return Entry(start: entryStart, end: stop, keyStart: keyStart, keyCount: k) }
        guard base[q] == 0x12 else { return nil }
        q &+= 1
        guard q < stop, let v = shortLength(base, &q, stop), v == stop &- q else { return nil }
        return Entry(start: entryStart, end: stop, keyStart: keyStart, keyCount: k, valueBody: q)
    }

    /// Reads the field at the cursor of a Struct body: for a map entry, where it
    /// and its (last) key lie, its framing checked, and on the usual encoding
    /// its key's UTF-8 only with `checkingKey` (a scan for one key need not: a
    /// key equal to a valid one is valid, and the others are not read; the
    /// general path always checks); nil for another field (skipped). Throws on
    /// malformed bytes.
    @inline(__always)
    static func nextEntry(_ r: inout WireReader, checkingKey: Bool) throws -> Entry? {
        let base = r.base
        if r.depth < WireReader.maxDepth, let e = usualEntry(base, at: r.pos, limit: r.end) {
            if checkingKey {
                guard WireReader.isValidUTF8(UnsafeBufferPointer(start: base + e.keyStart, count: e.keyCount)) else {
                    r.pos = e.keyStart
                    throw r.failure("a string field is not valid UTF-8")
                }
            }
            r.pos = e.end
            return e
        }
        let (field, wire) = try r.tag()
        guard field == WireContract.Struct.fields, wire == 2 else {
            try r.skip(wire, field: field)
            return nil
        }
        let entry = try r.messageBody()
        let key = try Self.key(of: WireReader(base, entry.start, entry.end, depth: entry.depth))
        return Entry(start: entry.start, end: entry.end, keyStart: key.start, keyCount: key.count)
    }

    /// `soleValue(ofEntry:_:depth:field:)`, reading the usual encoding in place.
    @inline(__always)
    func soleValue(ofEntry entry: Entry, depth: Int, field: Int) -> MessageBody? {
        if let valueBody = entry.valueBody {
            guard depth + 1 < WireReader.maxDepth else { return nil }
            return soleField(ofValue: valueBody, entry.end, depth: depth + 2, field: field)
        }
        return soleValue(ofEntry: entry.start, entry.end, depth: depth, field: field)
    }

    /// The body of field `field` of the map entry's value (the entry in
    /// `start..<end` of a Struct body at `depth`) when the entry holds exactly
    /// one value and that value exactly that one field; nil otherwise (the
    /// general reading then decodes it, and finds any problem).
    func soleValue(ofEntry start: Int, _ end: Int, depth: Int, field: Int) -> MessageBody? {
        var entry = WireReader(bytes.base, start, end, depth: depth + 1)
        var body: MessageBody?
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
    func soleField(ofValue start: Int, _ end: Int, depth: Int, field: Int) -> MessageBody? {
        guard start < end, depth < WireReader.maxDepth else { return nil }
        let base = bytes.base
        // The tag of a field below 16 is one byte: read it and a short length inline.
        // Anything else (a longer length, a tag in more bytes) takes the general reading below.
        if field < 16, Int(base[start]) == field &<< 3 | 2 {
            var p = start &+ 1
            if p < end, let n = Self.shortLength(base, &p, end), n == end &- p {
                return MessageBody(start: p, end: end, depth: depth + 1)
            }
        }
        var value = WireReader(base, start, end, depth: depth)
        guard let (f, w) = try? value.tag(), f == field, w == 2,
            let bodyEnd = try? value.lengthLimit(), bodyEnd == end
        else { return nil }
        return MessageBody(start: value.pos, end: bodyEnd, depth: value.depth + 1)
    }

    /// Whether every byte is ASCII.
    static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in b where byte >= 0x80 { return false }
        return true
    }

    /// Whether the `b.count` bytes at `a` are those of `b`: eight, then four at a
    /// time (keys are mostly 4 to 20 bytes), then one by one.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        guard n > 0, let bBase = b.baseAddress else { return true }
        let x = UnsafeRawPointer(a)
        let y = UnsafeRawPointer(bBase)
        var i = 0
        while i &+ 8 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                != y.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            {
                return false
            }
            i &+= 8
        }
        if i &+ 4 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt32.self)
                != y.loadUnaligned(fromByteOffset: i, as: UInt32.self)
            {
                return false
            }
            i &+= 4
        }
        while i < n {
            if a[i] != bBase[i] { return false }
            i &+= 1
        }
        return true
    }

    /// Where the (last) key of the map entry at hand lies, its framing and the
    /// key's UTF-8 checked; an entry without a key has the empty key.
    static func key(of entry: WireReader) throws -> (start: Int, count: Int) {
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
}
