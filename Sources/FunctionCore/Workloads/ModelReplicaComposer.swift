/// Composes a ModelReplica: the serving workload on one cluster, mounting a
/// shared ModelCache, an automatic per-replica cache (multi-node without a
/// reference), or no cache. See ../shared/spec/workloads.md.
///
/// Reads top to bottom: validate, ask for the cluster (and the cache), wait or
/// refuse while an input is missing, choose the cache the pods mount, then
/// compose the workload with its status and conditions.
public struct ModelReplicaComposer: KindComposer {
    /// The XR kind.
    public static let kind = "ModelReplica"
    /// Mount path of an automatic cache.
    public static let automaticMountPath = "/mnt/models"

    /// Creates the composer.
    public init() {}

    /// Composes one ModelReplica.
    public func compose(_ request: RunRequest, xr: XR, into response: inout RunResponse) {
        guard
            let spec = response.validSpec(
                ModelReplicaSpec.parse(xr.object["spec"]), of: xr, kind: Self.kind, condition: "WorkloadReady")
        else { return }

        // 1. Requirements: the cluster by name and, with a reference, the cache.
        var requirements = Requirements()
        requirements[.cluster] = .inferenceCluster(named: spec.clusterName)
        if let cacheName = spec.cacheName { requirements[.cache] = .modelCache(named: cacheName, in: xr.namespace) }
        response.requirements = requirements
        guard request.hasAnswered(requirements) else {
            return response.conditions.append(
                Condition(
                    type: "WorkloadReady", status: .false, reason: "WaitingForCluster",
                    message: "Waiting for InferenceCluster \(spec.clusterName) to be resolved"))
        }
        let replica = ReplicaContext(request: request, xr: xr, spec: spec)

        // 2. The cluster must exist and be reachable.
        guard let cluster = xr.clusters(request, .cluster)?.first(where: { $0.name == spec.clusterName }) else {
            return replica.missingInput(
                "InferenceCluster \(spec.clusterName) does not exist", reason: "ClusterNotFound", &response)
        }
        guard let providerConfig = cluster.providerConfig else {
            return replica.missingInput(
                "InferenceCluster \(spec.clusterName) has no status.providerConfigRef.name yet",
                reason: "ClusterNotReady", &response)
        }

        // 3. Which cache the pods mount, and whether it is Ready on this cluster; the remote namespace of it all.
        guard let (cache, namespace, notes) = chooseCache(replica, cluster, providerConfig: providerConfig, &response)
        else { return }

        // 4. The workload, its Service and the cache's Usage, with status and conditions.
        replica.composeWorkload(
            cache: cache, providerConfig: providerConfig, namespace: namespace, notes: notes, into: &response)
    }

    /// The cache the pods mount: the referenced ModelCache's, a multi-node
    /// replica's automatic one, or none; and the remote namespace the workload runs in:
    /// where it runs already, else the claim's, else the cluster's own or the function
    /// input's (hydrator.md §5); and what an existing automatic claim keeps. nil (after waiting
    /// or refusing) while the one needed cannot be mounted.
    private func chooseCache(
        _ replica: ReplicaContext, _ cluster: ClusterView, providerConfig: String, _ response: inout RunResponse
    ) -> (CacheChoice, String, [String])? {
        if let cacheName = replica.cacheName { return sharedCache(cacheName, replica, &response).map { ($0, $1, []) } }
        let wanted = Self.wantedNamespace(cluster, settings: replica.settings)
        guard replica.workers.isMultiNode else {
            guard let namespace = replica.workloadNamespace ?? wanted else {
                return Self.waitForNamespace(replica, cluster, &response)
            }
            return (CacheChoice.noCache, namespace, [])
        }
        let kept = ClaimSizing.namespace(of: replica.request.observed.resources[.automaticClaim])
        guard let namespace = kept ?? replica.workloadNamespace ?? wanted else {
            return Self.waitForNamespace(replica, cluster, &response)
        }
        return automaticCache(
            replica, cluster, providerConfig: providerConfig, namespace: namespace, wanted: wanted ?? namespace,
            &response
        ).map { ($0, namespace, $1) }
    }

    /// Where the replica creates something new on `cluster`: the cluster's own remote
    /// namespace, else the function input's; nil while the cluster's own is invalid.
    static func wantedNamespace(_ cluster: ClusterView, settings: Settings) -> String? {
        guard let hydration = cluster.hydration else { return settings.remoteNamespace }
        return hydration.namespaceInvalid ? nil : hydration.namespace ?? settings.remoteNamespace
    }

