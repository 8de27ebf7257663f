import FunctionCore

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
                let body = DeferredStruct(bytes: bytes, body: try messageBody())
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
