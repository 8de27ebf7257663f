/// Composes a ModelCache: the artifact staged on ReadWriteMany storage on every
/// matched InferenceCluster, with the storage class inherited from the cluster.
///
/// Reads top to bottom: validate, ask for clusters (and the token Secret),
/// then per cluster compose and judge the phase, then status, conditions and
/// events. See ../shared/spec/modelcache.md.
public struct ModelCacheComposer: KindComposer {
    /// The XR kind.
    public static let kind = "ModelCache"

    /// Creates the composer.
    public init() {}

    /// Composes one ModelCache.
    public func compose(_ request: RunRequest, xr: XR, into response: inout RunResponse) {
        guard
            let spec = response.validSpec(
                ModelCacheSpec.parse(xr.object["spec"]), of: xr, kind: Self.kind, condition: "ArtifactReady")
        else { return }

        // 1. Requirements: always the same for the same spec, so Crossplane sees them settle.
        var requirements = Requirements()
        requirements[.clusters] = .inferenceClusters(matching: spec.matchLabels)
        requirements[.consumers] = .usages(of: xr.name, in: xr.namespace)
        if let token = spec.token { requirements[.tokenSecret] = .secret(named: token.name, in: xr.namespace) }
        response.requirements = requirements
        guard request.hasAnswered(requirements), let clusters = xr.clusters(request, .clusters) else { return }

        // 2. The token: only whether it is usable; its value is never read into the output.
        let tokenProblem = spec.token.flatMap { Self.tokenProblem($0, namespace: xr.namespace, request: request) }

        // 3. Per matched cluster, sorted by name: judge the phase (against the pin: hydrator.md §2), then compose.
        let observed = ObservedCacheStatus(xr.object)
        let staging = Self.staging(spec, xr: xr, request: request)
        var planner = ClusterPlanner(
            spec: spec, observed: observed, consumers: Consumers(request.required(.consumers) ?? []),
            request: request,
            stager: ClusterStager(staging, hints: .modelCache(spec.source), pin: Self.pin(xr, staging: staging)))
        var plans = clusters.map(planner.plan)
        if let pinned = Self.newPin(plans, planner.stager.pin, staging: staging) {
            // The first commit a report names becomes the pin: every cluster is judged again against it.
            planner = ClusterPlanner(
                spec: spec, observed: observed, consumers: planner.consumers, request: request,
                stager: ClusterStager(staging, hints: .modelCache(spec.source), pin: pinned))
            plans = clusters.map(planner.plan)
        }
        var (reports, notes) = composeClusters(
            plans, planner, settings: xr.settings, tokenProblem: tokenProblem, into: &response)

        // 4. Clusters no longer matched: kept while replicas use them, released otherwise.
        let released = retainUnmatched(clusters, plans: plans, planner, reports: &reports, into: &response)
        reports.sort { utf8Less($0.cluster, $1.cluster) }

        // 5. Status, conditions, readiness and events.
        let outcome = CacheOutcome(source: spec.source.identity, reports: reports, tokenProblem: tokenProblem)
        writeStatus(
            outcome, source: spec.source,
            resolved: planner.stager.pin.pin ?? ResolvedPin(xr.object[path: "status", "resolved"]),
            total: planner.consumers.total, xr: xr, response: &response)
        response.conditions += outcome.conditions
        response.results += outcome.events(repo: spec.repo, observed: observed, notes: notes)
        // A volume source's claim is someone else's: only the Object observing it goes (sources.md §1).
        let kept = staging.volume.map { "; claim \($0.claimName) is not ours and stays as it is" } ?? ""
        response.results += released.sorted().map {
            .normal(
                "Released cache \(xr.namespace)/\(xr.name) on \($0): no replica there uses it\(kept)",
                reason: "Released")
        }
    }

    /// Names and manifests shared by every cluster of the cache `xr`.
    static func staging(_ spec: ModelCacheSpec, xr: XR, request: RunRequest) -> CacheStaging {
        CacheStaging(
            ownerKind: "modelcache", namespace: xr.namespace, name: xr.name, source: spec.source,
            token: spec.token.map { tokenSource($0, namespace: xr.namespace, request: request) },
            labels: [
                "app.kubernetes.io/managed-by": "function-modelcache",
                "modelplane.ai/modelcache": labelValue(xr.name),
                "modelplane.ai/modelcache-namespace": labelValue(xr.namespace),
            ], settings: xr.settings,
            retry: xr.object[path: "metadata", "annotations", CacheStaging.retryAnnotation]?.stringValue,
            generation: xr.object[path: "metadata", "generation"]?.intValue ?? 0)
    }

