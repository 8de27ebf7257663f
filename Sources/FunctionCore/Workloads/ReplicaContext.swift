/// What a ModelReplica composition works from, and its two outcomes:
/// waiting on a missing input, or composing the workload.
struct ReplicaContext {
    let request: RunRequest
    let xr: Value
    let namespace: String
    let name: String
    let cluster: String
    let settings: Settings
    let workers: WorkersSpec

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
    var hasWorkload: Bool { request.observed.resources[ReplicaKey.workload] != nil }

    /// An input is missing. A first-time composition waits with a condition; a
    /// replica whose workload exists answers FATAL, because dropping the workload
    /// from desired state would make Crossplane delete the running pods.
    func missingInput(_ what: String, reason: String, cacheCondition: Bool = false, _ response: inout RunResponse) {
        let type = cacheCondition ? "CacheReady" : "WorkloadReady"
        if hasWorkload {
            let message = "Cannot compose replica \(namespace)/\(name): \(what); keeping the running workload unchanged"
            response.results.append(.fatal(message, reason: reason))
            response.conditions.append(Condition(type: type, status: .false, reason: reason, message: message))
        } else {
            response.conditions.append(
                Condition(type: type, status: .false, reason: reason, message: "Waiting: \(what)"))
            if cacheCondition {
                response.conditions.append(
                    Condition(
                        type: "WorkloadReady", status: .false, reason: "WaitingForCache",
                        message: "Waiting: \(what)"))
            }
            response.desired.composite = Resource(object: compositeBase(), ready: .notReady)
        }
    }

