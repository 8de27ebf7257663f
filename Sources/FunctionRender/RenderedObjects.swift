import FunctionCore

/// The objects classic `crossplane render` (v2.0–v2.2, `cmd/crank/render`)
/// prints, built the way it builds them: the XR from the desired composite
/// with Crossplane's `Ready` condition first, composed resources with the
/// metadata Crossplane derives from the XR, and results.
enum RenderedObjects {
    /// The time crossplane render stamps on every condition (a required field;
    /// a fixed value keeps the output reproducible).
    static let conditionTime = "2024-01-01T00:00:00Z"

    /// Condition types Crossplane owns: render drops a function's conditions of these types.
    static let systemConditionTypes: Set<String> = ["Ready", "Synced", "Healthy"]

    /// How many unready resource names the `Ready` condition's message lists.
    static let unreadyNamesShown = 3

    /// The label that names the root XR of a tree of composed resources.
    static let compositeLabel = "crossplane.io/composite"

    /// The XR as render prints it: the desired composite with the input XR's
    /// apiVersion, kind, name and namespace; `Ready` (from the declared
    /// readiness, else from the composed resources) set first, then each step's
    /// conditions in order, a later one of the same type replacing an earlier one
    /// in place. With `full`, the input XR's spec and metadata replace the desired ones.
    static func xr(_ xr: Value, desired: State, conditions: [Condition], full: Bool) -> Value {
        var out = desired.composite?.object ?? .object([:])
        if out.objectValue == nil { out = .object([:]) }
        out["apiVersion"] = .string(xr["apiVersion"]?.stringValue ?? "")
        out["kind"] = .string(xr["kind"]?.stringValue ?? "")
        setMetadata(&out, "name", xr[path: "metadata", "name"]?.stringValue ?? "")
        setMetadata(&out, "namespace", xr[path: "metadata", "namespace"]?.stringValue ?? "")

        var status = out["status"]?.objectValue ?? Fields()
        var list = (status["conditions"]?.listValue ?? []).compactMap(decodedCondition)
        setCondition(&list, ready(desired))
        for c in conditions where !systemConditionTypes.contains(c.type) {
            setCondition(&list, condition(c))
        }
        status["conditions"] = .list(list)
        out["status"] = .object(status)

        if full {
            if let spec = xr["spec"] { out["spec"] = spec }
            if let metadata = xr["metadata"] { out["metadata"] = metadata }
        }
        return out
    }

    /// Crossplane's `Ready` condition: the XR's declared readiness wins; else
    /// `Available` when every composed resource is ready, `Creating` naming
    /// the unready ones otherwise.
    static func ready(_ desired: State) -> Value {
        switch desired.composite?.ready ?? .unspecified {
        case .ready: return stamped(type: "Ready", status: "True", reason: "Available")
        case .notReady: return stamped(type: "Ready", status: "False", reason: "Creating")
        case .unspecified:
            let unready = desired.resources.filter { $0.value.ready != .ready }.map(\.key).sorted(by: utf8Less)
            if unready.isEmpty { return stamped(type: "Ready", status: "True", reason: "Available") }
            return stamped(
                type: "Ready", status: "False", reason: "Creating",
                message: "Unready resources: \(firstNAndSomeMore(unready))")
        }
    }

    /// `a`, `a, b`, `a, b, and c`, or `a, b, c, and 2 more` (crossplane-runtime's wording).
    static func firstNAndSomeMore(_ names: [String]) -> String {
        let n = unreadyNamesShown
        if names.count > n { return names[..<n].joined(separator: ", ") + ", and \(names.count - n) more" }
        if names.count == n { return names[..<(n - 1)].joined(separator: ", ") + ", and " + names[n - 1] }
        return names.joined(separator: ", ")
    }

    /// A function's condition as render prints it.
    static func condition(_ c: Condition) -> Value {
        let status: String
        switch c.status {
        case .true: status = "True"
        case .false: status = "False"
        case .unknown: status = "Unknown"
        }
        return stamped(type: c.type, status: status, reason: c.reason, message: c.message ?? "")
    }

    /// A condition with render's fixed transition time; an empty message is omitted, as Go's `omitempty` does.
    static func stamped(type: String, status: String, reason: String, message: String = "") -> Value {
        var o: Fields = [
            "type": .string(type), "status": .string(status), "reason": .string(reason),
            "lastTransitionTime": .string(conditionTime),
        ]
        if !message.isEmpty { o["message"] = .string(message) }
        return .object(o)
    }

    /// A condition already in the desired composite's status, keeping only the
    /// fields Crossplane's condition type has (a missing time prints as null, as in Go).
    static func decodedCondition(_ v: Value) -> Value? {
        guard let o = v.objectValue else { return nil }
        var c: Fields = [
            "type": .string(o["type"]?.stringValue ?? ""), "status": .string(o["status"]?.stringValue ?? ""),
            "reason": .string(o["reason"]?.stringValue ?? ""), "lastTransitionTime": o["lastTransitionTime"] ?? .null,
        ]
        if let m = o["message"]?.stringValue, !m.isEmpty { c["message"] = .string(m) }
        if let g = o["observedGeneration"]?.intValue, g != 0 { c["observedGeneration"] = .int(g) }
        return .object(c)
    }

