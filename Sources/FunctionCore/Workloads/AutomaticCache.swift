/// The automatic cache of a multi-node replica without a ModelCache: its own
/// claim and hydration Job, built by the same `CacheStaging` as a ModelCache's.
enum AutomaticCache {
    /// Composes the claim (and, until Ready, the Job) and answers the mount and phase;
    /// nil (after refusing) when the engine names no usable model.
    ///
    /// `pin` is the ModelDeployment's pin (`spec.cachePin`), when it has one; without it the
    /// cache pins on its own first commit (`status.cache.resolved`). Everything goes to the remote
    /// `namespace` (the existing claim's, by default the function input's); `wanted` is where a
    /// new claim would go, which an existing one in another namespace notes (hydrator.md §5).
    /// Answers, with the choice, what the existing claim keeps (its class, its namespace), one
    /// sentence each.
    static func plan(
        _ ctx: ReplicaContext, providerConfig: String, rwx: ClusterView.RWXCache, pin: ResolvedPin? = nil,
        hydration: ClusterHydration? = nil, namespace: String? = nil, wanted: String? = nil,
        response: inout RunResponse
    ) -> (CacheChoice, notes: [String])? {
        // 1. What to stage: the engine's --model, a HuggingFace id.
        guard let id = modelID(ctx, &response) else { return nil }
        let source = ArtifactSource(repo: id, revision: nil)
        var settings = ctx.settings
        settings.remoteNamespace = namespace ?? settings.remoteNamespace
        let staging = CacheStaging(
            ownerKind: "modelreplica", namespace: ctx.namespace, name: ctx.name, source: .huggingFace(source),
            token: token(ctx.workers.engine), labels: ctx.labels, settings: settings,
            retry: ctx.xr[path: "metadata", "annotations", CacheStaging.retryAnnotation]?.stringValue,
            generation: ctx.xr[path: "metadata", "generation"]?.intValue ?? 0)

        // 2. What is staged and mounted now.
        let previous = previousStaging(ctx)
        let running = ctx.observedRevision.flatMap { isRevisionDirectory($0) ? $0 : nil }

        // 3. The claim and, until Ready (and while a Job runs, its report objects), the Job; events on transitions.
        let (judged, pinned, notes) = compose(
            staging, ctx, previous: previous, running: running, pin: Self.pin(ctx, staging: staging, given: pin),
            providerConfig: providerConfig, rwx: rwx, hydration: hydration, wanted: wanted, &response)
        response.results += events(ctx, source: source.identity, previous: previous, judged: judged)

        // 4. Pods mount the staged revision, and are told the model id of what they actually serve.
        var mount = WorkloadBuilder.Mount(
            claimName: staging.claimName, path: ModelReplicaComposer.automaticMountPath,
            automaticModelID: judged.staged.map(servedModelID) ?? running.flatMap { _ in runningModelID(ctx) } ?? id)
        mount.revision = judged.staged.map(revisionDirectory) ?? running
        var entry = judged.entry(source: source.identity)
        entry.resolved = pinned
        return (.automatic(mount, phase: judged.report.phase.rawValue, entry: entry, staged: judged.staged), notes)
    }

    /// The model id pods serving `staged` are told: the repo id, without `hf://` and without
    /// the `@<revision>` or `@<commit>` a staged identity carries.
    static func servedModelID(_ staged: String) -> String {
        let repo = staged.hasPrefix("hf://") ? staged.dropFirst("hf://".count) : Substring(staged)
        return String(repo.firstIndex(of: "@").map { repo[..<$0] } ?? repo)
    }

    /// The model id the running engine is told it serves, when it is a repo id: what pods still
    /// mounting their revision keep being told while nothing staged is known (a lost status).
    static func runningModelID(_ ctx: ReplicaContext) -> String? {
        let id = ModelArguments(ctx.observedEngine?["args"]?.listValue?.compactMap(\.stringValue) ?? [])
            .value(of: "--served-model-name")
        return id.flatMap { ArtifactSource.isRepo($0) ? $0 : nil }
    }

