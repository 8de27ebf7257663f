import FunctionCore

/// A `google.protobuf.Struct` body in the request bytes, checked by
/// `RequestDecoder` and decoded one level at a time on first access: its
/// scalars become values, its nested objects deferred structs in turn.
struct DeferredStruct: DeferredFields {
    let bytes: RequestBytes
    let start: Int
    let end: Int

    func decodeFields() -> Fields {
        var fields = Fields.Builder()
        decode(into: &fields)
        return fields.build()
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
    let base: Fields
    let next: DeferredStruct

    func decodeFields() -> Fields {
        var fields = Fields.Builder(base)
        next.decode(into: &fields)
        return fields.build()
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
                    case (WireContract.MapEntry.value, 2): value = try entry.nested { try $0.value(bytes, merging: value) }
                    default: try entry.skip(wire, field: field)
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
            case (V.nullValue, 0): _ = try varint(); v = .null
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