    /// The pin the cache stages toward before this reconcile's reports: `status.resolved` while its
    /// source and the refresh annotation are current (hydrator.md §2). The annotation is echoed, as
    /// `resolved.refresh` is when read back, so a value with a control character or over the echo
    /// limit still equals what status recorded.
    static func pin(_ xr: XR, staging: CacheStaging) -> StagingPin {
        StagingPin(
            observed: ResolvedPin(xr.object[path: "status", "resolved"]), staging: staging,
            refresh: xr.object[path: "metadata", "annotations", CacheStaging.refreshAnnotation]?.stringValue.map(echo))
    }

    /// The pin set from this reconcile's reports when none holds: the commit of the report with
    /// the earliest `startedAt` (ties by cluster name, plans are sorted by it); nil otherwise.
    static func newPin(_ plans: [ClusterPlanner.Plan], _ pin: StagingPin, staging: CacheStaging) -> StagingPin? {
        guard pin.pin == nil else { return nil }
        var first: HydrationReport?
        for plan in plans {
            guard let report = plan.judged?.resolved else { continue }
            if first == nil || utf8Less(report.startedAt ?? "~", first?.startedAt ?? "~") { first = report }
        }
        guard let first, let commit = first.commit else { return nil }
        return StagingPin(
            pin: ResolvedPin(source: staging.identity, commit: commit, refresh: pin.refresh, epoch: pin.n),
            staging: staging)
    }

    /// Composes every planned cluster; answers each cluster's line and the claim notes by cluster.
    private func composeClusters(
        _ plans: [ClusterPlanner.Plan], _ planner: ClusterPlanner, settings: Settings, tokenProblem: String?,
        into response: inout RunResponse
    ) -> (reports: [ClusterReport], notes: [String: [String]]) {
        var waves = HydrationWaves(plans, limit: settings.maxParallelHydrations)
        var reports: [ClusterReport] = []
        var notes: [String: [String]] = [:]
        let shared = SharedManifests(planner.staging)
        // Clusters with their own remote namespace (or a claim kept in another) share manifests per namespace.
        var elsewhere: [String: SharedManifests] = [:]
        let preparing = "Preparing the hydration Job's ServiceAccount \(planner.staging.accountName) on "
        response.desired.resources.reserveCapacity(response.desired.resources.count + 2 * plans.count)
        reports.reserveCapacity(plans.count)
        for plan in plans {
            guard var judged = plan.judged else { continue }
            var report = judged.report
            var namespace: String?
            if let target = plan.target {
                let manifests: SharedManifests
                if let other = plan.namespace {
                    namespace = other
                    manifests = elsewhere[other] ?? SharedManifests(planner.stager.staging(in: other))
                    elsewhere[other] = manifests
                } else {
                    manifests = shared
                }
                let hydrate = plan.needsJob && tokenProblem == nil && waves.admit(plan, report: &report)
                if plan.needsJob, let tokenProblem, report.phase == .hydrating || report.phase == .updating {
                    // The Job is held back: the message must not describe it (lifecycle.md §7 rule 7).
                    report = HydrationWaves.waiting("\(tokenProblem): hydration waits for it", staged: judged.staged)
                }
                let waits = compose(
                    manifests.staging, claim: manifests.claim(target.sizing),
                    job: hydrate ? plan.job.map(manifests.job) : nil, reportObjects: { manifests.reports },
                    on: target.providerConfig, plan: plan, request: planner.request, response: &response)
                if waits, report.phase == .hydrating || report.phase == .updating {
                    report = HydrationWaves.waiting(preparing + plan.cluster, staged: judged.staged, hydrating: true)
                }
                if !target.sizing.notes.isEmpty {
                    notes[plan.cluster] = target.sizing.notes
                    report = report.adding(target.sizing.notes)
                }
            } else if let kept = plan.keptClaim {
                response.desired.resources[plan.claimKey] = kept
                namespace = planner.keptNamespace(kept)
            }
            judged.report = report
            reports.append(
                ClusterReport(
                    cluster: plan.cluster, judged: judged, consumers: planner.consumers.count(on: plan.cluster),
                    namespace: namespace))
        }
        return (reports, notes)
    }

