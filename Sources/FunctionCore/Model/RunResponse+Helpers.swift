/// Writing a response in the Go SDK's `response` style (`response.Fatal`,
/// `response.ConditionFalse`, `response.SetDesiredCompositeResource`): what
/// every composer does to its response, named once.
extension RunResponse {
    /// Refuses to compose: a FATAL result and a False condition of type `condition`,
    /// both with `message` and `reason`. The pipeline stops: Crossplane applies nothing.
    public mutating func refuse(_ message: String, reason: String, condition: String) {
        results.append(.fatal(message, reason: reason))
        conditions.append(Condition(type: condition, status: .false, reason: reason, message: message))
    }

    /// The spec `parsed` from the namespaced XR `xr` of kind `kind`, or nil after
    /// refusing it (`Invalid <kind> <namespace>/<name>: <errors>`, reason
    /// `InvalidSpec`, with a False `condition`).
    public mutating func validSpec<Spec>(
        _ parsed: Result<Spec, FieldErrors>, of xr: XR, kind: String, condition: String
    ) -> Spec? {
        switch parsed {
        case .success(let spec): return spec
        case .failure(let errors):
            refuse("Invalid \(kind) \(xr.namespace)/\(xr.name): \(errors)", reason: "InvalidSpec", condition: condition)
            return nil
        }
    }

    /// The desired composite earlier steps left, or a new one of the observed
    /// XR's apiVersion and `kind`.
    public func desiredComposite(of xr: Value, kind: String) -> Resource {
        desired.composite ?? Resource(object: Self.newComposite(of: xr, kind: kind))
    }

    /// Updates the desired composite (`desiredComposite(of:kind:)`): merges
    /// `status` into its status, field by field (an empty `status` leaves the
    /// status as it is), and sets its readiness.
    public mutating func updateDesiredComposite(of xr: Value, kind: String, status: Fields = [:], ready: Bool) {
        var composite = desiredComposite(of: xr, kind: kind)
        if !status.isEmpty {
            var merged = composite.object["status"]?.objectValue ?? [:]
            for (key, value) in status { merged[key] = value }
            composite.object["status"] = .object(merged)
        }
        composite.ready = ready ? .ready : .notReady
        desired.composite = composite
    }

    /// Replaces the desired composite with a new one of the observed XR's
    /// apiVersion and `kind`, not ready, without status.
    public mutating func resetDesiredComposite(of xr: Value, kind: String) {
        desired.composite = Resource(object: Self.newComposite(of: xr, kind: kind), ready: .notReady)
    }

    /// A composite with only the observed XR's apiVersion and `kind`.
    private static func newComposite(of xr: Value, kind: String) -> Value {
        ["apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(kind)]
    }
}
