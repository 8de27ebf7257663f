/// One InferenceCluster's own hydration settings (`spec.storage.rwxCache.hydration`,
/// hydrator.md §5), read once per request: the valid settings, or why they are
/// not. A class, immutable: every cluster's view and Job holds a reference, not
/// a copy of a dozen fields (most clusters have none: nil costs nothing).
public final class ClusterHydration: Sendable, Hashable {
    /// The settings, laid over the function input's when a Job is built; nil when invalid.
    public let settings: HydrationSettings?
    /// Every broken rule, naming the field, the value and the rule; nil when valid.
    public let problem: String?

    /// Valid settings.
    public init(_ settings: HydrationSettings) {
        self.settings = settings
        self.problem = nil
    }

    /// Invalid settings, and why.
    public init(problem: String) {
        self.settings = nil
        self.problem = problem
    }

    /// Reads the block of InferenceCluster `cluster`. A per-cluster `namespace`
    /// is validated and refused: a cluster's own remote namespace is not supported yet.
    public convenience init(_ block: Value, cluster: String) {
        var v = Validator()
        let field = "InferenceCluster \(cluster) spec.storage.rwxCache.hydration"
        let settings = HydrationSettings.parse(block, field: field, &v)
        if let ns = settings.namespace {
            v.fail(
                "\(field).namespace", .string(ns),
                "is not supported yet: set the remote namespace for every cluster with input.hydration.namespace")
        }
        if v.errors.isEmpty {
            self.init(settings)
        } else {
            self.init(problem: FieldErrors(v.errors).description)
        }
    }

    /// Equal when the settings and the problem are.
    public static func == (a: ClusterHydration, b: ClusterHydration) -> Bool {
        a === b || (a.settings == b.settings && a.problem == b.problem)
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(settings)
        hasher.combine(problem)
    }
}
