/// One InferenceCluster's own hydration settings (`spec.storage.rwxCache.hydration`,
/// hydrator.md §5), read once per request: the valid settings, or why they are
/// not. A class, immutable: every cluster's view and Job holds a reference, not
/// a copy of a dozen fields (most clusters have none: nil costs nothing).
public final class ClusterHydration: Sendable, Hashable {
    /// The settings, laid over the function input's when a Job is built; nil when invalid.
    public let settings: HydrationSettings?
    /// Every broken rule, naming the field, the value and the rule; nil when valid.
    public let problem: String?
    /// The cluster's own remote namespace (`namespace`), when set and valid, even when another
    /// field is not: where new claims, and all that goes with them, are created on the cluster.
    public let namespace: String?
    /// Whether `namespace` is set but invalid: where new claims belong is unknown until it is fixed.
    public let namespaceInvalid: Bool

    /// Valid settings.
    public init(_ settings: HydrationSettings) {
        self.settings = settings
        self.problem = nil
        self.namespace = settings.namespace
        self.namespaceInvalid = false
    }

    /// Invalid settings, and why; `namespace` is the block's own valid namespace, if any.
    public init(problem: String, namespace: String? = nil, namespaceInvalid: Bool = false) {
        self.settings = nil
        self.problem = problem
        self.namespace = namespace
        self.namespaceInvalid = namespaceInvalid
    }

    /// Reads the block of InferenceCluster `cluster`.
    public convenience init(_ block: Value, cluster: String) {
        var v = Validator()
        let field = "InferenceCluster \(cluster) spec.storage.rwxCache.hydration"
        let settings = HydrationSettings.parse(block, field: field, &v)
        if v.errors.isEmpty {
            self.init(settings)
        } else {
            let declared = block["namespace"].map { !$0.isNull } ?? false
            self.init(
                problem: FieldErrors(v.errors).description, namespace: settings.namespace,
                namespaceInvalid: declared && settings.namespace == nil)
        }
    }

    /// Equal when the settings, the problem and the namespace are.
    public static func == (a: ClusterHydration, b: ClusterHydration) -> Bool {
        a === b
            || (a.settings == b.settings && a.problem == b.problem && a.namespace == b.namespace
                && a.namespaceInvalid == b.namespaceInvalid)
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(settings)
        hasher.combine(problem)
        hasher.combine(namespace)
    }
}
