/// The name under which the function asks Crossplane for resources, and finds
/// the answer in the next request: every requirement, in one place.
public enum RequirementKey: String, Sendable, Hashable {
    /// The InferenceClusters a ModelCache's or a ModelDeployment's selector matches.
    case clusters
    /// The one InferenceCluster a ModelReplica runs on.
    case cluster
    /// The ModelCache a ModelDeployment or a ModelReplica references.
    case cache
    /// A ModelCache's Usages: the replicas that mount it.
    case consumers
    /// A ModelCache's HuggingFace token Secret.
    case tokenSecret = "token-secret"
    /// An Existing InferenceCluster's kubeconfig Secret.
    case kubeconfig
}

extension Requirements {
    /// The resource selector asked for under `key`.
    subscript(key: RequirementKey) -> ResourceSelector? {
        get { resources[key.rawValue] }
        set { resources[key.rawValue] = newValue }
    }
}

extension ResourceSelector {
    /// The InferenceClusters whose labels include `labels` (all of them for none).
    static func inferenceClusters(matching labels: [String: String]) -> ResourceSelector {
        ResourceSelector(apiVersion: Composer.apiVersion, kind: ClusterView.kind, match: .labels(labels))
    }

    /// The InferenceCluster `name` (cluster-scoped).
    static func inferenceCluster(named name: String) -> ResourceSelector {
        ResourceSelector(apiVersion: Composer.apiVersion, kind: ClusterView.kind, match: .name(name))
    }

    /// The ModelCache `name` in `namespace`.
    static func modelCache(named name: String, in namespace: String) -> ResourceSelector {
        ResourceSelector(
            apiVersion: Composer.apiVersion, kind: ModelCacheComposer.kind, match: .name(name), namespace: namespace)
    }

    /// The Secret `name` in `namespace`.
    static func secret(named name: String, in namespace: String) -> ResourceSelector {
        ResourceSelector(apiVersion: "v1", kind: "Secret", match: .name(name), namespace: namespace)
    }

    /// The Usages of ModelCache `cache` in `namespace` (`CacheUsage`'s cache label).
    static func usages(of cache: String, in namespace: String) -> ResourceSelector {
        ResourceSelector(
            apiVersion: CacheUsage.apiVersion, kind: CacheUsage.kind,
            match: .labels([CacheUsage.cacheLabel: labelValue(cache)]), namespace: namespace)
    }
}
