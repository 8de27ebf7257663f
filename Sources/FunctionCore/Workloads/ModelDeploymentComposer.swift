/// Composes a ModelDeployment: one ModelReplica per selected, eligible cluster,
/// up to spec.replicas, placed stably. See ../shared/spec/workloads.md.
public struct ModelDeploymentComposer: KindComposer {
    /// The XR kind.
    public static let kind = "ModelDeployment"

    /// Creates the composer.
    public init() {}

    /// Composes one ModelDeployment.
    public func compose(_ request: RunRequest, xr context: XR, into response: inout RunResponse) {
        let (xr, namespace, name) = (context.object, context.namespace, context.name)
        var v = Validator()
        let replicas = v.integer(xr[path: "spec", "replicas"], "spec.replicas", in: 1...10, required: true)
        let selector = v.labels(xr[path: "spec", "clusterSelector", "matchLabels"], "spec.clusterSelector.matchLabels")
        let cacheName = v.optionalName(xr[path: "spec", "modelCacheRef", "name"], "spec.modelCacheRef.name", what: "ModelCache")
        let workers = WorkersSpec.parse(xr[path: "spec", "workers"], &v)
        guard v.errors.isEmpty, let replicas, let workers else {
            let message = "Invalid ModelDeployment \(namespace)/\(name): \(FieldErrors(v.errors))"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(Condition(type: "ReplicasScheduled", status: .false, reason: "InvalidSpec", message: message))
            return
        }

        // Replicas composed before: kept unless their cluster is answered and no longer eligible.
        let existing = Self.existingReplicas(request)
        var conditions: [Condition] = []

        // 1. The cache (with a reference) and the clusters its selector and ours both allow.
        let cacheAnswer = cacheName.map { _ in request.requiredResources["cache"] }
        let cache = cacheAnswer??.first.map { ModelCacheView($0.object) }
        var merged = selector
        var conflict: String?
        for (k, value) in cache?.matchLabels ?? [:] {
            if let mine = merged[k], mine != value { conflict = conflict ?? k } else { merged[k] = value }
        }
        var requirements = Requirements(resources: [
            "clusters": ResourceSelector(apiVersion: Composer.apiVersion, kind: ClusterView.kind,
                                         match: .labels(conflict == nil ? merged : selector))
        ])
        if let cacheName {
            requirements.resources["cache"] = ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ModelCacheComposer.kind, match: .name(cacheName), namespace: namespace)
        }
        response.requirements = requirements
        let answered = requirements.resources.keys.allSatisfy { request.requiredResources[$0] != nil }
        let clusters = ClusterView.answered(request, key: "clusters") ?? []

        // 2. Whether new replicas may be placed, and where.
        var placeNew = answered
        if let cacheName {
            if !answered {
                conditions.append(Condition(type: "ModelCacheResolved", status: .false, reason: "Unresolved",
                                            message: "Waiting for ModelCache \(namespace)/\(cacheName) to be resolved"))
            } else if cache == nil {
                placeNew = false
                let message = "ModelCache \(namespace)/\(cacheName) does not exist; existing replicas are kept, none are placed"
                conditions.append(Condition(type: "ModelCacheResolved", status: .false, reason: "NotFound", message: message))
                if condition(xr, "ModelCacheResolved")?["reason"]?.stringValue != "NotFound" {
                    response.results.append(.warning(message, reason: "ModelCacheNotFound"))
                }
            } else {
                conditions.append(Condition(type: "ModelCacheResolved", status: .true, reason: "Resolved",
                                            message: "ModelCache \(namespace)/\(cacheName) found"))
            }
        }
        let eligible = clusters.filter { Self.isEligible($0, cache: cache, workers: workers) }.map(\.name)
        // An existing replica stays while its cluster is eligible, or while an input
        // it depends on is missing or conflicting (nothing running is lost to a missing input).
        let keep = existing.filter { eligible.contains($0) || !placeNew || conflict != nil }
        var placed = Array(keep.sorted(by: utf8Less).prefix(Int(replicas)))
        if placeNew && conflict == nil {
            for c in eligible where placed.count < Int(replicas) && !placed.contains(c) { placed.append(c) }
        }

