/// What a ModelReplica composition works from, and its two outcomes:
/// waiting on a missing input, or composing the workload.
struct ReplicaContext {
    /// The request being composed.
    let request: RunRequest
    /// The observed ModelReplica.
    let xr: Value
    /// Its namespace.
    let namespace: String
    /// Its name.
    let name: String
    /// The InferenceCluster it runs on.
    let cluster: String
    /// The ModelCache its pods mount, if any.
    let cacheName: String?
    /// The step input's settings.
    let settings: Settings
    /// Its validated `spec.workers`.
    let workers: WorkersSpec

    /// The replica `xr` with its validated `spec`.
    init(request: RunRequest, xr: XR, spec: ModelReplicaSpec) {
        self.request = request
        self.xr = xr.object
        self.namespace = xr.namespace
        self.name = xr.name
        self.cluster = spec.clusterName
        self.cacheName = spec.cacheName
        self.settings = xr.settings
        self.workers = spec.workers
    }

    /// The pin of the automatic cache, `spec.cachePin`, set only by the replica's
    /// ModelDeployment (hydrator.md §2); nil when absent or malformed. Read only for
    /// an automatic cache.
    var cachePin: ResolvedPin? { ResolvedPin(xr[path: "spec", "cachePin"]) }

    /// The remote name of the workload and Service.
    var remoteName: String { childName("modelreplica", namespace, name) }

    /// Labels on every remote object of this replica.
    var labels: [String: String] {
        [
            "app.kubernetes.io/managed-by": "function-modelcache", "modelplane.ai/modelreplica": labelValue(name),
            "modelplane.ai/modelreplica-namespace": labelValue(namespace),
        ]
    }

    /// Whether the workload was composed before (Crossplane observes it).
    var hasWorkload: Bool { request.observed.resources[.workload] != nil }

    /// The remote namespace the running workload was sent to (its observed Object's manifest),
    /// when it runs: it stays there (hydrator.md §5: nothing serving moves).
    var workloadNamespace: String? {
        let manifest = request.observed.resources[.workload]?.object[path: "spec", "forProvider", "manifest"]
        return manifest?[path: "metadata", "namespace"]?.stringValue.flatMap { Rules.isDNSLabel($0) ? $0 : nil }
    }

    /// An input is missing. A first-time composition waits with a condition; a
    /// replica whose workload exists answers FATAL, because dropping the workload
    /// from desired state would make Crossplane delete the running pods.
    func missingInput(_ what: String, reason: String, cacheCondition: Bool = false, _ response: inout RunResponse) {
        let type = cacheCondition ? "CacheReady" : "WorkloadReady"
        if hasWorkload {
            return response.refuse(
                "Cannot compose replica \(namespace)/\(name): \(what); keeping the running workload unchanged",
                reason: reason, condition: type)
        }
        response.conditions.append(Condition(type: type, status: .false, reason: reason, message: "Waiting: \(what)"))
        if cacheCondition {
            response.conditions.append(
                Condition(type: "WorkloadReady", status: .false, reason: "WaitingForCache", message: "Waiting: \(what)")
            )
        }
        response.resetDesiredComposite(of: xr, kind: ModelReplicaComposer.kind)
    }

    /// The revision directory the running workload's engine mounts (its cache
    /// volume's `subPath`), read from the observed workload Object.
    var observedRevision: String? {
        let mount = observedEngine?["volumeMounts"]?.listValue?.first {
            $0["name"]?.stringValue == WorkloadBuilder.cacheVolume
        }
        return mount?["subPath"]?.stringValue
    }

    /// The engine container (the leader's, for a gang) of the observed workload.
    var observedEngine: Value? {
        let manifest = request.observed.resources[.workload]?.object[path: "spec", "forProvider", "manifest"]
        let template =
            manifest?[path: "spec", "template"] ?? manifest?[path: "spec", "leaderWorkerTemplate", "leaderTemplate"]
        return template?[path: "spec", "containers"]?.listValue?.first { $0["name"]?.stringValue == "engine" }
    }