    /// Waits (nothing is created) while the cluster's own remote namespace is invalid.
    private static func waitForNamespace(
        _ replica: ReplicaContext, _ cluster: ClusterView, _ response: inout RunResponse
    ) -> (CacheChoice, String, [String])? {
        replica.missingInput(
            "\(cluster.hydration?.problem ?? "InferenceCluster \(cluster.name) has an invalid namespace"); nothing is "
                + "created on InferenceCluster \(cluster.name) until it is fixed", reason: "InvalidClusterSettings",
            &response)
        return nil
    }

    /// The ModelCache `name`'s claim, mounted at its mount path, and the claim's remote
    /// namespace on the cluster (what the cache's status names, else the function input's);
    /// nil (after waiting or refusing) while the cache does not exist or is invalid, or while
    /// the running workload is in another namespace than the claim (it cannot mount it there).
    private func sharedCache(_ name: String, _ replica: ReplicaContext, _ response: inout RunResponse)
        -> (CacheChoice, String)?
    {
        let cacheName = "\(replica.namespace)/\(name)"
        guard let object = replica.request.required(.cache)?.first?.object else {
            replica.missingInput(
                "ModelCache \(cacheName) does not exist", reason: "CacheNotFound", cacheCondition: true, &response)
            return nil
        }
        let view = ModelCacheView(object)
        guard let mountPath = view.mountPath else {
            replica.missingInput(
                "ModelCache \(cacheName) has no valid spec.mount.path", reason: "CacheInvalid",
                cacheCondition: true, &response)
            return nil
        }
        let entry = view.clusters[replica.cluster]
        // A phase this function does not write (a garbled status) is not passed on: Unknown.
        let phase = entry.map { $0.phase?.rawValue ?? "Unknown" } ?? "NotListed"
        let ours = CacheStaging.claimName(ownerKind: "modelcache", namespace: replica.namespace, name: name)
        // A volume source's claim is the user's (sources.md §1).
        let claim = view.volume?.claimName ?? ours
        let running = replica.running
        let workloadNamespace = replica.workloadNamespace
        // Switching caches is make-before-break (lifecycle.md §7 rule 2): until the new cache
        // has a revision staged here, the pods keep the old cache's claim and revision.
        if entry?.staged == nil, replica.hasWorkload, let old = running.claim, old != claim {
            var mount = WorkloadBuilder.Mount(claimName: old, path: running.path ?? mountPath, loader: view.loader)
            mount.revision = running.revision
            (mount.isVolume, mount.volumeSubPath) = running.volumeMount
            let from = replica.observedUsages.first { $0.claim == old }.map { "cache \($0.cache)" } ?? "claim \(old)"
            return (
                .shared(mount, phase: phase, staged: nil, servingOther: from),
                workloadNamespace ?? replica.settings.remoteNamespace
            )
        }
        guard
            let (namespace, field) = Self.claimNamespace(
                view, entry: entry, cacheName: cacheName, replica, workloadNamespace: workloadNamespace, &response)
        else { return nil }
        if let workloadNamespace, workloadNamespace != namespace {
            replica.missingInput(
                "the claim of ModelCache \(cacheName) on \(replica.cluster) is in namespace \(namespace) (\(field)) "
                    + "and the running workload in namespace \(workloadNamespace): a pod mounts only a claim in its "
                    + "own namespace; create the replica again to move it", reason: "NamespaceMismatch",
                cacheCondition: true, &response)
            return nil
        }
        // Pods mount the revision staged on this cluster (lifecycle.md §2); while an update
        // downloads or after it failed, that is still the older one. Without a staged
        // revision (the cache's status was lost), the revision the running pods mount is kept.
        if let staged = entry?.staged {
            var mount = WorkloadBuilder.Mount.staged(staged, claim: ours, path: mountPath)
            mount.loader = view.loader
            return (.shared(mount, phase: phase, staged: staged), namespace)
        }
        var mount = WorkloadBuilder.Mount(claimName: claim, path: mountPath, loader: view.loader)
        if running.claim == claim { (mount.revision, (mount.isVolume, mount.volumeSubPath)) = running.served }
        return (.shared(mount, phase: phase, staged: nil), namespace)
    }