        // 3. The replicas.
        var ready = 0
        for cluster in placed {
            let key = "replica-\(cluster)"
            var labels: Value = ["modelplane.ai/deployment": .string(name), "modelplane.ai/cluster": .string(cluster)]
            var spec: Value = ["inferenceClusterRef": ["name": .string(cluster)], "workers": workers.raw]
            if let cacheName {
                labels["modelplane.ai/modelcache"] = .string(cacheName)
                spec["modelCacheRef"] = xr[path: "spec", "modelCacheRef"] ?? ["name": .string(cacheName)]
            }
            let isReady = conditionStatus(request.observed.resources[key]?.object, "Ready") == "True"
            if isReady { ready += 1 }
            response.desired.resources[key] = Resource(
                object: ["apiVersion": .string(Composer.apiVersion), "kind": .string(ModelReplicaComposer.kind),
                         "metadata": ["labels": labels], "spec": spec],
                ready: isReady ? .ready : .notReady)
        }

        // 4. Status and conditions.
        if !answered {
            conditions.append(Condition(type: "ReplicasScheduled", status: .false, reason: "Unresolved",
                                        message: "Waiting for the selected clusters to be resolved"))
        } else if let conflict {
            conditions.append(Condition(type: "ReplicasScheduled", status: .false, reason: "SelectorConflict",
                message: "spec.clusterSelector and ModelCache \(cacheName ?? "") both select label \(quote(conflict)) with "
                    + "different values (\(quote(selector[conflict] ?? "")) and \(quote(cache?.matchLabels[conflict] ?? ""))): "
                    + "no cluster can satisfy both"))
        } else if placed.isEmpty {
            conditions.append(Condition(type: "ReplicasScheduled", status: .false, reason: "NoEligibleClusters",
                                        message: Self.noEligibleMessage(cache: cacheName, workers: workers, clusters: clusters.count)))
        } else {
            conditions.append(Condition(type: "ReplicasScheduled", status: placed.count == Int(replicas) ? .true : .false,
                                        reason: placed.count == Int(replicas) ? "Scheduled" : "PartiallyScheduled",
                                        message: "Placed \(placed.count) of \(replicas) replicas: \(nameList(placed))"))
        }
        let allReady = !placed.isEmpty && ready == placed.count
        conditions.append(allReady
            ? Condition(type: "ReplicasReady", status: .true, reason: "AllReady", message: "All \(ready) replicas are ready")
            : Condition(type: "ReplicasReady", status: .false, reason: "NotReady", message: "\(ready) of \(placed.count) replicas are ready"))
        response.conditions += conditions

        var composite = response.desired.composite ?? Resource(object: [
            "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(Self.kind)])
        var status = composite.object["status"]?.objectValue ?? [:]
        status["replicas"] = ["total": .int(Int64(placed.count)), "ready": .int(Int64(ready))]
        composite.object["status"] = .object(status)
        composite.ready = allReady ? .ready : .notReady
        response.desired.composite = composite
    }

    /// Clusters that host one of this deployment's replicas, from observed composed resources.
    static func existingReplicas(_ request: RunRequest) -> [String] {
        request.observed.resources.compactMap { key, resource in
            guard key.hasPrefix("replica-") else { return nil }
            return resource.object[path: "spec", "inferenceClusterRef", "name"]?.stringValue ?? String(key.dropFirst("replica-".count))
        }
    }

    /// Ready, reachable, and able to hold this deployment's cache.
    static func isEligible(_ c: ClusterView, cache: ModelCacheView?, workers: WorkersSpec) -> Bool {
        guard c.isReady, c.providerConfig != nil else { return false }
        if let cache {
            guard let phase = cache.phases[c.name] else { return false }
            return phase != CachePhase.failed.rawValue
        }
        if workers.isMultiNode { return c.rwxCache != nil }
        return true
    }

    static func noEligibleMessage(cache: String?, workers: WorkersSpec, clusters: Int) -> String {
        if clusters == 0 { return "No InferenceCluster matches the cluster selector" }
        if let cache { return "None of the \(clusters) selected clusters is Ready with ModelCache \(cache) staged or staging on it" }
        if workers.isMultiNode {
            return "No selected InferenceCluster that is Ready declares spec.storage.rwxCache, which a multi-node deployment "
                + "without a ModelCache needs for its automatic cache"
        }
        return "None of the \(clusters) selected clusters is Ready with a provider config"
    }
}
