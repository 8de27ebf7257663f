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
        let cacheName = v.optionalName(
            xr[path: "spec", "modelCacheRef", "name"], "spec.modelCacheRef.name", what: "ModelCache")
        let workers = WorkersSpec.parse(xr[path: "spec", "workers"], &v)
        guard v.errors.isEmpty, let replicas, let workers else {
            let message = "Invalid ModelDeployment \(namespace)/\(name): \(FieldErrors(v.errors))"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(
                Condition(type: "ReplicasScheduled", status: .false, reason: "InvalidSpec", message: message))
            return
        }

        var conditions: [Condition] = []

        // 1. The cache (with a reference) and the clusters its selector and ours both allow.
        let cacheAnswer = cacheName.map { _ in request.requiredResources["cache"] }
        let cache = cacheAnswer??.first.map { ModelCacheView($0.object) }
        var merged = selector
        // Every conflicting key, in UTF-8 order, so the message never depends on hash order.
        var conflicts: [String] = []
        if let cache {
            for k in cache.matchLabels.keys.sorted(by: utf8Less) {
                let value = cache.matchLabels[k]!
                if let mine = merged[k], mine != value { conflicts.append(k) } else { merged[k] = value }
            }
        }
        let conflict = conflicts.isEmpty ? nil : conflicts
        var requirements = Requirements(resources: [
            "clusters": ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ClusterView.kind,
                match: .labels(conflict == nil ? merged : selector))
        ])
        if let cacheName {
            requirements.resources["cache"] = ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ModelCacheComposer.kind, match: .name(cacheName),
                namespace: namespace)
        }
        response.requirements = requirements
        let answered = requirements.resources.keys.allSatisfy { request.requiredResources[$0] != nil }
        let clusters = context.clusters(request, key: "clusters") ?? []

        // 2. Whether new replicas may be placed, and where.
        var placeNew = answered
        if let cacheName {
            if !answered {
                conditions.append(
                    Condition(
                        type: "ModelCacheResolved", status: .false, reason: "Unresolved",
                        message: "Waiting for ModelCache \(namespace)/\(cacheName) to be resolved"))
            } else if cache == nil {
                placeNew = false
                let message =
                    "ModelCache \(namespace)/\(cacheName) does not exist; existing replicas are kept, none are placed"
                conditions.append(
                    Condition(type: "ModelCacheResolved", status: .false, reason: "NotFound", message: message))
                if condition(xr, "ModelCacheResolved")?["reason"]?.stringValue != "NotFound" {
                    response.results.append(.warning(message, reason: "ModelCacheNotFound"))
                }
            } else if cache?.reportsClusters != true {
                // Unknown is not ineligible: a lost status must not move replicas that are still starting.
                placeNew = false
                conditions.append(
                    Condition(
                        type: "ModelCacheResolved", status: .false, reason: "NoStatus",
                        message: "ModelCache \(namespace)/\(cacheName) reports no status.clusters yet; "
                            + "existing replicas are kept, none are placed"))
            } else {
                conditions.append(
                    Condition(
                        type: "ModelCacheResolved", status: .true, reason: "Resolved",
                        message: "ModelCache \(namespace)/\(cacheName) found"))
            }
        }
        // Existing replicas stay through flaps; every move is an event (lifecycle.md §5).
        let plan = Placement.plan(
            existing: Self.existingReplicas(request), answer: answered ? clusters : nil,
            placeNew: placeNew && conflict == nil,
            ineligibility: { Self.ineligibility($0, cache: cache, workers: workers) }, replicas: Int(replicas))
        let placed = plan.clusters
        for m in plan.moves {
            response.results.append(
                .normal("Replica \(m.replica) leaves \(m.cluster): \(m.reason)", reason: "ReplicaMoved"))
        }
        for m in plan.removals {
            response.results.append(
                .normal("Replica \(m.replica) leaves \(m.cluster): \(m.reason)", reason: "ReplicaRemoved"))
        }

        // 3. The replicas.
        var ready = 0
        for cluster in placed {
            let key = "replica-\(cluster)"
            var labels: Value = [
                "modelplane.ai/deployment": .string(labelValue(name)),
                "modelplane.ai/cluster": .string(labelValue(cluster)),
            ]
            var spec: Value = ["inferenceClusterRef": ["name": .string(cluster)], "workers": workers.raw]
            if let cacheName {
                labels["modelplane.ai/modelcache"] = .string(labelValue(cacheName))
                spec["modelCacheRef"] = xr[path: "spec", "modelCacheRef"] ?? ["name": .string(cacheName)]
            }
            let isReady = conditionStatus(request.observed.resources[key]?.object, "Ready") == "True"
            if isReady { ready += 1 }
            response.desired.resources[key] = Resource(
                object: [
                    "apiVersion": .string(Composer.apiVersion), "kind": .string(ModelReplicaComposer.kind),
                    "metadata": ["labels": labels], "spec": spec,
                ],
                ready: isReady ? .ready : .notReady)
        }

        // 4. Status and conditions.
        if !answered {
            conditions.append(
                Condition(
                    type: "ReplicasScheduled", status: .false, reason: "Unresolved",
                    message: "Waiting for the selected clusters to be resolved"))
        } else if let conflict {
            // The first few keys in UTF-8 order (the message stays bounded), and how many more.
            let pairs = conflict.prefix(Self.conflictsShown).map { k in
                "label \(quote(k)) (\(quote(selector[k] ?? "")) and \(quote(cache?.matchLabels[k] ?? "")))"
            }
            let more = conflict.count > Self.conflictsShown ? " and \(conflict.count - Self.conflictsShown) more" : ""
            conditions.append(
                Condition(
                    type: "ReplicasScheduled", status: .false, reason: "SelectorConflict",
                    message: "spec.clusterSelector and ModelCache \(cacheName ?? "") select different values for "
                        + pairs.joined(separator: ", ") + more + ": no cluster can satisfy both"))
        } else if placed.isEmpty {
            conditions.append(
                Condition(
                    type: "ReplicasScheduled", status: .false, reason: "NoEligibleClusters",
                    message: Self.noEligibleMessage(cache: cacheName, workers: workers, clusters: clusters.count)))
        } else {
            conditions.append(
                Condition(
                    type: "ReplicasScheduled", status: placed.count == Int(replicas) ? .true : .false,
                    reason: placed.count == Int(replicas) ? "Scheduled" : "PartiallyScheduled",
                    message: "Placed \(placed.count) of \(replicas) replicas: \(nameList(placed))"))
        }
        let allReady = !placed.isEmpty && ready == placed.count
        conditions.append(
            allReady
                ? Condition(
                    type: "ReplicasReady", status: .true, reason: "AllReady", message: "All \(ready) replicas are ready"
                )
                : Condition(
                    type: "ReplicasReady", status: .false, reason: "NotReady",
                    message: "\(ready) of \(placed.count) replicas are ready"))
        response.conditions += conditions

        var composite =
            response.desired.composite
            ?? Resource(object: [
                "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(Self.kind),
            ])
        var status = composite.object["status"]?.objectValue ?? [:]
        status["replicas"] = ["total": .int(Int64(placed.count)), "ready": .int(Int64(ready))]
        composite.object["status"] = .object(status)
        composite.ready = allReady ? .ready : .notReady
        response.desired.composite = composite
    }

    /// How many conflicting selector keys a message names.
    static let conflictsShown = 5

    /// The replicas this deployment composed before, from observed composed resources.
    static func existingReplicas(_ request: RunRequest) -> [Placement.Existing] {
        request.observed.resources.compactMap { key, resource in
            guard key.hasPrefix("replica-") else { return nil }
            let cluster =
                resource.object[path: "spec", "inferenceClusterRef", "name"]?.stringValue
                ?? String(key.dropFirst("replica-".count))
            return Placement.Existing(
                cluster: cluster, name: resource.object[path: "metadata", "name"]?.stringValue ?? key,
                ready: conditionStatus(resource.object, "Ready") == "True")
        }
    }

    /// Why cluster `c` cannot host a new replica of this deployment (Ready,
    /// reachable, and able to hold its cache), or nil when it can.
    static func ineligibility(_ c: ClusterView, cache: ModelCacheView?, workers: WorkersSpec) -> String? {
        guard c.isReady else { return "InferenceCluster \(c.name) is not Ready" }
        guard c.providerConfig != nil else { return "InferenceCluster \(c.name) has no provider config" }
        if let cache {
            guard let phase = cache.phases[c.name] else {
                return "ModelCache \(cache.name) is neither staged nor staging on \(c.name)"
            }
            switch phase {
            case CachePhase.failed.rawValue: return "ModelCache \(cache.name) failed on \(c.name)"
            // A deselected cluster keeps the claim only for the replicas already there (lifecycle.md §4).
            case CachePhase.retained.rawValue:
                return
                    "ModelCache \(cache.name) no longer selects \(c.name); it is kept there only for its current consumers"
            default: return nil
            }
        }
        if workers.isMultiNode, c.rwxCache == nil {
            return "InferenceCluster \(c.name) declares no spec.storage.rwxCache, which the automatic cache needs"
        }
        return nil
    }

    static func noEligibleMessage(cache: String?, workers: WorkersSpec, clusters: Int) -> String {
        if clusters == 0 { return "No InferenceCluster matches the cluster selector" }
        if let cache {
            return "None of the \(clusters) selected clusters is Ready with ModelCache \(cache) staged or staging on it"
        }
        if workers.isMultiNode {
            return
                "No selected InferenceCluster that is Ready declares spec.storage.rwxCache, which a multi-node deployment "
                + "without a ModelCache needs for its automatic cache"
        }
        return "None of the \(clusters) selected clusters is Ready with a provider config"
    }
}
