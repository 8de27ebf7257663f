import FunctionCore
import SwiftProtobuf

/// Conversion between `google.protobuf.Struct` and the core `Value`.
extension Value {
    /// The core value of a protobuf `Value`.
    public init(_ proto: Google_Protobuf_Value) {
        switch proto.kind {
        case .nullValue, .none: self = .null
        case .boolValue(let b): self = .bool(b)
        case .numberValue(let d): self = .number(d)
        case .stringValue(let s): self = .string(s)
        case .listValue(let l): self = .list(l.values.map(Value.init))
        case .structValue(let s): self = Value(s)
        }
    }

    /// The core object of a protobuf `Struct`.
    public init(_ proto: Google_Protobuf_Struct) {
        self = .object(Fields(lastWins: proto.fields.lazy.map { ($0.key, Value($0.value)) }))
    }

    /// This value as a protobuf `Value`.
    public var protoValue: Google_Protobuf_Value {
        var out = Google_Protobuf_Value()
        switch self {
        case .null: out.nullValue = .nullValue
        case .bool(let b): out.boolValue = b
        case .int(let i): out.numberValue = Double(i)
        case .double(let d): out.numberValue = d
        case .string(let s): out.stringValue = s
        case .list(let items):
            var l = Google_Protobuf_ListValue()
            l.values = items.map(\.protoValue)
            out.listValue = l
        case .object:
            out.structValue = protoStruct
        }
        return out
    }

    /// This value as a protobuf `Struct`; a non-object becomes an empty Struct.
    public var protoStruct: Google_Protobuf_Struct {
        var s = Google_Protobuf_Struct()
        if case .object(let fields) = self {
            s.fields.reserveCapacity(fields.count)
            for (k, v) in fields { s.fields[k] = v.protoValue }
        }
        return s
    }
}