    /// The identity the running workload's automatic cache serves, recovered from
    /// its `--served-model-name` when the revision it mounts is that identity's
    /// directory (so only a revision that was complete when mounted is ever
    /// recovered); nil otherwise.
    var observedAutomaticStaged: String? {
        guard let revision = observedRevision,
            let id = ModelArguments(observedEngine?["args"]?.listValue?.compactMap(\.stringValue) ?? [])
                .value(of: "--served-model-name"),
            // Read back from the cluster: only a repo id this function could have written (rule 8).
            ArtifactSource.isRepo(id)
        else { return nil }
        let identity = ArtifactSource(repo: id, revision: nil).identity
        return revisionDirectory(identity) == revision ? identity : nil
    }

    /// Composes the workload (once something complete is staged, or because it
    /// already runs) and the Service in the remote `namespace` (the claim's: a pod mounts
    /// only a claim in its own namespace), the cache's Usage, and status, conditions and events.
    /// `notes` say what an existing automatic claim keeps (`CacheReady`'s message, one Warning each).
    func composeWorkload(
        cache: CacheChoice, providerConfig: String, namespace remoteNamespace: String, notes: [String] = [],
        into response: inout RunResponse
    ) {
        // Something complete to serve: no cache, a staged revision, or a cache served while another stages.
        let servable = cache.phase == nil || cache.staged != nil
        let workloadReady = ProviderObject.isReady(request.observed.resources[.workload])

        // 1. A pod with two mounts at the cache's path would be rejected: refuse, naming the container.
        if let mount = cache.mount, let conflict = WorkloadBuilder.mountConflict(workers, path: mount.path) {
            return response.refuse(
                "Cannot compose replica \(namespace)/\(name): container \(conflict.container) already mounts volume "
                    + "\(quote(conflict.volume)) at \(mount.path), where the cache is mounted; remove that mount or "
                    + "mount the cache elsewhere", reason: "MountConflict", condition: "WorkloadReady")
        }

        // 2. The workload, its Service and the cache's Usages, and the loader the pods get.
        var loader: Value?
        if servable || hasWorkload {
            loader = composeServing(
                cache: cache, providerConfig: providerConfig, namespace: remoteNamespace,
                workloadReady: workloadReady, &response)
        }

        // 3. Conditions: the cache's, then the workload's.
        if var condition = cacheCondition(cache) {
            claimNotes(notes, &condition, &response)
            response.conditions.append(condition)
        }
        response.conditions.append(workloadCondition(ready: workloadReady, started: servable || hasWorkload))

        // 4. Status: the cache the pods mount and the loader they got.
        var status = cacheStatus(cache)
        if let loader { status["loader"] = loader }
        response.updateDesiredComposite(of: xr, kind: ModelReplicaComposer.kind, status: status, ready: workloadReady)
    }

    /// The workload and Service Objects, the Usages of shared caches, `CacheUsed` and
    /// `LoaderApplied`; answers `status.loader`.
    private func composeServing(
        cache: CacheChoice, providerConfig: String, namespace remoteNamespace: String, workloadReady: Bool,
        _ response: inout RunResponse
    ) -> Value? {
        let mount = cache.mount
        var settings = self.settings
        settings.remoteNamespace = remoteNamespace
        let builder = WorkloadBuilder(
            workers: workers, name: remoteName, labels: labels, settings: settings, mount: mount)
        let handOff = LoaderHandOff(xr: xr, current: mount?.loader)
        let built = handOff.compose(
            builder, running: request.observed.resources[.workload]?.object[path: "spec", "forProvider", "manifest"])
        let (manifest, elsewhere) = (built.manifest, built.modelElsewhere)
        let query =
            #"has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Available" && c.status == "True")"#
        response.desired.resources[.workload] = Resource(
            object: ProviderObject.wrap(manifest, providerConfig: providerConfig, readinessQuery: query),
            ready: workloadReady ? .ready : .notReady)
        let serviceReady = ProviderObject.isReady(request.observed.resources[.service])
        response.desired.resources[.service] = Resource(
            object: ProviderObject.wrap(builder.service(), providerConfig: providerConfig),
            ready: serviceReady ? .ready : .notReady)
        if case .shared = cache, let cacheName {
            composeUsages(cacheName, mount: mount, &response)
        } else {
            keepUsagesOfCachesLeft(&response)
        }
        if let mount { cacheUsed(mount, modelElsewhere: elsewhere, &response) }
        handOff.condition(built, xr: xr, &response)
        return handOff.status(built)
    }

