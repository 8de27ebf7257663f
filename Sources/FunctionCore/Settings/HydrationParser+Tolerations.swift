extension HydrationParser {
    /// The toleration effects Kubernetes knows (empty: every effect).
    static let effects = ["", "NoExecute", "NoSchedule", "PreferNoSchedule"]

    /// `tolerations`: at most 50 Kubernetes tolerations, each field checked as
    /// the API server would (an `Exists` toleration has no value, an empty key
    /// needs `Exists`, `tolerationSeconds` only with `NoExecute`).
    func tolerations(_ v: inout Validator) -> Value? {
        let field = path("tolerations")
        guard let value = block["tolerations"], !value.isNull else { return nil }
        guard let items = value.listValue, items.count <= 50 else {
            v.fail(field, value, "must be a list of at most 50 tolerations")
            return nil
        }
        let before = v.errors.count
        let tolerations = items.enumerated().compactMap { toleration($1, at: "\(field)[\($0)]", &v) }
        return v.errors.count == before ? .list(tolerations) : nil
    }

    /// One toleration at `at`.
    private func toleration(_ item: Value, at field: String, _ v: inout Validator) -> Value? {
        guard let o = v.object(item, field) else { return nil }
        Self.refuseUnknown(o, allowed: ["effect", "key", "operator", "tolerationSeconds", "value"], field: field, &v)
        let key = v.string(o["key"], "\(field).key", required: false) ?? ""
        let op = v.string(o["operator"], "\(field).operator", required: false) ?? "Equal"
        let value = v.string(o["value"], "\(field).value", required: false) ?? ""
        let effect = v.string(o["effect"], "\(field).effect", required: false) ?? ""
        let seconds = v.integer(o["tolerationSeconds"], "\(field).tolerationSeconds", in: 0...2_147_483_647)
        if !key.isEmpty, !Rules.isLabelKey(key) {
            v.fail("\(field).key", .string(key), "is not a valid label key")
        }
        if op != "Equal", op != "Exists" {
            v.fail("\(field).operator", .string(op), "must be Equal or Exists")
        } else if key.isEmpty, op != "Exists" {
            v.fail("\(field).operator", .string(op), "must be Exists when key is empty (a toleration of every taint)")
        }
        if op == "Exists", !value.isEmpty {
            v.fail("\(field).value", .string(value), "must be empty when operator is Exists")
        } else if !Rules.isLabelValue(value) {
            v.fail("\(field).value", .string(value), "is not a valid label value")
        }
        if !Self.effects.contains(effect) {
            v.fail("\(field).effect", .string(effect), "must be NoSchedule, PreferNoSchedule or NoExecute")
        }
        if seconds != nil, effect != "NoExecute" {
            v.fail("\(field).tolerationSeconds", o["tolerationSeconds"], "is allowed only with effect NoExecute")
        }
        var out: [(String, Value)] = [("operator", .string(op))]
        if !key.isEmpty { out.append(("key", .string(key))) }
        if !value.isEmpty { out.append(("value", .string(value))) }
        if !effect.isEmpty { out.append(("effect", .string(effect))) }
        if let seconds { out.append(("tolerationSeconds", .int(seconds))) }
        return .object(Fields(lastWins: out))
    }
}
