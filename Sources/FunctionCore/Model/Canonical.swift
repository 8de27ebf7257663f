/// The response as a JSON-like value (protojson field names), for goldens,
/// `render` and debugging. Keys sort when printed, so equal responses print equally.
extension RunResponse {
    /// The response as a value.
    public var canonicalValue: Value {
        var meta: Fields = ["tag": .string(tag)]
        if let ttlSeconds { meta["ttl"] = .string("\(ttlSeconds)s") }
        var o: Fields = ["meta": .object(meta)]
        o["desired"] = desired.canonicalValue
        if !results.isEmpty { o["results"] = .list(results.map(\.canonicalValue)) }
        if let context { o["context"] = context }
        if let requirements { o["requirements"] = requirements.canonicalValue }
        if !conditions.isEmpty { o["conditions"] = .list(conditions.map(\.canonicalValue)) }
        if let output { o["output"] = output }
        return .object(o)
    }
}

extension State {
    /// The state as a value.
    public var canonicalValue: Value {
        var o: Fields = [:]
        if let composite { o["composite"] = composite.canonicalValue }
        if !resources.isEmpty { o["resources"] = .object(Fields(resources.mapValues(\.canonicalValue))) }
        return .object(o)
    }
}

extension Resource {
    /// The resource as a value; connection details are shown by key only, never by value.
    public var canonicalValue: Value {
        var o: Fields = ["resource": object]
        switch ready {
        case .unspecified: break
        case .ready: o["ready"] = "READY_TRUE"
        case .notReady: o["ready"] = "READY_FALSE"
        }
        if !connectionDetails.isEmpty {
            o["connectionDetails"] = .list(connectionDetails.keys.sorted(by: utf8Less).map(Value.string))
        }
        return .object(o)
    }
}

extension FunctionResult {
    /// The result as a value.
    public var canonicalValue: Value {
        var o: Fields = ["message": .string(message)]
        switch severity {
        case .fatal: o["severity"] = "SEVERITY_FATAL"
        case .warning: o["severity"] = "SEVERITY_WARNING"
        case .normal: o["severity"] = "SEVERITY_NORMAL"
        }
        if let reason { o["reason"] = .string(reason) }
        if let target { o["target"] = target.canonicalValue }
        return .object(o)
    }
}

extension Target {
    var canonicalValue: Value {
        switch self {
        case .composite: return "TARGET_COMPOSITE"
        case .compositeAndClaim: return "TARGET_COMPOSITE_AND_CLAIM"
        }
    }
}

extension Condition {
    /// The condition as a value.
    public var canonicalValue: Value {
        var o: Fields = ["type": .string(type), "reason": .string(reason)]
        switch status {
        case .unknown: o["status"] = "STATUS_CONDITION_UNKNOWN"
        case .true: o["status"] = "STATUS_CONDITION_TRUE"
        case .false: o["status"] = "STATUS_CONDITION_FALSE"
        }
        if let message { o["message"] = .string(message) }
        if let target { o["target"] = target.canonicalValue }
        return .object(o)
    }
}

extension Requirements {
    /// The requirements as a value.
    public var canonicalValue: Value {
        var o: Fields = [:]
        if !resources.isEmpty {
            o["resources"] = .object(
                Fields(
                    resources.mapValues { sel -> Value in
                        var s: Fields = ["apiVersion": .string(sel.apiVersion), "kind": .string(sel.kind)]
                        switch sel.match {
                        case .name(let n): s["matchName"] = .string(n)
                        case .labels(let l): s["matchLabels"] = ["labels": .object(Fields(l))]
                        }
                        if let ns = sel.namespace { s["namespace"] = .string(ns) }
                        return .object(s)
                    }))
        }
        if !schemas.isEmpty {
            o["schemas"] = .object(
                Fields(schemas.mapValues { ["apiVersion": .string($0.apiVersion), "kind": .string($0.kind)] as Value }))
        }
        return .object(o)
    }
}

extension Value {
    /// Indented JSON with sorted keys: canonical, and readable in a diff.
    public func prettyJSON(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .list(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + $0.prettyJSON(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let fields) where !fields.isEmpty:
            let lines = fields.map { key, value in
                inner + Value.string(key).canonicalJSON() + ": " + value.prettyJSON(indent: inner)
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return canonicalJSON()
        }
    }
}
