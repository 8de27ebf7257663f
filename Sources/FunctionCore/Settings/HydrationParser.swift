/// Reads the fields of one hydration settings block (`HydrationSettings.parse`),
/// each validated with the field's full path in its error.
struct HydrationParser {
    /// The block.
    let block: Value
    /// Its path, e.g. `input.hydration`.
    let field: String

    /// The path of `key` inside the block.
    func path(_ key: String) -> String { "\(field).\(key)" }

    /// `image` (or `key`): a container image reference without spaces.
    func image(_ v: inout Validator, key: String = "image") -> String? {
        guard let image = v.string(block[key], path(key), required: false) else { return nil }
        guard !image.isEmpty, image.utf8.count <= 1024, !image.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            v.fail(path(key), .string(image), "must be a container image reference without spaces")
            return nil
        }
        return image
    }

    /// A string field checked by `problem`.
    func url(_ key: String, _ v: inout Validator, _ problem: (String) -> String?) -> String? {
        guard let s = v.string(block[key], path(key), required: false) else { return nil }
        if let rule = problem(s) {
            v.fail(path(key), .string(s), rule)
            return nil
        }
        return s
    }

    /// A list of strings, each checked by `problem` (at most 100).
    func list(_ key: String, _ v: inout Validator, _ problem: (String) -> String?) -> [String]? {
        guard let value = block[key], !value.isNull else { return nil }
        guard let items = value.listValue, items.count <= 100 else {
            v.fail(path(key), value, "must be a list of at most 100 strings")
            return nil
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = v.string(item, "\(path(key))[\(i)]") else { continue }
            if let rule = problem(s) { v.fail("\(path(key))[\(i)]", item, rule) } else { out.append(s) }
        }
        return out.count == items.count ? out : nil
    }

    /// `caBundle`: `{configMapName, key}`, the key `ca.crt` when unset.
    func caBundle(_ v: inout Validator) -> HydrationSettings.CABundle? {
        let field = path("caBundle")
        guard let o = v.object(block["caBundle"], field, required: false) else { return nil }
        let before = v.errors.count
        Self.refuseUnknown(o, allowed: ["configMapName", "key"], field: field, &v)
        let name = v.name(o["configMapName"], "\(field).configMapName", of: "ConfigMap", required: true)
        let key = v.string(o["key"], "\(field).key", required: false) ?? "ca.crt"
        if !Rules.isSecretKey(key) {
            v.fail("\(field).key", .string(key), "is not a valid ConfigMap key: use letters, digits, '-', '_', '.'")
        }
        guard let name, v.errors.count == before else { return nil }
        return HydrationSettings.CABundle(configMapName: name, key: key)
    }

    /// `resources`: `requests` and `limits` of `cpu`, `memory` and
    /// `ephemeral-storage`, each a quantity; answered with string quantities.
    func resources(_ v: inout Validator) -> Value? {
        let field = path("resources")
        guard let o = v.object(block["resources"], field, required: false) else { return nil }
        let before = v.errors.count
        Self.refuseUnknown(o, allowed: ["limits", "requests"], field: field, &v)
        var out: [(String, Value)] = []
        for part in ["limits", "requests"] {
            guard let p = v.object(o[part], "\(field).\(part)", required: false)?.objectValue else { continue }
            var quantities: [(String, Value)] = []
            for entry in p {
                let at = "\(field).\(part).\(pathKey(entry.key))"
                guard ["cpu", "ephemeral-storage", "memory"].contains(entry.key) else {
                    v.fail(at, nil, "is not a resource the hydration Job sets: use cpu, memory or ephemeral-storage")
                    continue
                }
                let q = entry.value.intValue.map { String($0) } ?? entry.value.stringValue
                guard let q, HydrationRules.quantityProblem(q) == nil else {
                    v.fail(at, entry.value, HydrationRules.quantityRule)
                    continue
                }
                quantities.append((entry.key, .string(q)))
            }
            out.append((part, .object(Fields(lastWins: quantities))))
        }
        let resources = Value.object(Fields(lastWins: out))
        if v.errors.count == before { Self.requestsWithinLimits(resources, field: field, &v) }
        return v.errors.count == before ? resources : nil
    }

    /// Records an error for every request above its limit (Kubernetes would refuse the pod).
    static func requestsWithinLimits(_ resources: Value, field: String, _ v: inout Validator) {
        for entry in resources["requests"]?.objectValue ?? Fields() {
            guard let request = entry.value.stringValue, let limit = resources["limits"]?[entry.key]?.stringValue,
                let r = HydrationRules.quantityValue(request), let l = HydrationRules.quantityValue(limit), r > l
            else { continue }
            v.fail(
                "\(field).requests.\(entry.key)", entry.value,
                "must not exceed \(field).limits.\(entry.key) \(quote(limit))")
        }
    }

    /// `nodeSelector`: label keys to label values.
    func nodeSelector(_ v: inout Validator) -> [String: String]? {
        guard let value = block["nodeSelector"], !value.isNull else { return nil }
        let before = v.errors.count
        let labels = v.labels(value, path("nodeSelector"))
        return v.errors.count == before ? labels : nil
    }

    /// `deadline`: a duration string or a number of seconds, from 10 minutes to 7 days.
    func deadline(_ v: inout Validator) -> Int64? {
        guard let value = block["deadline"], !value.isNull else { return nil }
        let seconds = value.intValue ?? value.stringValue.flatMap(HydrationRules.durationSeconds)
        guard let seconds, HydrationSettings.deadlineRange.contains(seconds) else {
            v.fail(path("deadline"), value, HydrationRules.deadlineRule)
            return nil
        }
        return seconds
    }

    /// `serviceAccount`: the name of an existing ServiceAccount in the remote namespace.
    func serviceAccount(_ v: inout Validator) -> String? {
        let before = v.errors.count
        let name = v.name(block["serviceAccount"], path("serviceAccount"), of: "ServiceAccount")
        return v.errors.count == before ? name : nil
    }

    /// `namespace` (or `key`): a DNS-1123 label.
    func namespace(_ v: inout Validator, key: String = "namespace") -> String? {
        guard let ns = v.string(block[key], path(key), required: false) else { return nil }
        guard Rules.isDNSLabel(ns) else {
            v.fail(path(key), .string(ns), "must be a DNS-1123 label (lowercase letters, digits, '-')")
            return nil
        }
        return ns
    }

    /// Records an error for every key of `o` not in `allowed`.
    static func refuseUnknown(_ o: Value, allowed: [String], field: String, _ v: inout Validator) {
        for entry in o.objectValue ?? Fields() where !allowed.contains(entry.key) {
            v.fail(
                "\(field).\(pathKey(entry.key))", nil, "is not a known field: use \(allowed.joined(separator: ", "))")
        }
    }
}
