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

    // Paths are written out at the call site as up to five keys (the first nil
    // ends the path), kept on the stack: a variadic `String...` allocates an
    // array for every lookup (measured: +4 % instructions per call).

    /// The value at a path of object keys, e.g. `value[path: "spec", "storage"]`;
    /// nil when any step is missing or not an object.
    public subscript(
        path a: String, _ b: String? = nil, _ c: String? = nil, _ d: String? = nil, _ e: String? = nil
    ) -> Value? {
        Self.withPath(a, b, c, d, e) { value(atPath: $0) }
    }

    /// The value at a path of six keys or more (their array is allocated on the heap).
    public subscript(
        path a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ f: String, _ more: String...
    ) -> Value? {
        value(atPath: ([a, b, c, d, e, f] + more).span)
    }

    /// The first object in the list at the path `a`, `b`, … whose field `key` is the string
    /// `value`, e.g. `object.firstObject(inListAt: "status", "conditions", where: "type", is: "Ready")`.
    public func firstObject(
        inListAt a: String, _ b: String? = nil, _ c: String? = nil, _ d: String? = nil, _ e: String? = nil,
        where key: String, is value: String
    ) -> Value? {
        guard case .object(let o) = self else { return nil }
        return Self.withPath(a, b, c, d, e) { o.firstObject(inListAt: $0, where: key, is: value) }
    }

    /// Field `field` of the first object in the list at the path `a`, `b`, … whose field
    /// `key` is the string `value`, e.g. a condition's status:
    /// `object.value(ofField: "status", inFirstObjectInListAt: "status", "conditions", where: "type", is: "Ready")`.
    public func value(
        ofField field: String, inFirstObjectInListAt a: String, _ b: String? = nil, _ c: String? = nil,
        _ d: String? = nil, _ e: String? = nil, where key: String, is value: String
    ) -> Value? {
        guard case .object(let o) = self else { return nil }
        return Self.withPath(a, b, c, d, e) {
            o.value(ofField: field, inFirstObjectInListAt: $0, where: key, is: value)
        }
    }

    /// Runs `body` with the keys up to the first nil, on the stack. A tuple
    /// rather than an `InlineArray`: the array's elements are destroyed through
    /// a generic loop (measured: +2 % instructions per call); a homogeneous
    /// tuple is laid out as its elements in order.
    @inline(__always)
    private static func withPath<R>(
        _ a: String, _ b: String?, _ c: String?, _ d: String?, _ e: String?, _ body: (Span<String>) -> R
    ) -> R {
        let count = b == nil ? 1 : c == nil ? 2 : d == nil ? 3 : e == nil ? 4 : 5
        return withUnsafePointer(to: (a, b ?? "", c ?? "", d ?? "", e ?? "")) { tuple in
            tuple.withMemoryRebound(to: String.self, capacity: 5) {
                body(Span(_unsafeElements: UnsafeBufferPointer(start: $0, count: count)))
            }
        }
    }

    /// The value at a path of object keys (all the path lookups end here).
    package func value(atPath keys: Span<String>) -> Value? {
        guard !keys.isEmpty else { return self }
        guard case .object(let o) = self else { return nil }
        return o.value(atPath: keys)
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