    /// Keeps the claim on each cluster that is no longer matched while replicas
    /// there use it (adding its Retained line to `reports`); answers the
    /// clusters whose claim is released, here or by their plan.
    private func retainUnmatched(
        _ clusters: [ClusterView], plans: [ClusterPlanner.Plan], _ planner: ClusterPlanner,
        reports: inout [ClusterReport], into response: inout RunResponse
    ) -> [String] {
        var answered = Set<String>(minimumCapacity: clusters.count)
        for cluster in clusters { answered.insert(cluster.name) }
        var released: [String] = plans.compactMap { $0.releasesClaim ? $0.cluster : nil }
        for cluster in planner.unmatchedClaims(answered: answered) {
            if let retained = planner.retain(cluster, why: "InferenceCluster \(cluster) is no longer selected") {
                response.desired.resources[ResourceKey.claim(on: cluster)] = retained.claim
                reports.append(retained.report)
            } else {
                released.append(cluster)
            }
        }
        return released
    }

    /// Composes the claim and, while hydrating, the report objects, the Job and the token copy, with
    /// readiness from observed state. A new Job waits for its ServiceAccount's Object to be Ready
    /// (hydrator.md §4): answers whether it waits.
    private func compose(
        _ staging: CacheStaging, claim: Value, job: Value?, reportObjects: () -> ReportObjects,
        on providerConfig: String, plan: ClusterPlanner.Plan, request: RunRequest, response: inout RunResponse
    ) -> Bool {
        func add(_ key: ResourceKey, _ object: Value) {
            let ready: Readiness = ProviderObject.isReady(request.observed.resources[key]) ? .ready : .notReady
            response.desired.resources[key] = Resource(object: object, ready: ready)
        }
        add(plan.claimKey, staging.claimObject(providerConfig: providerConfig, claim: claim))
        guard let job else { return false }
        // A new Job waits for its ServiceAccount: only that is composed until it is Ready (the Role,
        // RoleBinding and report ConfigMap come with the Job). A Job of the previous release writes
        // no report: it runs on without report objects.
        let account = plan.jobObserved ? nil : ResourceKey.hydrateAccount(on: plan.cluster)
        let waits = account.map { !ProviderObject.isReady(request.observed.resources[$0]) } ?? false
        if !plan.legacyJob {
            let objects = reportObjects().objects(providerConfig: providerConfig, waiting: waits, job: job)
            // Waiting, only the ServiceAccount is composed: its key is the one just built.
            let keys = waits ? account.map { [$0] } ?? [] : ReportObjects.keys(on: plan.cluster)
            for (key, object) in zip(keys, objects) { add(key, object) }
        }
        let tokenKey = ResourceKey.token(on: plan.cluster)
        if let token = staging.tokenObject(providerConfig: providerConfig) {
            add(tokenKey, token)
        } else if let kept = request.observed.resources[tokenKey], let spec = kept.object["spec"] {
            // The control-plane Secret is gone from the answer while a Job still runs: the
            // copy it may read stays as it was (dropping it would delete it on the cluster).
            add(
                tokenKey,
                ["apiVersion": kept.object["apiVersion"] ?? .null, "kind": kept.object["kind"] ?? .null, "spec": spec])
        }
        guard !waits else { return true }
        add(plan.jobKey, staging.jobObject(providerConfig: providerConfig, manifest: job))
        return false
    }