    /// The pin the automatic cache stages toward: the ModelDeployment's (`given`) when it has one,
    /// else the cache's own first commit (`status.cache.resolved`), while current.
    static func pin(_ ctx: ReplicaContext, staging: CacheStaging, given: ResolvedPin?) -> StagingPin {
        // Echoed, as `resolved.refresh` is when read back: the two must compare equal.
        let refresh = ctx.xr[path: "metadata", "annotations", CacheStaging.refreshAnnotation]?.stringValue.map(echo)
        if let given, given.source == staging.identity { return StagingPin(pin: given, staging: staging) }
        return StagingPin(
            observed: ResolvedPin(ctx.xr[path: "status", "cache", "resolved"]), staging: staging, refresh: refresh)
    }

    /// The engine's `--model`, when it is a HuggingFace repo id; nil (after refusing) otherwise.
    static func modelID(_ ctx: ReplicaContext, _ response: inout RunResponse) -> String? {
        let args = ModelArguments(ctx.workers.engine["args"]?.listValue?.compactMap(\.stringValue) ?? [])
        guard let id = args.model, !id.hasPrefix("/") else {
            response.refuse(
                "Cannot run multi-node replica \(ctx.namespace)/\(ctx.name) without a ModelCache: the engine "
                    + "container has no --model=<HuggingFace id> argument to stage an automatic cache from; add one "
                    + "or set spec.modelCacheRef", reason: "NoModelID", condition: "CacheReady")
            return nil
        }
        guard ArtifactSource.isRepo(id) else {
            response.refuse(
                "Invalid ModelReplica \(ctx.namespace)/\(ctx.name): engine argument --model \(quote(id)) is not a "
                    + "valid HuggingFace repo id: use owner/name or name, each part up to 96 letters, digits, '-', "
                    + "'_', '.'", reason: "InvalidSpec", condition: "CacheReady")
            return nil
        }
        return id
    }

    /// The token the engine itself reads (its `HF_TOKEN` secretKeyRef, the last one
    /// if repeated), in the remote namespace of the workload cluster.
    static func token(_ engine: Value) -> TokenSource? {
        var token: TokenSource?
        for e in engine["env"]?.listValue ?? [] where e["name"]?.stringValue == "HF_TOKEN" {
            if let ref = e[path: "valueFrom", "secretKeyRef"], let n = ref["name"]?.stringValue,
                let k = ref["key"]?.stringValue
            {
                token = .workloadCluster(secretName: n, key: k)
            }
        }
        return token
    }

    /// What was staged before. The replica's own status (`status.cache`, the one
    /// staging entry type) is the latch: `staged` survives the Job's cleanup. A lost
    /// or garbled status must not unmount the running pods' revision: the latch is
    /// then recovered from the workload.
    static func previousStaging(_ ctx: ReplicaContext) -> StagingEntry {
        var previous = StagingEntry(ctx.xr[path: "status", "cache"])
        if previous.staged == nil { previous.staged = ctx.observedAutomaticStaged }
        return previous
    }

