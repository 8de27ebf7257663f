/// A JSON-like value: the shape of a Kubernetes object and of `google.protobuf.Struct`.
///
/// Integers and floating-point numbers are kept apart so that a replica count
/// of `3` reads back as `3`, not `3.0`; on the wire (where Struct has only
/// doubles) integral numbers within ±2^53 decode as `.int`.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([Value])
    case object(Fields)
}

extension Value {
    /// The largest magnitude at which every integer is exactly representable as a Double.
    public static let maxExactInteger: Int64 = 1 << 53

    /// A number from the wire: integral values within ±2^53 become `.int`.
    public static func number(_ d: Double) -> Value {
        if d.isFinite, d.rounded(.towardZero) == d, abs(d) <= Double(maxExactInteger) {
            return .int(Int64(d))
        }
        return .double(d)
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is an integral number.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded(.towardZero) == d && abs(d) <= Double(Value.maxExactInteger):
            return Int64(d)
        default: return nil
        }
    }

    /// The boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The fields, if this is an object.
    public var objectValue: Fields? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The items, if this is a list.
    public var listValue: [Value]? {
        if case .list(let l) = self { return l }
        return nil
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The field `key` of an object; nil for a missing field or a non-object.
    public subscript(key: String) -> Value? {
        get {
            if case .object(let o) = self { return o[key] }
            return nil
        }
        set {
            guard case .object(var o) = self else { return }
            // Drop the payload from self first so the dictionary is uniquely referenced.
            self = .null
            o[key] = newValue
            self = .object(o)
        }
    }

    /// The value at a path of two object keys (no variadic array to allocate).
    public subscript(path a: String, _ b: String) -> Value? {
        Self.withKeys((a, b, "", "", ""), count: 2) { value(atPath: $0) }
    }

    /// The value at a path of three object keys.
    public subscript(path a: String, _ b: String, _ c: String) -> Value? {
        Self.withKeys((a, b, c, "", ""), count: 3) { value(atPath: $0) }
    }

    /// The value at a path of four object keys.
    public subscript(path a: String, _ b: String, _ c: String, _ d: String) -> Value? {
        Self.withKeys((a, b, c, d, ""), count: 4) { value(atPath: $0) }
    }

    /// The value at a path of five object keys.
    public subscript(path a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> Value? {
        Self.withKeys((a, b, c, d, e), count: 5) { value(atPath: $0) }
    }

    /// The first object in the list at `a`.`b` whose field `key` is the string `value`.
    public func firstObject(inListAt a: String, _ b: String, where key: String, is value: String) -> Value? {
        guard case .object(let o) = self else { return nil }
        return Self.withKeys((a, b, "", "", ""), count: 2) { o.firstObject(inListAt: $0, where: key, is: value) }
    }

    /// Field `field` of the first object in the list at `a`.`b` whose field
    /// `key` is the string `value`, e.g. a condition's status:
    /// `object.value(ofField: "status", inFirstObjectInListAt: "status", "conditions", where: "type", is: "Ready")`.
    public func value(
        ofField field: String, inFirstObjectInListAt a: String, _ b: String, where key: String, is value: String
    ) -> Value? {
        guard case .object(let o) = self else { return nil }
        return Self.withKeys((a, b, "", "", ""), count: 2) {
            o.value(ofField: field, inFirstObjectInListAt: $0, where: key, is: value)
        }
    }

    /// Runs `body` with the first `count` keys as a buffer, on the stack (a
    /// variadic array would be allocated on the heap for every lookup). A
    /// homogeneous tuple is laid out as its elements in order.
    @inline(__always)
    private static func withKeys<R>(
        _ keys: (String, String, String, String, String), count: Int, _ body: (UnsafeBufferPointer<String>) -> R
    ) -> R {
        withUnsafePointer(to: keys) { tuple in
            tuple.withMemoryRebound(to: String.self, capacity: 5) { body(UnsafeBufferPointer(start: $0, count: count)) }
        }
    }

    /// The value at a dotted path of object keys, e.g. `value[path: "spec", "storage"]`.
    public subscript(path keys: String...) -> Value? {
        keys.withUnsafeBufferPointer { value(atPath: $0) }
    }

    /// The value at a path of object keys; nil when any step is missing or not an object.
    public func value(atPath keys: UnsafeBufferPointer<String>) -> Value? {
        guard !keys.isEmpty else { return self }
        guard case .object(let o) = self else { return nil }
        return o.value(atPath: keys)
    }

    /// The first object in the list at the path `keys` whose field `key` is the
    /// string `value`, e.g. `object.firstObject(inListAt: "status", "conditions", where: "type", is: "Ready")`.
    public func firstObject(inListAt keys: String..., where key: String, is value: String) -> Value? {
        guard case .object(let o) = self else { return nil }
        return keys.withUnsafeBufferPointer { o.firstObject(inListAt: $0, where: key, is: value) }
    }

    /// Field `field` of the first object in the list at the path `keys` whose
    /// field `key` is the string `value`.
    public func value(ofField field: String, inFirstObjectInListAt keys: String..., where key: String, is value: String)
        -> Value?
    {
        guard case .object(let o) = self else { return nil }
        return keys.withUnsafeBufferPointer {
            o.value(ofField: field, inFirstObjectInListAt: $0, where: key, is: value)
        }
    }

    /// A short description of the kind of value, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .list: return "list"
        case .object: return "object"
        }
    }
}

// Deliberately not ExpressibleByNilLiteral: with it, `cond ? v : nil` silently
// becomes `.null` instead of an absent Optional.
extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Fields(literal: elements))
    }
}
