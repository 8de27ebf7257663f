/// Composes a ModelDeployment: one ModelReplica per selected, eligible cluster,
/// up to spec.replicas, placed stably. See ../shared/spec/workloads.md.
///
/// Reads top to bottom: validate, ask for the clusters (and the cache), decide
/// whether new replicas may be placed, place them, compose them, then status
/// and conditions.
public struct ModelDeploymentComposer: KindComposer {
    /// The XR kind.
    public static let kind = "ModelDeployment"

    /// Creates the composer.
    public init() {}

    /// Composes one ModelDeployment.
    public func compose(_ request: RunRequest, xr: XR, into response: inout RunResponse) {
        guard
            let spec = response.validSpec(
                ModelDeploymentSpec.parse(xr.object["spec"]), of: xr, kind: Self.kind, condition: "ReplicasScheduled")
        else { return }

        // 1. The cache (with a reference) and the clusters its selector and ours both allow.
        let cache = spec.cacheName.flatMap { _ in request.required(.cache)?.first.map { ModelCacheView($0.object) } }
        let selection = ClusterSelection(own: spec.matchLabels, cache: cache)
        var requirements = Requirements()
        requirements[.clusters] = .inferenceClusters(matching: selection.labels)
        if let cacheName = spec.cacheName { requirements[.cache] = .modelCache(named: cacheName, in: xr.namespace) }
        response.requirements = requirements
        let answered = request.hasAnswered(requirements)
        let clusters = xr.clusters(request, .clusters) ?? []

        // 2. Whether new replicas may be placed: every input known and consistent, the cache resolved.
        let cacheResolved =
            spec.cacheName.map { resolveCache($0, cache, answered: answered, xr: xr, into: &response) } ?? true
        let placeNew = answered && selection.conflicts.isEmpty && cacheResolved

        // 3. Where the replicas go. Existing ones stay through flaps; every move is an event (lifecycle.md §5).
        let placement = Placement.plan(
            existing: Self.existingReplicas(request), answer: answered ? clusters : nil, placeNew: placeNew,
            ineligibility: { Self.ineligibility($0, cache: cache, workers: spec.workers) },
            replicas: Int(spec.replicas))
        response.results += placement.events
        response.results += Self.strandedWarning(placement, xr: xr)

        // 4. The replicas (the target placement and Ready ones serving while they move, §7 rule 4), pinned (§2).
        let composed = placement.composed
        let pin = DeploymentPin(xr: xr.object, spec: spec, request: request)
        if let event = pin?.event(xr: xr) { response.results.append(event) }
        let ready = composeReplicas(on: composed, spec, pin: pin, xr: xr, request: request, into: &response)

        // 5. Status and conditions.
        response.conditions.append(
            scheduled(placement, spec, selection: selection, clusters: answered ? clusters.count : nil))
        response.conditions.append(Self.replicasReady(ready, of: composed.count))
        response.updateDesiredComposite(
            of: xr.object, kind: Self.kind, status: Self.status(ready, of: composed.count, pin: pin),
            ready: !composed.isEmpty && ready == composed.count)
    }

    /// The XR's status: how many replicas are composed and Ready, and the automatic caches' pin, if any.
    static func status(_ ready: Int, of total: Int, pin: DeploymentPin?) -> Fields {
        var status: Fields = ["replicas": ["total": .int(Int64(total)), "ready": .int(Int64(ready))]]
        if let resolved = pin?.resolved { status["resolved"] = resolved.value }
        return status
    }

    /// The `ReplicasScheduled` reason while a Ready replica cannot move for want of an eligible cluster.
    static let noReplacement = "NoReplacement"

    /// A Warning when Ready replicas first stay on clusters that left the
    /// selection because no cluster can take a replacement (once: not while
    /// the XR already says `NoReplacement`).
    static func strandedWarning(_ placement: Placement, xr: XR) -> [FunctionResult] {
        let stranded = placement.stranded
        guard !stranded.isEmpty,
            condition(xr.object, "ReplicasScheduled")?["reason"]?.stringValue != noReplacement
        else { return [] }
        return stranded.map {
            .warning(
                "Replica \(echo($0.from.replica)) stays on \(echo($0.from.cluster)): \($0.from.reason), "
                    + "and no other selected cluster is eligible for a replacement",
                reason: "ReplicaNotMoved")
        }
    }

    /// `ModelCacheResolved` for the referenced cache, with a Warning when it
    /// newly goes missing; answers whether new replicas may be placed on it.
    /// Unknown is not ineligible: a lost status must not move replicas that are still starting.
    private func resolveCache(
        _ name: String, _ cache: ModelCacheView?, answered: Bool, xr: XR, into response: inout RunResponse
    ) -> Bool {
        let cacheName = "\(xr.namespace)/\(name)"
        func resolved(_ status: ConditionStatus, _ reason: String, _ message: String) {
            response.conditions.append(
                Condition(type: "ModelCacheResolved", status: status, reason: reason, message: message))
        }
        guard answered else {
            resolved(.false, "Unresolved", "Waiting for ModelCache \(cacheName) to be resolved")
            return false
        }
        guard let cache else {
            let message = "ModelCache \(cacheName) does not exist; existing replicas are kept, none are placed"
            resolved(.false, "NotFound", message)
            if condition(xr.object, "ModelCacheResolved")?["reason"]?.stringValue != "NotFound" {
                response.results.append(.warning(message, reason: "ModelCacheNotFound"))
            }
            return false
        }
        guard cache.reportsClusters else {
            resolved(
                .false, "NoStatus",
                "ModelCache \(cacheName) reports no status.clusters yet; existing replicas are kept, none are placed")
            return false
        }
        resolved(.true, "Resolved", "ModelCache \(cacheName) found")
        return true
    }