    /// Without a ModelCache reference now: the Usage of a cache the pods of the
    /// earlier template may still mount stays, under the key it had, until the
    /// rollout completes (lifecycle.md §7 rule 2: nothing serving loses what it reads).
    private func keepUsagesOfCachesLeft(_ response: inout RunResponse) {
        for key in [ResourceKey.cacheUsage, .previousCacheUsage] {
            guard let observed = request.observed.resources[key]?.object,
                let cache = observed[path: "spec", "of", "resourceRef", "name"]?.stringValue,
                Rules.isDNSSubdomain(cache)
            else { continue }
            let revisions = stillMounted(
                claim: CacheStaging.claimName(ownerKind: "modelcache", namespace: namespace, name: cache))
            guard !revisions.isEmpty else { continue }
            let usage = CacheUsage.manifest(
                namespace: namespace, replica: name, cache: cache, cluster: cluster, revision: nil,
                revisions: revisions)
            let ready = conditionStatus(observed, "Ready") == "True"
            response.desired.resources[key] = Resource(object: usage, ready: ready ? .ready : .notReady)
        }
    }

    /// The Usage of the referenced cache, naming every revision of it the pods may
    /// mount (lifecycle.md §7 rule 1), and the Usage of a cache switched away from
    /// while pods may still mount it (rule 2).
    private func composeUsages(_ cacheName: String, mount: WorkloadBuilder.Mount?, _ response: inout RunResponse) {
        let claim = CacheStaging.claimName(ownerKind: "modelcache", namespace: namespace, name: cacheName)
        func usage(_ key: ResourceKey, _ cache: String, _ of: String) -> (ResourceKey, String, String?, [String]) {
            guard let mount, mount.claimName == of else { return (key, cache, nil, stillMounted(claim: of)) }
            return (key, cache, mount.revision, mayMount(mount))
        }
        var usages = [usage(.cacheUsage, cacheName, claim)]
        let other = observedUsages.first {
            $0.claim != claim && ($0.claim == mount?.claimName || !stillMounted(claim: $0.claim).isEmpty)
        }
        if let other { usages.append(usage(.previousCacheUsage, other.cache, other.claim)) }
        for (key, cache, revision, all) in usages {
            let usage = CacheUsage.manifest(
                namespace: namespace, replica: name, cache: cache, cluster: cluster, revision: revision, revisions: all)
            let ready = conditionStatus(request.observed.resources[key]?.object, "Ready") == "True"
            response.desired.resources[key] = Resource(object: usage, ready: ready ? .ready : .notReady)
        }
    }

    /// `CacheUsed`: whether the engine reads the model from the mounted cache,
    /// with a Warning when it newly does not.
    private func cacheUsed(_ mount: WorkloadBuilder.Mount, modelElsewhere: String?, _ response: inout RunResponse) {
        guard let elsewhere = modelElsewhere else {
            return response.conditions.append(
                Condition(
                    type: "CacheUsed", status: .true, reason: "ModelFromCache",
                    message: "The engine reads the model from \(mount.path)"))
        }
        let message =
            "The engine's --model \(quote(elsewhere)) does not point at the cache mounted at \(mount.path): the cache is unused"
        response.conditions.append(
            Condition(type: "CacheUsed", status: .false, reason: "ModelElsewhere", message: message))
        if condition(xr, "CacheUsed")?["reason"]?.stringValue != "ModelElsewhere" {
            response.results.append(.warning(message, reason: "CacheUnused"))
        }
    }

