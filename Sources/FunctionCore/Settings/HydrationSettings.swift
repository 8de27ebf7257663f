/// Where and how hydration Jobs run (hydrator.md §5): the function input's
/// `hydration` block sets the defaults, an InferenceCluster's
/// `spec.storage.rwxCache.hydration` overrides them on that cluster. Every field
/// is optional (nil: not set here); `over(_:)` lays one block over another, and
/// the effective values (`effectiveImage`, `effectiveDeadlineSeconds`) apply the
/// function's defaults. Parsed and validated once (`parse`); nothing from it
/// ever reaches shell text (the Job runs a program, not a shell).
public struct HydrationSettings: Sendable, Hashable {
    /// The hydration image.
    public var image: String?
    /// A hub mirror (`HF_ENDPOINT`): an http(s) URL, a path prefix allowed.
    public var endpoint: String?
    /// The proxy for outbound HTTPS (`HTTPS_PROXY`).
    public var httpsProxy: String?
    /// Hosts reached without the proxy (`NO_PROXY`, with the API server's added).
    public var noProxy: [String]?
    /// A CA bundle on the workload cluster, appended to the image's own.
    public var caBundle: CABundle?
    /// The container's `resources` (`requests`/`limits` of `cpu`/`memory`), validated.
    public var resources: Value?
    /// The pod's `nodeSelector`.
    public var nodeSelector: [String: String]?
    /// The pod's `tolerations`, validated.
    public var tolerations: Value?
    /// The pod's image pull Secrets, by name.
    public var imagePullSecrets: [String]?
    /// The Job's `activeDeadlineSeconds`.
    public var deadlineSeconds: Int64?
    /// An existing ServiceAccount the Job runs as instead of the function's own (sources.md §1).
    public var serviceAccount: String?
    /// Registries (`host[:port]`) an OCI source may reach over plain HTTP (sources.md §1).
    public var plainHTTPRegistries: [String]?
    /// The remote namespace of new claims and all that goes with them (the function input's is an
    /// alias of `input.remoteNamespace`; a cluster's own overrides it there).
    public var namespace: String?
    /// Identity prefixes a source must match (whole path segments) to be staged (sources.md §1); nil allows all.
    public var allowedSources: [String]?

    /// A ConfigMap key holding PEM certificates, on the workload cluster.
    public struct CABundle: Sendable, Hashable {
        /// The ConfigMap's name, in the remote namespace.
        public var configMapName: String
        /// The data key (default `ca.crt`).
        public var key: String
    }

    /// Nothing set: every default applies.
    public init() {}

    /// The Job's deadline when none is set: 24 hours.
    public static let defaultDeadlineSeconds: Int64 = 86_400
    /// The deadlines accepted: 10 minutes to 7 days.
    public static let deadlineRange: ClosedRange<Int64> = 600...604_800

    /// The image, or the hydrator image of this function's version.
    public var effectiveImage: String { image ?? FunctionVersion.hydratorImage }
    /// The deadline, or 24 hours.
    public var effectiveDeadlineSeconds: Int64 { deadlineSeconds ?? Self.defaultDeadlineSeconds }

    /// This block laid over `base`: each field set here wins as a whole (a
    /// cluster's `nodeSelector` replaces the default one, it is not merged).
    public func over(_ base: HydrationSettings) -> HydrationSettings {
        var s = self
        s.image = image ?? base.image
        s.endpoint = endpoint ?? base.endpoint
        s.httpsProxy = httpsProxy ?? base.httpsProxy
        s.noProxy = noProxy ?? base.noProxy
        s.caBundle = caBundle ?? base.caBundle
        s.resources = resources ?? base.resources
        s.nodeSelector = nodeSelector ?? base.nodeSelector
        s.tolerations = tolerations ?? base.tolerations
        s.imagePullSecrets = imagePullSecrets ?? base.imagePullSecrets
        s.deadlineSeconds = deadlineSeconds ?? base.deadlineSeconds
        s.serviceAccount = serviceAccount ?? base.serviceAccount
        s.plainHTTPRegistries = plainHTTPRegistries ?? base.plainHTTPRegistries
        s.namespace = namespace ?? base.namespace
        s.allowedSources = allowedSources ?? base.allowedSources
        return s
    }

    /// The fields a block may hold.
    public static let fields = [
        "allowedSources", "caBundle", "deadline", "endpoint", "httpsProxy", "image", "imagePullSecrets", "namespace",
        "noProxy",
        "nodeSelector", "plainHTTPRegistries", "resources", "serviceAccount", "tolerations",
    ]

    /// Reads the block `block` found at `field` (e.g. `input.hydration`), recording
    /// every broken rule in `v` with the field, the value and the rule.
    public static func parse(_ block: Value, field: String, _ v: inout Validator) -> HydrationSettings {
        var s = HydrationSettings()
        guard let o = v.object(block, field)?.objectValue else { return s }
        for entry in o where !fields.contains(entry.key) {
            v.fail(
                "\(field).\(pathKey(entry.key))", nil,
                "is not a hydration setting: use \(fields.joined(separator: ", "))")
        }
        let p = HydrationParser(block: block, field: field)
        s.image = p.image(&v)
        s.endpoint = p.url("endpoint", &v, HydrationRules.endpointProblem)
        s.httpsProxy = p.url("httpsProxy", &v, HydrationRules.proxyProblem)
        s.noProxy = p.list("noProxy", &v, HydrationRules.noProxyProblem)
        s.caBundle = p.caBundle(&v)
        s.resources = p.resources(&v)
        s.nodeSelector = p.nodeSelector(&v)
        s.tolerations = p.tolerations(&v)
        s.imagePullSecrets = p.list("imagePullSecrets", &v, HydrationRules.secretNameProblem)
        s.deadlineSeconds = p.deadline(&v)
        s.serviceAccount = p.serviceAccount(&v)
        s.plainHTTPRegistries = p.list("plainHTTPRegistries", &v, HydrationRules.registryProblem)
        s.namespace = p.namespace(&v)
        s.allowedSources = p.list("allowedSources", &v, SourcePrefix.problem)
        return s
    }
}
