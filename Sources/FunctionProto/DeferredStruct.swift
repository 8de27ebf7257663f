import FunctionCore

/// A `google.protobuf.Struct` body in the request bytes, checked by
/// `RequestDecoder` and decoded one level at a time on first access: its
/// scalars become values, its nested objects deferred structs in turn.
struct DeferredStruct: DeferredFields {
    /// The request the Struct is in.
    let bytes: RequestBytes
    /// Where the Struct's body starts.
    let start: Int
    /// Where it ends.
    let end: Int

    /// Every entry of this level, decoded.
    func decodeFields() -> Fields {
        var fields = Fields.Builder()
        decode(into: &fields)
        return fields.build()
    }

    /// One entry's value, found by scanning this level.
    func value(forKey key: String) -> Value? {
        var key = key
        return key.withUTF8 { find($0) }
    }

    /// The value of the last entry whose key is `key`: one scan of this level,
    /// skipping every value but that one.
    private func find(_ key: UnsafeBufferPointer<UInt8>) -> Value? {
        var r = WireReader(bytes.base, start, end)
        do {
            var match: (start: Int, end: Int)?
            while r.pos < r.end {
                let (field, wire) = try r.tag()
                guard field == WireContract.Struct.fields, wire == 2 else {
                    try r.skip(wire, field: field)
                    continue
                }
                let stop = try r.lengthLimit()
                var entry = WireReader(bytes.base, r.pos, stop)
                // An entry without a key has the empty key; of repeated keys fields, the last counts.
                var same = key.isEmpty
                while entry.pos < entry.end {
                    let (f, w) = try entry.tag()
                    guard f == WireContract.MapEntry.key, w == 2 else {
                        // Most often the value: skipped by its length without a call.
                        if w == 2 { entry.pos = try entry.lengthLimit() } else { try entry.skipInMapEntry(w, field: f) }
                        continue
                    }
                    let keyEnd = try entry.lengthLimit()
                    same = keyEnd - entry.pos == key.count && Self.equal(bytes.base + entry.pos, key)
                    entry.pos = keyEnd
                }
                if same { match = (r.pos, stop) }
                r.pos = stop
            }
            guard let match else { return nil }
            var entry = WireReader(bytes.base, match.start, match.end)
            var value: Value = .null
            while entry.pos < entry.end {
                let (f, w) = try entry.tag()
                if f == WireContract.MapEntry.value, w == 2 {
                    value = try entry.nested { try $0.value(bytes, merging: value) }
                } else {
                    try entry.skipInMapEntry(w, field: f)
                }
            }
            return value
        } catch {
            assertionFailure("a checked Struct failed to decode: \(error)")
            return nil
        }
    }

    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<b.count where a[i] != b[i] { return false }
        return true
    }

    /// Appends the entries in wire order (Go and upb send map entries
    /// unordered; the builder sorts once, the last of a repeated key wins).
    func decode(into fields: inout Fields.Builder) {
        var r = WireReader(bytes.base, start, end)
        do {
            try r.structEntries(bytes, into: &fields)
        } catch {
            // Unreachable: the request decoder checked these bytes with the same rules.
            assertionFailure("a checked Struct failed to decode: \(error)")
        }
    }
}

/// A Struct field that appeared again: the later Struct's entries merge into
/// the earlier fields (protobuf's rule for a repeated message field).
struct MergedStruct: DeferredFields {
    /// The fields so far.
    let base: Fields
    /// The Struct that merges into them.
    let next: DeferredStruct

    /// The merged fields.
    func decodeFields() -> Fields {
        var fields = Fields.Builder(base)
        next.decode(into: &fields)
        return fields.build()
    }

    /// A later entry wins.
    func value(forKey key: String) -> Value? {
        next.value(forKey: key) ?? base[key]
    }
}

extension WireReader {
    /// The map entries of a checked Struct body, in wire order.
    fileprivate mutating func structEntries(_ bytes: RequestBytes, into fields: inout Fields.Builder) throws {
        while pos < end {
            let (field, wire) = try tag()
            guard field == WireContract.Struct.fields, wire == 2 else {
                try skip(wire, field: field)
                continue
            }
            var key = ""
            // An entry without a value holds an empty Value, which reads as null.
            var value: Value = .null
            try nested { entry in
                while entry.pos < entry.end {
                    let (field, wire) = try entry.tag()
                    switch (field, wire) {
                    case (WireContract.MapEntry.key, 2): key = try entry.checkedString()
                    // A repeated `value` merges into the one before (a list grows, an object merges).
                    case (WireContract.MapEntry.value, 2):
                        value = try entry.nested { try $0.value(bytes, merging: value) }
                    default: try entry.skipInMapEntry(wire, field: field)
                    }
                }
            }
            fields.append(key, value)
        }
    }

    /// A checked google.protobuf.Value body, merged into `previous`: a oneof,
    /// whose last field wins, except that an object or list field following one
    /// of the same kind merges into it.
    fileprivate mutating func value(_ bytes: RequestBytes, merging previous: Value) throws -> Value {
        typealias V = WireContract.Value
        var v = previous
        while pos < end {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (V.nullValue, 0):
                _ = try varint()
                v = .null
            case (V.numberValue, 1): v = .number(Double(bitPattern: try fixed64()))
            case (V.stringValue, 2): v = .string(try checkedString())
            case (V.boolValue, 0): v = .bool(try varint() != 0)
            case (V.structValue, 2):
                let stop = try lengthLimit()
                let body = DeferredStruct(bytes: bytes, start: pos, end: stop)
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
