/// Composes a ModelCache: the artifact staged on ReadWriteMany storage on every
/// matched InferenceCluster, with the storage class inherited from the cluster.
///
/// Reads top to bottom: validate, ask for clusters (and the token Secret),
/// then per cluster compose and judge the phase, then status, conditions and
/// events. See ../shared/spec/modelcache.md.
public struct ModelCacheComposer: KindComposer {
    /// The XR kind.
    public static let kind = "ModelCache"
    /// Requirement key for the matched clusters.
    public static let clustersKey = "clusters"
    /// Requirement key for the token Secret.
    public static let tokenKey = "token-secret"
    /// Requirement key for the cache's Usages (its consumers).
    public static let consumersKey = "consumers"

    /// Creates the composer.
    public init() {}

    /// Composes one ModelCache.
    public func compose(_ request: RunRequest, xr context: XR, into response: inout RunResponse) {
        let (xr, namespace, name, settings) = (context.object, context.namespace, context.name, context.settings)

        let spec: ModelCacheSpec
        switch ModelCacheSpec.parse(xr["spec"]) {
        case .success(let s): spec = s
        case .failure(let errors):
            let message = "Invalid ModelCache \(namespace)/\(name): \(errors)"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(
                Condition(type: "ArtifactReady", status: .false, reason: "InvalidSpec", message: message))
            return
        }

        // 1. Requirements: always the same for the same spec, so Crossplane sees them settle.
        var requirements = Requirements(resources: [
            Self.clustersKey: ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ClusterView.kind, match: .labels(spec.matchLabels))
        ])
        requirements.resources[Self.consumersKey] = ResourceSelector(
            apiVersion: Consumers.apiVersion, kind: Consumers.kind,
            match: .labels([Consumers.cacheLabel: labelValue(name)]), namespace: namespace)
        if let token = spec.token {
            requirements.resources[Self.tokenKey] = ResourceSelector(
                apiVersion: "v1", kind: "Secret", match: .name(token.name), namespace: namespace)
        }
        response.requirements = requirements
        guard requirements.resources.keys.allSatisfy({ request.requiredResources[$0] != nil }),
            let clusters = context.clusters(request, key: Self.clustersKey)
        else { return }

        // 2. The token: only whether it is usable; its value is never read into the output.
        let tokenProblem = spec.token.flatMap { Self.tokenProblem($0, namespace: namespace, request: request) }

        // 3. Per matched cluster, sorted by name.
        let observed = ObservedCacheStatus(xr)
        let consumers = Consumers(request.requiredResources[Self.consumersKey] ?? [])
        let labels = [
            "app.kubernetes.io/managed-by": "function-modelcache",
            "modelplane.ai/modelcache": labelValue(name),
            "modelplane.ai/modelcache-namespace": labelValue(namespace),
        ]
        let staging = CacheStaging(
            ownerKind: "modelcache", namespace: namespace, name: name, source: spec.source,
            token: spec.token.map { Self.tokenSource($0, namespace: namespace, request: request) },
            labels: labels, settings: settings,
            retry: xr[path: "metadata", "annotations", CacheStaging.retryAnnotation]?.stringValue,
            generation: xr[path: "metadata", "generation"]?.intValue ?? 0)
        let planner = ClusterPlanner(
            spec: spec, staging: staging, observed: observed, consumers: consumers,
            request: request)
        let plans = clusters.map(planner.plan)