    /// crossplane-runtime's `SetConditions`: replace a condition of the same type
    /// in place unless equal but for its time, else append.
    static func setCondition(_ list: inout [Value], _ c: Value) {
        func sameButTime(_ a: Value, _ b: Value) -> Bool {
            ["type", "status", "reason", "message", "observedGeneration"].allSatisfy { a[$0] == b[$0] }
        }
        guard let i = list.firstIndex(where: { $0["type"] == c["type"] }) else {
            list.append(c)
            return
        }
        if !sameButTime(list[i], c) { list[i] = c }
    }

    /// A composed resource as render prints it: the observed resource's name,
    /// namespace and generateName kept; `generateName: <xr>-` when it has no
    /// name; the XR's namespace; the resource-name annotation, the composite
    /// (and claim) labels; the XR as controller owner reference.
    static func composed(_ object: Value, key: String, xr: Value, observed: Value?) throws -> Value {
        var out = object
        if out.objectValue == nil { out = .object([:]) }
        if let observed {
            for field in ["namespace", "name", "generateName"] {
                setMetadata(&out, field, observed[path: "metadata", field]?.stringValue ?? "")
            }
        }
        let xrName = xr[path: "metadata", "name"]?.stringValue ?? ""
        let xrLabels = xr[path: "metadata", "labels"]?.objectValue ?? Fields()
        let prefix = nonEmpty(xrLabels[compositeLabel]?.stringValue) ?? xrName
        if nonEmpty(out[path: "metadata", "name"]?.stringValue) == nil,
            nonEmpty(out[path: "metadata", "generateName"]?.stringValue) == nil
        {
            setMetadata(&out, "generateName", prefix + "-")
        }
        if let ns = nonEmpty(xr[path: "metadata", "namespace"]?.stringValue) { setMetadata(&out, "namespace", ns) }

        var metadata = out["metadata"]?.objectValue ?? Fields()
        var annotations = metadata["annotations"]?.objectValue ?? Fields()
        annotations["crossplane.io/composition-resource-name"] = .string(key)
        metadata["annotations"] = .object(annotations)
        var labels = metadata["labels"]?.objectValue ?? Fields()
        labels[compositeLabel] = .string(prefix)
        if let claimName = nonEmpty(xrLabels["crossplane.io/claim-name"]?.stringValue),
            let claimNamespace = nonEmpty(xrLabels["crossplane.io/claim-namespace"]?.stringValue)
        {
            labels["crossplane.io/claim-name"] = .string(claimName)
            labels["crossplane.io/claim-namespace"] = .string(claimNamespace)
        }
        metadata["labels"] = .object(labels)
        metadata["ownerReferences"] = .list(try ownerReferences(metadata["ownerReferences"], key: key, xr: xr))
        out["metadata"] = .object(metadata)
        return out
    }

    /// Kubernetes' `AddControllerReference`: the XR replaces a reference with its
    /// UID or is appended; another controller is an error.
    static func ownerReferences(_ existing: Value?, key: String, xr: Value) throws -> [Value] {
        let uid = xr[path: "metadata", "uid"]?.stringValue ?? ""
        let name = xr[path: "metadata", "name"]?.stringValue ?? ""
        var refs: [Value] = (existing?.listValue ?? []).compactMap { v in
            guard let o = v.objectValue else { return nil }
            var r: Fields = [
                "apiVersion": .string(o["apiVersion"]?.stringValue ?? ""),
                "kind": .string(o["kind"]?.stringValue ?? ""),
                "name": .string(o["name"]?.stringValue ?? ""), "uid": .string(o["uid"]?.stringValue ?? ""),
            ]
            if let c = o["controller"]?.boolValue { r["controller"] = .bool(c) }
            if let b = o["blockOwnerDeletion"]?.boolValue { r["blockOwnerDeletion"] = .bool(b) }
            return .object(r)
        }
        if let other = refs.first(where: { $0["controller"]?.boolValue == true }), other["uid"]?.stringValue != uid {
            throw RenderError(
                "cannot render composed resource \(quote(key)) metadata: it is already controlled by "
                    + "\(other["kind"]?.stringValue ?? "") \(other["name"]?.stringValue ?? "") "
                    + "(UID \(other["uid"]?.stringValue ?? "")), not by \(quote(name))")
        }
        let ref: Value = [
            "apiVersion": .string(xr["apiVersion"]?.stringValue ?? ""), "kind": .string(xr["kind"]?.stringValue ?? ""),
            "name": .string(name), "uid": .string(uid), "controller": true, "blockOwnerDeletion": true,
        ]
        if let i = refs.firstIndex(where: { $0["uid"]?.stringValue == uid }) {
            refs[i] = ref
        } else {
            refs.append(ref)
        }
        return refs
    }

    /// A Normal or Warning result as render prints it (render prints no reason).
    static func result(_ r: FunctionResult, step: String) -> Value {
        let severity: String
        switch r.severity {
        case .fatal: severity = "SEVERITY_FATAL"
        case .warning: severity = "SEVERITY_WARNING"
        case .normal: severity = "SEVERITY_NORMAL"
        }
        return [
            "apiVersion": "render.crossplane.io/v1beta1", "kind": "Result", "step": .string(step),
            "severity": .string(severity), "message": .string(r.message),
        ]
    }

    /// Sets `metadata.<field>`, or removes it for an empty value (as Go's unstructured setters do).
    private static func setMetadata(_ object: inout Value, _ field: String, _ value: String) {
        var metadata = object["metadata"]?.objectValue
        if value.isEmpty {
            guard metadata?[field] != nil else { return }
            metadata![field] = nil
        } else {
            if metadata == nil { metadata = Fields() }
            metadata![field] = .string(value)
        }
        object["metadata"] = .object(metadata!)
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