    /// `CacheReady`: True only while a revision is staged on this cluster for the
    /// pods to read (lifecycle.md §7 rule 3), even while a newer one downloads or
    /// after it failed (they keep the older one); nil without a cache. What the
    /// cache's status says reaches it through `echo(_:)` (rule 8).
    private func cacheCondition(_ cache: CacheChoice) -> Condition? {
        guard let raw = cache.phase else { return nil }
        let phase = echo(raw)
        let known = CachePhase(rawValue: raw) != nil || raw == "NotListed"
        if case .shared(let mount, _, _, let other?) = cache, let cacheName {
            return Condition(
                type: "CacheReady", status: .false, reason: "Switching",
                message: "Serving \(other) \(mount.served ?? "(the whole claim)") while cache \(cacheName) stages on "
                    + "\(cluster) (phase \(phase)); the pods switch once it is staged there")
        }
        guard let staged = cache.staged.map(echo), let revision = cache.mount?.served else {
            let reason = raw == CachePhase.ready.rawValue ? "NotStaged" : known ? raw : "Unknown"
            return Condition(
                type: "CacheReady", status: .false, reason: reason,
                message: "The cache on \(cluster) is \(phase)"
                    + (raw == CachePhase.ready.rawValue ? " with nothing staged" : "")
                    + (hasWorkload ? "; the running workload is kept" : "; the workload waits for it"))
        }
        if raw == CachePhase.ready.rawValue {
            return Condition(
                type: "CacheReady", status: .true, reason: "Ready",
                message: "The cache is staged on \(cluster); the pods read \(revision) (\(staged))")
        }
        let reason = raw == CachePhase.failed.rawValue ? "UpdateFailed" : known ? raw : "Unknown"
        return Condition(
            type: "CacheReady", status: .true, reason: reason,
            message:
                "The cache on \(cluster) is \(phase); the pods keep reading the staged revision \(revision) (\(staged))"
        )
    }

    /// Adds what an existing claim keeps to `CacheReady`'s message, and warns once of each note
    /// (the observed condition already says it after the first time).
    private func claimNotes(_ notes: [String], _ condition: inout Condition, _ response: inout RunResponse) {
        guard !notes.isEmpty else { return }
        condition.message = ([condition.message].compactMap { $0 } + notes).joined(separator: "; ")
        let before = FunctionCore.condition(xr, "CacheReady")?["message"]?.stringValue ?? ""
        for note in notes where !before.contains(note) {
            response.results.append(.warning(note, reason: "ClaimUnchanged"))
        }
    }

    /// `WorkloadReady`: available, starting (`started`: composed), or waiting for the cache.
    private func workloadCondition(ready: Bool, started: Bool) -> Condition {
        if ready {
            return Condition(
                type: "WorkloadReady", status: .true, reason: "Available",
                message: "The workload on \(cluster) is available")
        }
        if started {
            return Condition(
                type: "WorkloadReady", status: .false, reason: "Creating",
                message: "Waiting for the workload on \(cluster) to become available")
        }
        return Condition(
            type: "WorkloadReady", status: .false, reason: "WaitingForCache",
            message: "Waiting for the cache on \(cluster) to be Ready")
    }

    /// `status.cache`: the claim the pods mount, where, its phase, what is staged
    /// and every revision the pods may mount (`revisions`, remembered for the next
    /// reconcile: lifecycle.md §7 rule 1); empty without a cache.
    private func cacheStatus(_ cache: CacheChoice) -> Fields {
        guard let mount = cache.mount, let phase = cache.phase else { return [:] }
        var c: Fields = [
            "volume": .string(mount.claimName), "mountPath": .string(mount.path), "phase": .string(echo(phase)),
        ]
        if case .automatic(_, _, let entry, _) = cache {
            if let source = entry.source { c["source"] = .string(source) }
            if let failure = entry.failure { c["failure"] = failure.value }
            if let progress = entry.progress { c["progress"] = progress.value }
            if let at = entry.stagedAt { c["stagedAt"] = .string(at) }
            if let bytes = entry.stagedBytes { c["stagedBytes"] = .int(bytes) }
            if let resolved = entry.resolved { c["resolved"] = resolved.value }
        }
        // The revision directory the pods mount (absent until something is staged), and whose it is.
        if let revision = mount.revision { c["revision"] = .string(revision) }
        if let staged = cache.staged { c["staged"] = .string(echo(staged)) }
        let revisions = mayMount(mount)
        if !revisions.isEmpty { c["revisions"] = .list(revisions.map(Value.string)) }
        return ["cache": .object(c)]
    }
}