    /// Stages the cache through the one staging lifecycle (`ClusterStager`) and
    /// composes its claim and, while it needs one, its Job. Pruning keeps whatever
    /// the running pods mount, and every revision pods of an unfinished rollout may
    /// still mount (lifecycle.md §7 rule 1).
    private static func compose(
        _ staging: CacheStaging, _ ctx: ReplicaContext, previous: StagingEntry, running: String?, pin: StagingPin,
        providerConfig: String, rwx: ClusterView.RWXCache, hydration: ClusterHydration?, wanted: String?,
        _ response: inout RunResponse
    ) -> (ClusterStaging, ResolvedPin?, notes: [String]) {
        func staged(_ pin: StagingPin) -> ClusterStager.Stage {
            ClusterStager(staging, hints: hints, pin: pin).stage(
                cluster: ctx.cluster, storageClass: rwx.storageClassName, sizeGiB: rwx.defaultSizeGiB,
                placement: ClaimSizing.Placement.of(
                    wanted: wanted, input: staging.remoteNamespace,
                    kept: ClaimSizing.namespace(of: ctx.request.observed.resources[.automaticClaim]),
                    byCluster: hydration?.namespace != nil),
                claim: ctx.request.observed.resources[.automaticClaim],
                job: ctx.request.observed.resources[.automaticJob],
                report: ctx.request.observed.resources[.automaticReport], previous: previous, hydration: { hydration },
                keep: { [running].compactMap { $0 } + ctx.stillMounted(claim: staging.claimName) })
        }
        var (stage, pin) = (staged(pin), pin)
        if pin.pin == nil, let commit = stage.judged.resolved?.commit {
            // The first commit the report names becomes the cache's own pin: judged again against it.
            pin = StagingPin(
                pin: ResolvedPin(source: staging.identity, commit: commit, refresh: pin.refresh, epoch: pin.n),
                staging: staging)
            stage = staged(pin)
        }
        var judged = stage.judged
        var composed: [(ResourceKey, Value)] = [
            (
                .automaticClaim,
                staging.claimObject(
                    providerConfig: providerConfig,
                    claim: staging.claimManifest(storageClass: stage.sizing.storageClass, size: stage.sizing.size))
            )
        ]
        if let job = stage.job {
            // A new Job waits for its ServiceAccount (the other report objects come with it); a Job
            // of the previous release writes no report.
            let waits = !stage.jobObserved && !ProviderObject.isReady(ctx.request.observed.resources[.automaticAccount])
            let manifest = staging.jobManifest(job)
            if !stage.legacyJob {
                composed += zip(
                    ReportObjects.automaticKeys,
                    ReportObjects(staging).objects(providerConfig: providerConfig, waiting: waits, job: manifest))
            }
            if !waits {
                composed.append((.automaticJob, staging.jobObject(providerConfig: providerConfig, manifest: manifest)))
            } else if judged.report.phase == .hydrating || judged.report.phase == .updating {
                let why = "Preparing the hydration Job's ServiceAccount \(staging.accountName) on \(ctx.cluster)"
                judged.report = PhaseReport(
                    judged.staged == nil ? .hydrating : .updating,
                    judged.staged.map { "\(why); \($0) keeps serving" } ?? why)
            }
        }
        for (key, object) in composed {
            let ready: Readiness = ProviderObject.isReady(ctx.request.observed.resources[key]) ? .ready : .notReady
            response.desired.resources[key] = Resource(object: object, ready: ready)
        }
        return (judged, pin.pin ?? ResolvedPin(ctx.xr[path: "status", "cache", "resolved"]), stage.sizing.notes)
    }

    /// What the user should do about a permanent failure of an automatic cache.
    static let hints = FailureHints(
        notFound: "check the engine's --model argument; gated models need an HF_TOKEN secretKeyRef in the engine's env "
            + "(then set annotation \(CacheStaging.retryAnnotation) on the ModelReplica to retry)",
        diskFull: "the model does not fit: raise the InferenceCluster's spec.storage.rwxCache.defaultSizeGiB "
            + "(an update needs room for two revisions)")

    /// Events on transitions of the automatic cache: an update starts, the pods switch, hydration fails.
    static func events(_ ctx: ReplicaContext, source: String, previous: StagingEntry, judged: ClusterStaging)
        -> [FunctionResult]
    {
        let owner = "Automatic cache of ModelReplica \(ctx.namespace)/\(ctx.name) on \(ctx.cluster)"
        var out: [FunctionResult] = []
        if let staged = judged.staged, judged.report.phase != .ready, previous.source != source,
            judged.report.phase != .failed
        {
            out.append(.normal("\(owner): updating \(staged) → \(source)", reason: "UpdateStarted"))
        }
        if let now = judged.staged, previous.staged != now {
            if let before = previous.staged {
                out.append(.normal("\(owner): switched from \(before) to \(now)", reason: "RevisionSwitched"))
            }
            // What the report could not verify: one Warning naming the cluster (sources.md §1).
            if let warning = judged.warning(cluster: ctx.cluster) { out.append(warning) }
        }
        if judged.report.phase == .failed, previous.phase != .failed {
            out.append(.warning("\(owner): \(judged.report.message ?? "hydration failed")", reason: "StagingFailed"))
        }
        return out
    }
}