    /// The desired XR before status: apiVersion and kind.
    func compositeBase() -> Value {
        ["apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(ModelReplicaComposer.kind)]
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
    private var observedEngine: Value? {
        let manifest = request.observed.resources[ReplicaKey.workload]?.object[path: "spec", "forProvider", "manifest"]
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
                .value(of: "--served-model-name")
        else { return nil }
        let identity = ArtifactSource(repo: id, revision: nil).identity
        return revisionDirectory(identity) == revision ? identity : nil
    }

    /// Composes the workload (once something complete is staged, or because it
    /// already runs), the Service, the cache's Usage, and status, conditions and events.
    func composeWorkload(cache: CacheChoice, providerConfig: String, into response: inout RunResponse) {
        let mount: WorkloadBuilder.Mount?
        let phase: String?
        var sharedCache: String?
        switch cache {
        case .shared(let m, let p, _):
            (mount, phase, sharedCache) = (m, p, xr[path: "spec", "modelCacheRef", "name"]?.stringValue)
        case .automatic(let m, let p, _, _): (mount, phase) = (m, p)
        case .none: (mount, phase) = (nil, nil)
        }
        let phaseReady = phase == nil || phase == CachePhase.ready.rawValue
        // Something complete to serve: a staged revision, or a Ready cache that predates revisions.
        let servable = phaseReady || mount?.revision != nil
        let workloadReady = ProviderObject.isReady(request.observed.resources[ReplicaKey.workload])

        if servable || hasWorkload {
            let builder = WorkloadBuilder(
                workers: workers, name: remoteName, labels: labels, settings: settings, mount: mount)
            let (manifest, elsewhere) = builder.workload()
            let query =
                #"has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Available" && c.status == "True")"#
            response.desired.resources[ReplicaKey.workload] = Resource(
                object: ProviderObject.wrap(manifest, providerConfig: providerConfig, readinessQuery: query),
                ready: workloadReady ? .ready : .notReady)
            let serviceReady = ProviderObject.isReady(request.observed.resources[ReplicaKey.service])
            response.desired.resources[ReplicaKey.service] = Resource(
                object: ProviderObject.wrap(builder.service(), providerConfig: providerConfig),
                ready: serviceReady ? .ready : .notReady)
            if let sharedCache {
                // The Usage goes with the pods that mount the cache, and names the revision they mount.
                let usage = CacheUsage.manifest(
                    namespace: namespace, replica: name, cache: sharedCache, cluster: cluster,
                    revision: mount?.revision)
                let usageReady = conditionStatus(request.observed.resources[CacheUsage.key]?.object, "Ready") == "True"
                response.desired.resources[CacheUsage.key] = Resource(
                    object: usage, ready: usageReady ? .ready : .notReady)
            }
            if let mount {
                if let elsewhere {
                    let message =
                        "The engine's --model \(quote(elsewhere)) does not point at the cache mounted at "
                        + "\(mount.path): the cache is unused"
                    response.conditions.append(
                        Condition(type: "CacheUsed", status: .false, reason: "ModelElsewhere", message: message))
                    if condition(xr, "CacheUsed")?["reason"]?.stringValue != "ModelElsewhere" {
                        response.results.append(.warning(message, reason: "CacheUnused"))
                    }
                } else {
                    response.conditions.append(
                        Condition(
                            type: "CacheUsed", status: .true, reason: "ModelFromCache",
                            message: "The engine reads the model from \(mount.path)"))
                }
            }
        }

        if let phase {
            response.conditions.append(
                cacheCondition(
                    phase: phase, phaseReady: phaseReady, servable: servable, mount: mount,
                    staged: cache.staged))
        }
        let workload: Condition
        if workloadReady {
            workload = Condition(
                type: "WorkloadReady", status: .true, reason: "Available",
                message: "The workload on \(cluster) is available")
        } else if servable || hasWorkload {
            workload = Condition(
                type: "WorkloadReady", status: .false, reason: "Creating",
                message: "Waiting for the workload on \(cluster) to become available")
        } else {
            workload = Condition(
                type: "WorkloadReady", status: .false, reason: "WaitingForCache",
                message: "Waiting for the cache on \(cluster) to be Ready")
        }
        response.conditions.append(workload)

        var status: Fields = [:]
        if let mount, let phase {
            var c: Fields = [
                "volume": .string(mount.claimName), "mountPath": .string(mount.path), "phase": .string(phase),
            ]
            if case .automatic(_, _, let source, _) = cache { c["source"] = .string(source) }
            // The revision directory the pods mount (absent until something is staged), and whose it is.
            if let revision = mount.revision { c["revision"] = .string(revision) }
            if let staged = cache.staged { c["staged"] = .string(staged) }
            status["cache"] = .object(c)
        }
        var composite = response.desired.composite ?? Resource(object: compositeBase())
        var existing = composite.object["status"]?.objectValue ?? [:]
        for (k, v) in status { existing[k] = v }
        if !existing.isEmpty { composite.object["status"] = .object(existing) }
        composite.ready = workloadReady ? .ready : .notReady
        response.desired.composite = composite
    }

    /// `CacheReady`: True while the pods have a complete revision to read, even
    /// while a newer one downloads or after it failed (they keep the older one).
    private func cacheCondition(
        phase: String, phaseReady: Bool, servable: Bool, mount: WorkloadBuilder.Mount?,
        staged: String?
    ) -> Condition {
        let serving = mount?.revision.map { r in staged.map { "\(r) (\($0))" } ?? r }
        if phaseReady {
            return Condition(
                type: "CacheReady", status: .true, reason: "Ready",
                message: "The cache is staged on \(cluster)" + (serving.map { "; the pods read \($0)" } ?? ""))
        }
        if servable, let serving {
            let reason = phase == CachePhase.failed.rawValue ? "UpdateFailed" : phase
            return Condition(
                type: "CacheReady", status: .true, reason: reason.isEmpty ? "Unknown" : reason,
                message: "The cache on \(cluster) is \(phase); the pods keep reading the staged revision \(serving)")
        }
        return Condition(
            type: "CacheReady", status: .false, reason: phase.isEmpty ? "Unknown" : phase,
            message: "The cache on \(cluster) is \(phase)"
                + (hasWorkload ? "; the running workload is kept" : "; the workload waits for it"))
    }
}

/// Composed resource keys of a ModelReplica.
enum ReplicaKey {
    static let workload = "workload"
    static let service = "service"
    static let claim = "cache-pvc"
    static let job = "cache-hydrate"
}

/// The automatic cache of a multi-node replica without a ModelCache: its own
/// claim and hydration Job, built by the same `CacheStaging` as a ModelCache's.
enum AutomaticCache {
    /// Composes the claim (and, until Ready, the Job) and answers the mount and phase;
    /// nil (after adding a FATAL result) when the engine names no usable model.
    static func plan(
        _ ctx: ReplicaContext, providerConfig: String, rwx: ClusterView.RWXCache,
        response: inout RunResponse
    ) -> CacheChoice? {
        let engine = ctx.workers.engine
        let args = ModelArguments(engine["args"]?.listValue?.compactMap(\.stringValue) ?? [])
        guard let id = args.model, !id.hasPrefix("/") else {
            let message =
                "Cannot run multi-node replica \(ctx.namespace)/\(ctx.name) without a ModelCache: the engine "
                + "container has no --model=<HuggingFace id> argument to stage an automatic cache from; add one or set spec.modelCacheRef"
            response.results.append(.fatal(message, reason: "NoModelID"))
            response.conditions.append(
                Condition(type: "CacheReady", status: .false, reason: "NoModelID", message: message))
            return nil
        }
        guard ArtifactSource.isRepo(id) else {
            let message =
                "Invalid ModelReplica \(ctx.namespace)/\(ctx.name): engine argument --model \(quote(id)) is not a valid "
                + "HuggingFace repo id: use owner/name or name, each part up to 96 letters, digits, '-', '_', '.'"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(
                Condition(type: "CacheReady", status: .false, reason: "InvalidSpec", message: message))
            return nil
        }
        let source = ArtifactSource(repo: id, revision: nil)
        var token: TokenSource?
        for e in engine["env"]?.listValue ?? [] where e["name"]?.stringValue == "HF_TOKEN" {
            if let ref = e[path: "valueFrom", "secretKeyRef"], let n = ref["name"]?.stringValue,
                let k = ref["key"]?.stringValue
            {
                token = .workloadCluster(secretName: n, key: k)
            }
        }
        let staging = CacheStaging(
            ownerKind: "modelreplica", namespace: ctx.namespace, name: ctx.name, source: source,
            token: token, labels: ctx.labels, settings: ctx.settings,
            retry: ctx.xr[path: "metadata", "annotations", CacheStaging.retryAnnotation]?.stringValue,
            generation: ctx.xr[path: "metadata", "generation"]?.intValue ?? 0)
        // The replica's own status is the latch: `status.cache.staged` survives the Job's cleanup.
        let observedCache = ctx.xr[path: "status", "cache"]
        var previous = PreviousStaging(
            phase: observedCache?["phase"]?.stringValue,
            source: observedCache?["source"]?.stringValue,
            staged: observedCache?["staged"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
        // A lost or garbled status must not unmount the running pods' revision: the
        // latch is recovered from the workload, and whatever it mounts survives pruning.
        if previous.staged == nil { previous.staged = ctx.observedAutomaticStaged }
        let running = ctx.observedRevision.flatMap { isRevisionDirectory($0) ? $0 : nil }
        let observedClaim = ctx.request.observed.resources[ReplicaKey.claim]
        let sizing = ClaimSizing(
            cluster: ctx.cluster, claimName: staging.claimName, storageClass: rwx.storageClassName,
            sizeGiB: rwx.defaultSizeGiB, observed: observedClaim)
        let keep = Set(
            [previous.staged.map(revisionDirectory), running].compactMap { $0 }.filter { $0 != source.directory }
        )
        .sorted()
        let attempt = staging.attempt(sizeGiB: sizing.sizeGiB)
        let observedJob = ObservedJob.Identity(ctx.request.observed.resources[ReplicaKey.job])
        let current = staging.adopt(observedJob, attempt: attempt)
        let judged = staging.judge(
            cluster: ctx.cluster, claim: observedClaim, current: current, previous: previous, hints: hints)
        var composed = [
            (
                ReplicaKey.claim,
                staging.claimObject(
                    providerConfig: providerConfig,
                    claim: staging.claimManifest(storageClass: sizing.storageClass, size: sizing.size))
            )
        ]
        if judged.report.phase != .ready {
            let job =
                current.map { staging.job(adopted: $0, keep: keep, attempt: attempt) }
                ?? staging.newJob(
                    named: staging.newJobName(staged: previous.staged, replacing: observedJob?.name), keep: keep,
                    attempt: attempt)
            composed.append(
                (ReplicaKey.job, staging.jobObject(providerConfig: providerConfig, manifest: staging.jobManifest(job))))
        }
        for (key, object) in composed {
            let ready: Readiness = ProviderObject.isReady(ctx.request.observed.resources[key]) ? .ready : .notReady
            response.desired.resources[key] = Resource(object: object, ready: ready)
        }
        response.results += events(ctx, source: source.identity, previous: previous, judged: judged)
        // Pods mount the staged revision, and are told the model id of what they actually serve.
        var mount = WorkloadBuilder.Mount(
            claimName: staging.claimName, path: ModelReplicaComposer.automaticMountPath,
            automaticModelID: judged.staged.map { String($0.dropFirst("hf://".count)) } ?? id)
        mount.revision = judged.staged.map(revisionDirectory) ?? running
        return .automatic(mount, phase: judged.report.phase.rawValue, source: source.identity, staged: judged.staged)
    }

    /// What the user should do about a permanent failure of an automatic cache.
    static let hints = FailureHints(
        notFound: "check the engine's --model argument; gated models need an HF_TOKEN secretKeyRef in the engine's env "
            + "(then set annotation \(CacheStaging.retryAnnotation) on the ModelReplica to retry)",
        diskFull: "the model does not fit: raise the InferenceCluster's spec.storage.rwxCache.defaultSizeGiB "
            + "(an update needs room for two revisions)")

    /// Events on transitions of the automatic cache: an update starts, the pods switch, hydration fails.
    static func events(_ ctx: ReplicaContext, source: String, previous: PreviousStaging, judged: ClusterStaging)
        -> [FunctionResult]
    {
        let owner = "Automatic cache of ModelReplica \(ctx.namespace)/\(ctx.name) on \(ctx.cluster)"
        var out: [FunctionResult] = []
        if let staged = judged.staged, staged != source, previous.source != source, judged.report.phase != .failed {
            out.append(.normal("\(owner): updating \(staged) → \(source)", reason: "UpdateStarted"))
        }
        if let before = previous.staged, let now = judged.staged, before != now {
            out.append(.normal("\(owner): switched from \(before) to \(now)", reason: "RevisionSwitched"))
        }
        if judged.report.phase == .failed, previous.phase != CachePhase.failed.rawValue {
            out.append(.warning("\(owner): \(judged.report.message ?? "hydration failed")", reason: "StagingFailed"))
        }
        return out
    }
}
