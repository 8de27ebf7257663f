/// Settings a Composition may pass in the step's `input`
/// (`modelcache.fn.modelplane.ai/v1alpha1` `Input`); every field has a default.
public struct Settings: Sendable, Hashable {
    /// The input's apiVersion.
    public static let inputAPIVersion = "modelcache.fn.modelplane.ai/v1alpha1"

    /// Where and how hydration Jobs run (`input.hydration`): the defaults every
    /// InferenceCluster's `spec.storage.rwxCache.hydration` may override.
    public var hydration = HydrationSettings()
    /// The image that runs the hydration program: `input.hydration.image`, or
    /// its older alias `input.hydrationImage`; the hydrator image of this
    /// function's version when neither is set.
    public var hydrationImage: String {
        get { hydration.effectiveImage }
        set { hydration.image = newValue }
    }
    /// The namespace on workload clusters where caches and workloads live.
    public var remoteNamespace = "default"
    /// Seconds a finished hydration Job (and its pod) is kept before Kubernetes removes it.
    public var jobTTLSeconds: Int64 = 300
    /// Retries of a failing hydration pod before the Job is Failed.
    public var jobBackoffLimit: Int64 = 4
    /// Hydration Jobs one ModelCache runs at once; further clusters queue (Pending).
    /// Bounds the response size on big fleets and the load on the artifact source.
    public var maxParallelHydrations = 256
    /// How long Crossplane may cache a response, in seconds.
    public var responseTTLSeconds: Int64 = 60

    /// The defaults.
    public init() {}

    /// Reads the step input; absent means the defaults. Errors name the field.
    public static func parse(_ input: Value?) -> Result<Settings, FieldErrors> {
        var s = Settings()
        guard let input, !input.isNull else { return .success(s) }
        var v = Validator()
        guard v.object(input, "input") != nil else { return .failure(FieldErrors(v.errors)) }
        if let api = input["apiVersion"]?.stringValue, api != inputAPIVersion {
            v.fail("input.apiVersion", .string(api), "must be \(inputAPIVersion)")
        }
        parseHydration(input, into: &s, &v)
        if let ttl = v.integer(input["jobTTLSeconds"], "input.jobTTLSeconds", in: 0...86_400) { s.jobTTLSeconds = ttl }
        if let b = v.integer(input["jobBackoffLimit"], "input.jobBackoffLimit", in: 0...20) { s.jobBackoffLimit = b }
        if let m = v.integer(input["maxParallelHydrations"], "input.maxParallelHydrations", in: 1...1000) {
            s.maxParallelHydrations = Int(m)
        }
        if let t = v.integer(input["responseTTLSeconds"], "input.responseTTLSeconds", in: 1...3600) {
            s.responseTTLSeconds = t
        }
        return v.errors.isEmpty ? .success(s) : .failure(FieldErrors(v.errors))
    }

    /// Reads `input.hydration` and the older fields it has aliases for
    /// (`input.hydrationImage` for `image`, `input.remoteNamespace` for
    /// `namespace`): either spelling works, both must agree when both are set.
    private static func parseHydration(_ input: Value, into s: inout Settings, _ v: inout Validator) {
        if let block = input["hydration"], !block.isNull {
            s.hydration = HydrationSettings.parse(block, field: "input.hydration", &v)
        }
        let old = HydrationParser(block: input, field: "input")
        let image = old.image(&v, key: "hydrationImage")
        let namespace = old.namespace(&v, key: "remoteNamespace")
        for (alias, value, newField, newValue) in [
            ("input.hydrationImage", image, "input.hydration.image", s.hydration.image),
            ("input.remoteNamespace", namespace, "input.hydration.namespace", s.hydration.namespace),
        ] {
            guard let value, let newValue, value != newValue else { continue }
            v.fail(
                newField, .string(newValue),
                "differs from \(alias) \(quote(value)): \(alias) is an alias of \(newField); set one of them")
        }
        s.hydration.image = s.hydration.image ?? image
        s.hydration.namespace = s.hydration.namespace ?? namespace
        s.remoteNamespace = s.hydration.namespace ?? s.remoteNamespace
    }
}

/// One or more field errors, reported together.
public struct FieldErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errors, in the order found.
    public var errors: [FieldError]

    /// Wraps a list of errors.
    public init(_ errors: [FieldError]) { self.errors = errors }

    /// The most errors a message lists; the rest are counted.
    public static let listed = 10

    /// The errors joined with "; ", at most `listed` of them, so a message stays short.
    public var description: String {
        let shown = errors.prefix(Self.listed).map(\.description).joined(separator: "; ")
        return errors.count > Self.listed ? "\(shown); and \(errors.count - Self.listed) more errors" : shown
    }
}