    /// The remote namespace of the claim of the ModelCache `view` on the replica's cluster: the one its
    /// status entry names, else the one its status was written under (`status.remoteNamespace`, which
    /// the replica's own function input may not be yet, just after a change). A cache this function
    /// does not list here (a lost status) says nothing of it: the running workload's is kept. A status
    /// that does not say (written by an earlier release under this input, or under `default`) is read
    /// as the input's while that is `default`, else the running workload's; without one the replica
    /// waits (nil) until the cache is reconciled, rather than create a workload beside no claim.
    /// Answers, with the namespace, the field it was read from.
    private static func claimNamespace(
        _ view: ModelCacheView, entry: ModelCacheView.ClusterEntry?, cacheName: String, _ replica: ReplicaContext,
        workloadNamespace: String?, _ response: inout RunResponse
    ) -> (String, field: String)? {
        if let named = view.namespaces[replica.cluster] { return (named, "its status.clusters[].namespace") }
        if entry == nil, let workloadNamespace { return (workloadNamespace, "where the workload runs") }
        if let written = view.remoteNamespace { return (written, "its status.remoteNamespace") }
        let input = replica.settings.remoteNamespace
        if input == ObservedCacheStatus.defaultNamespace { return (input, "input.hydration.namespace") }
        if let workloadNamespace { return (workloadNamespace, "where the workload runs") }
        replica.missingInput(
            "ModelCache \(cacheName) does not say which remote namespace its claim on \(replica.cluster) is in "
                + "(status.remoteNamespace is not set; input.hydration.namespace is \(input)): waiting for the "
                + "cache to be reconciled", reason: "CacheNamespaceUnknown", cacheCondition: true, &response)
        return nil
    }

    /// The replica's own cache on the cluster's ReadWriteMany storage, in `namespace` (its claim's
    /// when it exists; `wanted` is where a new one goes); nil (after refusing) when the cluster
    /// declares none or the engine names no usable model.
    private func automaticCache(
        _ replica: ReplicaContext, _ cluster: ClusterView, providerConfig: String, namespace: String, wanted: String,
        _ response: inout RunResponse
    ) -> (CacheChoice, notes: [String])? {
        guard let rwx = cluster.rwxCache else {
            response.refuse(
                "Cannot run multi-node replica \(replica.namespace)/\(replica.name) on \(cluster.name): "
                    + "InferenceCluster \(cluster.name) declares no spec.storage.rwxCache, which the automatic model "
                    + "cache needs; declare spec.storage.rwxCache on the cluster or set spec.modelCacheRef to a "
                    + "ModelCache", reason: "NoRWXStorage", condition: "CacheReady")
            return nil
        }
        return AutomaticCache.plan(
            replica, providerConfig: providerConfig, rwx: rwx, pin: replica.cachePin, hydration: cluster.hydration,
            namespace: namespace, wanted: wanted, response: &response)
    }
}

/// The cache a replica's pods mount.
enum CacheChoice {
    /// A ModelCache's claim, with the cache's phase on this cluster and the
    /// identity of the revision staged there, if any; `servingOther` names the
    /// cache (or claim) the pods keep reading while the referenced one stages.
    case shared(WorkloadBuilder.Mount, phase: String, staged: String?, servingOther: String? = nil)
    /// The replica's own claim, with its phase, its staging status entry (source,
    /// latched failure) and the identity of the revision staged on it, if any.
    case automatic(WorkloadBuilder.Mount, phase: String, entry: StagingEntry, staged: String? = nil)
    /// None: single-node without a reference.
    case noCache
}

extension CacheChoice {
    /// The claim the pods mount, if any.
    var mount: WorkloadBuilder.Mount? {
        switch self {
        case .shared(let mount, _, _, _), .automatic(let mount, _, _, _): return mount
        case .noCache: return nil
        }
    }

    /// The cache's phase on the cluster, if there is a cache.
    var phase: String? {
        switch self {
        case .shared(_, let phase, _, _), .automatic(_, let phase, _, _): return phase
        case .noCache: return nil
        }
    }

    /// The identity of the revision staged on the cluster, when known.
    var staged: String? {
        switch self {
        case .shared(_, _, let staged, _), .automatic(_, _, _, let staged): return staged
        case .noCache: return nil
        }
    }
}