        // Hydration runs in waves of at most `maxParallelHydrations` Jobs: that bounds
        // the response size on big fleets and the load on the artifact source.
        // Jobs already running keep their slot, so nothing running is dropped.
        var slots = settings.maxParallelHydrations - plans.reduce(0) { $0 + ($1.needsJob && $1.jobObserved ? 1 : 0) }
        var reports: [ClusterReport] = []
        var notes: [String: [String]] = [:]
        // One claim manifest per storage class and size, one Job manifest per Job,
        // shared by every cluster's Object.
        let claims = Memo<ClaimShape, Value>()
        let jobs = Memo<HydrationJob, Value>()
        response.desired.resources.reserveCapacity(response.desired.resources.count + 2 * plans.count)
        reports.reserveCapacity(plans.count)
        for plan in plans {
            var report = plan.report
            if let target = plan.target {
                var hydrate = plan.needsJob && tokenProblem == nil
                if hydrate && !plan.jobObserved {
                    if slots > 0 {
                        slots -= 1
                    } else {
                        hydrate = false
                        let queued = "Queued: at most \(settings.maxParallelHydrations) hydration Jobs run at once"
                        report =
                            plan.staged.map { PhaseReport(.updating, "\(queued); \($0) keeps serving") }
                            ?? PhaseReport(.pending, queued)
                    }
                }
                let shape = ClaimShape(
                    storageClass: UTF8Key(target.sizing.storageClass), size: UTF8Key(target.sizing.size))
                let claim = claims.value(shape, with: staging) {
                    $0.claimManifest(storageClass: $1.storageClass.string, size: $1.size.string)
                }
                var job: Value?
                if hydrate, let hydration = plan.job {
                    job = jobs.value(hydration, with: staging) { $0.jobManifest($1) }
                }
                compose(
                    staging, claim: claim, job: job, on: target.providerConfig, keys: plan.keys,
                    request: request, response: &response)
                if !target.sizing.notes.isEmpty {
                    notes[plan.cluster] = target.sizing.notes
                    report = report.adding(target.sizing.notes)
                }
            } else if let kept = plan.keptClaim {
                response.desired.resources[plan.keys.claim] = kept
            }
            reports.append(
                ClusterReport(
                    cluster: plan.cluster, report: report, staged: plan.staged,
                    consumers: consumers.count(on: plan.cluster)))
        }

        // 4. Clusters no longer matched: kept while replicas use them, released otherwise.
        var answered = Set<String>(minimumCapacity: clusters.count)
        for cluster in clusters { answered.insert(cluster.name) }
        var released: [String] = plans.compactMap { $0.releasesClaim ? $0.cluster : nil }
        for cluster in planner.unmatchedClaims(answered: answered) {
            if let retained = planner.retain(cluster, why: "InferenceCluster \(cluster) is no longer selected") {
                response.desired.resources[CacheKeys(cluster: cluster).claim] = retained.claim
                reports.append(retained.report)
            } else {
                released.append(cluster)
            }
        }
        reports.sort { utf8Less($0.cluster, $1.cluster) }

