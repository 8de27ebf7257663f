/// Composes a ModelReplica: the serving workload on one cluster, mounting a
/// shared ModelCache, an automatic per-replica cache (multi-node without a
/// reference), or no cache. See ../shared/spec/workloads.md.
public struct ModelReplicaComposer: KindComposer {
    /// The XR kind.
    public static let kind = "ModelReplica"
    /// Mount path of an automatic cache.
    public static let automaticMountPath = "/mnt/models"

    /// Creates the composer.
    public init() {}

    /// Composes one ModelReplica.
    public func compose(_ request: RunRequest, xr context: XR, into response: inout RunResponse) {
        let (xr, namespace, name, settings) = (context.object, context.namespace, context.name, context.settings)

        var v = Validator()
        let clusterName = v.string(xr[path: "spec", "inferenceClusterRef", "name"], "spec.inferenceClusterRef.name")
        if let c = clusterName, !Rules.isDNSSubdomain(c) {
            v.fail(
                "spec.inferenceClusterRef.name", .string(c),
                "is not a valid InferenceCluster name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.')")
        }
        let cacheName = v.optionalName(
            xr[path: "spec", "modelCacheRef", "name"], "spec.modelCacheRef.name", what: "ModelCache")
        let workers = WorkersSpec.parse(xr[path: "spec", "workers"], &v)
        guard v.errors.isEmpty, let clusterName, let workers else {
            let message = "Invalid ModelReplica \(namespace)/\(name): \(FieldErrors(v.errors))"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(
                Condition(type: "WorkloadReady", status: .false, reason: "InvalidSpec", message: message))
            return
        }

        // 1. Requirements: the cluster by name and, with a reference, the cache.
        var requirements = Requirements(resources: [
            "cluster": ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ClusterView.kind, match: .name(clusterName))
        ])
        if let cacheName {
            requirements.resources["cache"] = ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ModelCacheComposer.kind, match: .name(cacheName),
                namespace: namespace)
        }
        response.requirements = requirements
        let ctx = ReplicaContext(
            request: request, xr: xr, namespace: namespace, name: name, cluster: clusterName,
            settings: settings, workers: workers)
        guard requirements.resources.keys.allSatisfy({ request.requiredResources[$0] != nil }) else {
            response.conditions.append(
                Condition(
                    type: "WorkloadReady", status: .false, reason: "WaitingForCluster",
                    message: "Waiting for InferenceCluster \(clusterName) to be resolved"))
            return
        }

        // 2. The cluster must exist and be reachable.
        guard let cluster = context.clusters(request, key: "cluster")?.first(where: { $0.name == clusterName })
        else {
            return ctx.missingInput(
                "InferenceCluster \(clusterName) does not exist", reason: "ClusterNotFound", &response)
        }
        guard let providerConfig = cluster.providerConfig else {
            return ctx.missingInput(
                "InferenceCluster \(clusterName) has no status.providerConfigRef.name yet",
                reason: "ClusterNotReady", &response)
        }

        // 3. Which cache the pods mount, and whether it is Ready on this cluster.
        let cache: CacheChoice
        if let cacheName {
            guard let object = request.requiredResources["cache"]?.first?.object else {
                return ctx.missingInput(
                    "ModelCache \(namespace)/\(cacheName) does not exist", reason: "CacheNotFound",
                    cacheCondition: true, &response)
            }
            let view = ModelCacheView(object)
            guard let mountPath = view.mountPath else {
                return ctx.missingInput(
                    "ModelCache \(namespace)/\(cacheName) has no valid spec.mount.path",
                    reason: "CacheInvalid", cacheCondition: true, &response)
            }
            let entry = view.clusters[clusterName]
            // Pods mount the revision staged on this cluster (lifecycle.md §2); while an update
            // downloads or after it failed, that is still the older one. Without a staged
            // revision (the cache's status was lost), the revision the running pods mount is kept.
            let staged = entry?.staged
            var mount = WorkloadBuilder.Mount(
                claimName: CacheStaging.claimName(ownerKind: "modelcache", namespace: namespace, name: cacheName),
                path: mountPath)
            mount.revision = staged.map(revisionDirectory) ?? ctx.observedRevision
            cache = .shared(mount, phase: entry?.phase ?? "NotListed", staged: staged)
        } else if workers.isMultiNode {
            guard let rwx = cluster.rwxCache else {
                let message =
                    "Cannot run multi-node replica \(namespace)/\(name) on \(clusterName): InferenceCluster "
                    + "\(clusterName) declares no spec.storage.rwxCache, which the automatic model cache needs; declare "
                    + "spec.storage.rwxCache on the cluster or set spec.modelCacheRef to a ModelCache"
                response.results.append(.fatal(message, reason: "NoRWXStorage"))
                response.conditions.append(
                    Condition(type: "CacheReady", status: .false, reason: "NoRWXStorage", message: message))
                return
            }
            guard let auto = AutomaticCache.plan(ctx, providerConfig: providerConfig, rwx: rwx, response: &response)
            else { return }
            cache = auto
        } else {
            cache = .none
        }

        ctx.composeWorkload(cache: cache, providerConfig: providerConfig, into: &response)
    }
}

/// The cache a replica's pods mount.
enum CacheChoice {
    /// A ModelCache's claim, with the cache's phase on this cluster and the
    /// identity of the revision staged there, if any.
    case shared(WorkloadBuilder.Mount, phase: String, staged: String?)
    /// The replica's own claim, with its phase, source identity and the identity
    /// of the revision staged on it, if any.
    case automatic(WorkloadBuilder.Mount, phase: String, source: String, staged: String? = nil)
    /// None: single-node without a reference.
    case none
}

extension CacheChoice {
    /// The identity of the revision staged on the cluster, when known.
    var staged: String? {
        switch self {
        case .shared(_, _, let staged), .automatic(_, _, _, let staged): return staged
        case .none: return nil
        }
    }
}