    /// Composes one ModelReplica per cluster in `clusters`, each carrying the automatic
    /// caches' `pin` if any and the deployment's `modelplane.ai/apply-loader`
    /// annotation (sources.md §2) if set; answers how many are Ready.
    private func composeReplicas(
        on clusters: [String], _ spec: ModelDeploymentSpec, pin: DeploymentPin?, xr: XR, request: RunRequest,
        into response: inout RunResponse
    ) -> Int {
        var ready = 0
        let applyLoader = xr.object[path: "metadata", "annotations", LoaderHandOff.applyAnnotation]?.stringValue
        for cluster in clusters {
            let key = ResourceKey.replica(on: cluster)
            var labels: Value = [
                "modelplane.ai/deployment": .string(labelValue(xr.name)),
                "modelplane.ai/cluster": .string(labelValue(cluster)),
            ]
            var replica: Value = ["inferenceClusterRef": ["name": .string(cluster)], "workers": spec.workers.raw]
            if let cacheName = spec.cacheName {
                labels["modelplane.ai/modelcache"] = .string(labelValue(cacheName))
                replica["modelCacheRef"] = spec.cacheRef ?? ["name": .string(cacheName)]
            }
            var metadata: Value = ["labels": labels]
            pin?.apply(spec: &replica, metadata: &metadata)
            if let applyLoader {
                var annotations = metadata["annotations"] ?? [:]
                annotations[LoaderHandOff.applyAnnotation] = .string(echo(applyLoader))
                metadata["annotations"] = annotations
            }
            let isReady = conditionStatus(request.observed.resources[key]?.object, "Ready") == "True"
            if isReady { ready += 1 }
            response.desired.resources[key] = Resource(
                object: [
                    "apiVersion": .string(Composer.apiVersion), "kind": .string(ModelReplicaComposer.kind),
                    "metadata": metadata, "spec": replica,
                ],
                ready: isReady ? .ready : .notReady)
        }
        return ready
    }

    /// `ReplicasScheduled`, given how many `clusters` were answered (nil while unanswered).
    private func scheduled(
        _ placement: Placement, _ spec: ModelDeploymentSpec, selection: ClusterSelection, clusters: Int?
    ) -> Condition {
        let placed = placement.clusters
        guard let clusters else {
            return Condition(
                type: "ReplicasScheduled", status: .false, reason: "Unresolved",
                message: "Waiting for the selected clusters to be resolved")
        }
        if !selection.conflicts.isEmpty {
            return Condition(
                type: "ReplicasScheduled", status: .false, reason: "SelectorConflict",
                message: selection.conflictMessage(cacheName: spec.cacheName ?? ""))
        }
        let message =
            "Placed \(placed.count) of \(spec.replicas) replicas" + (placed.isEmpty ? "" : ": \(nameList(placed))")
        if !placement.stranded.isEmpty {
            return Condition(
                type: "ReplicasScheduled", status: .false, reason: Self.noReplacement,
                message: message + Self.movingMessage(placement))
        }
        if placed.isEmpty {
            return Condition(
                type: "ReplicasScheduled", status: .false, reason: "NoEligibleClusters",
                message: Self.noEligibleMessage(cache: spec.cacheName, workers: spec.workers, clusters: clusters))
        }
        let all = placed.count == Int(spec.replicas)
        return Condition(
            type: "ReplicasScheduled", status: all ? .true : .false, reason: all ? "Scheduled" : "PartiallyScheduled",
            message: message + Self.movingMessage(placement))
    }

    /// What `ReplicasScheduled` adds about replicas that move make-before-break: empty when none moves.
    static func movingMessage(_ placement: Placement) -> String {
        placement.moving.map { m in
            let replica = echo(m.from.replica)
            let from = echo(m.from.cluster)
            guard let to = m.to else {
                return "; replica \(replica) stays on \(from), which left the selection, "
                    + "until a selected cluster is eligible for its replacement"
            }
            return "; moving replica \(replica) from \(from) to \(to): it serves on \(from) until \(to) is Ready"
        }.joined()
    }

    /// `ReplicasReady`: whether all `placed` replicas are (`ready` of them are).
    static func replicasReady(_ ready: Int, of placed: Int) -> Condition {
        placed > 0 && ready == placed
            ? Condition(
                type: "ReplicasReady", status: .true, reason: "AllReady", message: "All \(ready) replicas are ready")
            : Condition(
                type: "ReplicasReady", status: .false, reason: "NotReady",
                message: "\(ready) of \(placed) replicas are ready")
    }

    /// The replicas this deployment composed before, from observed composed resources.
    static func existingReplicas(_ request: RunRequest) -> [Placement.Existing] {
        request.observed.resources.compactMap { key, resource in
            guard let named = ResourceKey.cluster(ofReplica: key) else { return nil }
            let cluster = resource.object[path: "spec", "inferenceClusterRef", "name"]?.stringValue ?? named
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
            // The cache's name is read back from the observed ModelCache (lifecycle.md §7 rule 8).
            guard let phase = cache.phases[c.name] else {
                return "ModelCache \(echo(cache.name)) is neither staged nor staging on \(c.name)"
            }
            switch phase {
            case .failed: return "ModelCache \(echo(cache.name)) failed on \(c.name)"
            // A deselected cluster keeps the claim only for the replicas already there (lifecycle.md §4).
            case .retained:
                return
                    "ModelCache \(echo(cache.name)) no longer selects \(c.name); it is kept there only for its current consumers"
            default: return nil
            }
        }
        if workers.isMultiNode, c.rwxCache == nil {
            return "InferenceCluster \(c.name) declares no spec.storage.rwxCache, which the automatic cache needs"
        }
        return nil
    }

    /// The `NoEligibleClusters` message: why none of `clusters` selected clusters can host a replica.
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