        // 5. Status, conditions, readiness and events.
        let outcome = CacheOutcome(source: spec.source.identity, reports: reports, tokenProblem: tokenProblem)
        writeStatus(outcome, source: spec.source, total: consumers.total, xr: xr, response: &response)
        response.conditions += outcome.conditions
        response.results += outcome.events(repo: spec.repo, observed: observed, notes: notes)
        for cluster in released.sorted() {
            response.results.append(
                .normal(
                    "Released cache \(namespace)/\(name) on \(cluster): no replica there uses it",
                    reason: "Released"))
        }
    }

    /// What makes two clusters' claims differ, compared as bytes (the manifest carries the bytes).
    struct ClaimShape: Hashable {
        /// The storage class.
        let storageClass: UTF8Key
        /// The size, e.g. `300Gi`.
        let size: UTF8Key
    }

    /// Composes the claim and, while hydrating, the Job and token copy, with readiness from observed state.
    private func compose(
        _ staging: CacheStaging, claim: Value, job: Value?, on providerConfig: String, keys: CacheKeys,
        request: RunRequest, response: inout RunResponse
    ) {
        func add(_ key: String, _ object: Value) {
            let ready: Readiness = ProviderObject.isReady(request.observed.resources[key]) ? .ready : .notReady
            response.desired.resources[key] = Resource(object: object, ready: ready)
        }
        add(keys.claim, staging.claimObject(providerConfig: providerConfig, claim: claim))
        guard let job else { return }
        add(keys.job, staging.jobObject(providerConfig: providerConfig, manifest: job))
        if let token = staging.tokenObject(providerConfig: providerConfig) {
            add(keys.token, token)
        } else if let kept = request.observed.resources[keys.token], let spec = kept.object["spec"] {
            // The control-plane Secret is gone from the answer while a Job still runs: the
            // copy it may read stays as it was (dropping it would delete it on the cluster).
            add(
                keys.token,
                ["apiVersion": kept.object["apiVersion"] ?? .null, "kind": kept.object["kind"] ?? .null, "spec": spec])
        }
    }

    /// The token Secret on the control plane, when the answer holds the one asked for.
    static func controlPlaneToken(_ ref: SecretKeyRef, request: RunRequest) -> Value? {
        request.requiredResources[tokenKey]?.first { $0.object[path: "metadata", "name"]?.stringValue == ref.name }?
            .object
    }

    /// Where Jobs read the token (modelcache.md §4): a Secret of that name on the
    /// control plane is copied to every cluster; without one, the proposal's
    /// convention applies and each workload cluster holds it in the remote namespace.
    static func tokenSource(_ ref: SecretKeyRef, namespace: String, request: RunRequest) -> TokenSource {
        controlPlaneToken(ref, request: request) == nil
            ? .workloadCluster(secretName: ref.name, key: ref.key)
            : .controlPlane(secretName: ref.name, namespace: namespace, key: ref.key)
    }

    /// Why the control-plane token Secret cannot be used (it lacks the key, or
    /// its value is empty), or nil when it can or when there is none.
    static func tokenProblem(_ ref: SecretKeyRef, namespace: String, request: RunRequest) -> String? {
        guard let secret = controlPlaneToken(ref, request: request) else { return nil }
        let value = secret[path: "data", ref.key]?.stringValue ?? secret[path: "stringData", ref.key]?.stringValue
        guard let value, !value.isEmpty else {
            return "Secret \(namespace)/\(ref.name) named by spec.artifact.source.huggingFace.tokenSecretRef has no "
                + "non-empty key \(ref.key)"
        }
        return nil
    }

    private func writeStatus(
        _ outcome: CacheOutcome, source: ArtifactSource, total: Int, xr: Value,
        response: inout RunResponse
    ) {
        var composite =
            response.desired.composite
            ?? Resource(object: [
                "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(Self.kind),
            ])
        var status = composite.object["status"]?.objectValue ?? [:]
        status["summary"] = [
            "ready": .string("\(outcome.readyCount)/\(outcome.matched.count)"), "consumers": .int(Int64(total)),
        ]
        let identity = Value.string(source.identity)
        status["clusters"] = .list(
            outcome.reports.map { entry in
                // Written in key order: this runs once per cluster.
                var o: [Fields.Entry] = []
                o.reserveCapacity(6)
                o.append(Fields.Entry(key: "consumers", value: .int(Int64(entry.consumers))))
                if let m = entry.report.message { o.append(Fields.Entry(key: "message", value: .string(m))) }
                o.append(Fields.Entry(key: "name", value: .string(entry.cluster)))
                o.append(Fields.Entry(key: "phase", value: .string(entry.report.phase.rawValue)))
                o.append(Fields.Entry(key: "source", value: identity))
                if let staged = entry.staged { o.append(Fields.Entry(key: "staged", value: .string(staged))) }
                return .object(Fields(ordered: o))
            })
        composite.object["status"] = .object(status)
        composite.ready = outcome.allReady ? .ready : .notReady
        response.desired.composite = composite
    }
}

/// The composed resource keys for one cluster.
struct CacheKeys {
    let cluster: String
    let claim: String
    let job: String
    /// Only gated models have a token copy.
    var token: String { "token-" + cluster }

    /// What every claim key starts with (`pvc-<cluster>`).
    static let claimPrefix = "pvc-"

    init(cluster: String) {
        self.cluster = cluster
        claim = Self.claimPrefix + cluster
        job = "hydrate-" + cluster
    }
}