    /// `status.summary` and `status.clusters`, and the cache's readiness.
    private func writeStatus(
        _ outcome: CacheOutcome, source: CacheSource, resolved: ResolvedPin?, total: Int, xr: XR,
        response: inout RunResponse
    ) {
        let identity = source.identity
        var elsewhere: Int64 = 0
        let clusters = Value.list(
            outcome.reports.map { entry in
                if entry.namespace != nil { elsewhere += 1 }
                // Written in key order: this runs once per cluster.
                var o: [Fields.Entry] = []
                o.reserveCapacity(8)
                entry.judged.write(
                    into: &o, source: identity, name: entry.cluster, consumers: entry.consumers,
                    namespace: entry.namespace)
                return .object(Fields(ordered: o))
            })
        var summary: Value = [
            "ready": .string("\(outcome.readyCount)/\(outcome.matched.count)"), "consumers": .int(Int64(total)),
        ]
        let (staged, inFlight) = outcome.bytes
        if staged > 0 { summary["stagedBytes"] = .int(staged) }
        if inFlight > 0 { summary["inFlightBytes"] = .int(inFlight) }
        var status: Fields = ["summary": summary, "clusters": clusters]
        if let resolved { status["resolved"] = resolved.value }
        // Where the claims are, read back next time: the input namespace of the entries without a
        // namespace, and how many entries name one (a status missing either is not trusted).
        status["remoteNamespace"] = .string(xr.settings.remoteNamespace)
        status["clustersElsewhere"] = .int(elsewhere)
        response.updateDesiredComposite(of: xr.object, kind: Self.kind, status: status, ready: outcome.allReady)
    }
}

/// Hydration runs in waves of at most `maxParallelHydrations` Jobs: that bounds
/// the response size on big fleets and the load on the artifact source. Jobs
/// already running keep their slot, so nothing running is dropped.
private struct HydrationWaves {
    /// The most Jobs that run at once.
    let limit: Int
    /// Slots still free for new Jobs.
    var slots: Int

    /// A cluster whose Job is held back for `why`: Updating while `staged` serves, Pending (or
    /// Hydrating, when its Job is on its way) otherwise.
    static func waiting(_ why: String, staged: String?, hydrating: Bool = false) -> PhaseReport {
        staged.map { PhaseReport(.updating, "\(why); \($0) keeps serving") }
            ?? PhaseReport(hydrating ? .hydrating : .pending, why)
    }

    /// The slots left for new Jobs once the observed ones that still run keep theirs.
    init(_ plans: [ClusterPlanner.Plan], limit: Int) {
        self.limit = limit
        self.slots = limit - plans.reduce(0) { $0 + ($1.needsJob && $1.jobObserved ? 1 : 0) }
    }

    /// Whether the Job of `plan`'s cluster runs now: an observed one does, a new
    /// one takes a free slot; without one it queues, and `report` says so.
    // Inlined, as `ClusterPlanner.job`: both run per cluster, and as calls they
    // measured 0.14 M instructions more per call on none-n1000 and hydrating-n1000.
    @inline(__always)
    mutating func admit(_ plan: ClusterPlanner.Plan, report: inout PhaseReport) -> Bool {
        guard !plan.jobObserved else { return true }
        guard slots > 0 else {
            report = Self.waiting("Queued: at most \(limit) hydration Jobs run at once", staged: plan.judged?.staged)
            return false
        }
        slots -= 1
        return true
    }
}

/// The claim and Job manifests of one cache, built once per storage class and
/// size and once per Job, and shared by every cluster's Object.
private final class SharedManifests {
    /// What makes two clusters' claims differ, compared as bytes (the manifest carries the bytes).
    struct ClaimShape: Hashable {
        /// The storage class.
        let storageClass: UTF8Key
        /// The size, e.g. `300Gi`.
        let size: UTF8Key
    }

    /// What builds the manifests.
    let staging: CacheStaging
    /// Claim manifests by storage class and size.
    let claims = Memo<ClaimShape, Value>()
    /// Job manifests by Job.
    let jobs = Memo<HydrationJob, Value>()
    /// The report objects' manifests, built when the first cluster runs a Job.
    private(set) lazy var reports = ReportObjects(staging)

    /// No manifest built yet.
    init(_ staging: CacheStaging) { self.staging = staging }

    /// The claim manifest for a cluster's class and size.
    func claim(_ sizing: ClaimSizing) -> Value {
        let shape = ClaimShape(storageClass: UTF8Key(sizing.storageClass), size: UTF8Key(sizing.size))
        return claims.value(shape, with: staging) {
            $0.claimManifest(storageClass: $1.storageClass.string, size: $1.size.string)
        }
    }

    /// The manifest of a hydration Job.
    func job(_ job: HydrationJob) -> Value {
        jobs.value(job, with: staging) { $0.jobManifest($1) }
    }
}
