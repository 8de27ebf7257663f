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
            response.conditions.append(Condition(type: "ArtifactReady", status: .false, reason: "InvalidSpec", message: message))
            return
        }

        // 1. Requirements: always the same for the same spec, so Crossplane sees them settle.
        var requirements = Requirements(resources: [
            Self.clustersKey: ResourceSelector(
                apiVersion: Composer.apiVersion, kind: ClusterView.kind, match: .labels(spec.matchLabels))
        ])
        if let token = spec.token {
            requirements.resources[Self.tokenKey] = ResourceSelector(
                apiVersion: "v1", kind: "Secret", match: .name(token.name), namespace: namespace)
        }
        response.requirements = requirements
        guard requirements.resources.keys.allSatisfy({ request.requiredResources[$0] != nil }),
            let clusters = ClusterView.answered(request, key: Self.clustersKey)
        else { return }

        // 2. The token: only whether it is usable; its value is never read into the output.
        let tokenProblem = spec.token.flatMap { Self.tokenProblem($0, namespace: namespace, request: request) }

        // 3. Per cluster, sorted by name.
        let observed = ObservedCacheStatus(xr)
        let labels = [
            "app.kubernetes.io/managed-by": "function-modelcache",
            "modelplane.ai/modelcache": name,
            "modelplane.ai/modelcache-namespace": namespace,
        ]
        let staging = CacheStaging(
            ownerKind: "modelcache", namespace: namespace, name: name, source: spec.source,
            token: spec.token.map { Self.tokenSource($0, namespace: namespace, request: request) },
            labels: labels, settings: settings)
        let identity = spec.source.identity
        let plans = clusters.map {
            plan($0, spec: spec, identity: identity, staging: staging, observed: observed, request: request)
        }

        // Hydration runs in waves of at most `maxParallelHydrations` Jobs: that bounds
        // the response size on big fleets and the load on the artifact source.
        // Jobs already running keep their slot, so nothing running is dropped.
        var slots = settings.maxParallelHydrations - plans.filter { $0.needsJob && $0.jobObserved }.count
        var reports: [(cluster: String, report: PhaseReport)] = []
        // One claim manifest per storage class and size, shared by every cluster's Object.
        var claims: [ClaimShape: Value] = [:]
        response.desired.resources.reserveCapacity(response.desired.resources.count + 2 * plans.count)
        for plan in plans {
            var report = plan.report
            if let target = plan.target {
                var hydrate = plan.needsJob && tokenProblem == nil
                if hydrate && !plan.jobObserved {
                    if slots > 0 { slots -= 1 } else {
                        hydrate = false
                        report = PhaseReport(.pending, "Queued: at most \(settings.maxParallelHydrations) hydration Jobs run at once")
                    }
                }
                let shape = ClaimShape(storageClass: target.storageClass, sizeGiB: target.sizeGiB)
                let claim = claims[shape] ?? {
                    let built = staging.claimManifest(storageClass: shape.storageClass, sizeGiB: shape.sizeGiB)
                    claims[shape] = built
                    return built
                }()
                compose(staging, claim: claim, on: target, keys: plan.keys, hydrate: hydrate,
                        request: request, response: &response)
            }
            reports.append((plan.cluster, report))
        }

        // 4. Status, conditions, readiness and events.
        let outcome = CacheOutcome(reports: reports, tokenProblem: tokenProblem)
        writeStatus(outcome, source: spec.source, xr: xr, response: &response)
        response.conditions += outcome.conditions
        response.results += outcome.events(repo: spec.repo, observed: observed)
    }

    /// Where on a cluster a cache goes: its provider config and storage.
    struct ClusterTarget {
        let providerConfig: String
        let storageClass: String
        let sizeGiB: Int64
    }

    /// What makes two clusters' claims differ.
    struct ClaimShape: Hashable {
        let storageClass: String
        let sizeGiB: Int64
    }

    /// One cluster's phase and, when anything can be composed there, its target.
    struct ClusterPlan {
        let cluster: String
        let report: PhaseReport
        /// nil when nothing can be composed on the cluster.
        let target: ClusterTarget?
        /// Whether the current Job is already observed (running or finished).
        let jobObserved: Bool
        /// The composed resource keys on this cluster.
        let keys: CacheKeys
        /// Whether the cluster still needs its hydration Job.
        var needsJob: Bool { target != nil && report.phase != .ready }
    }

    /// Judges one cluster: where the cache can go there and its phase.
    private func plan(_ cluster: ClusterView, spec: ModelCacheSpec, identity: String, staging: CacheStaging,
                      observed: ObservedCacheStatus, request: RunRequest) -> ClusterPlan
    {
        guard let providerConfig = cluster.providerConfig else {
            return ClusterPlan(cluster: cluster.name, report: PhaseReport(
                .pending, "Waiting for InferenceCluster \(cluster.name) to report status.providerConfigRef.name"),
                target: nil, jobObserved: false, keys: CacheKeys(cluster: cluster.name))
        }
        guard let rwx = cluster.rwxCache else {
            let why = cluster.rwxProblem ?? "InferenceCluster \(cluster.name) declares no spec.storage.rwxCache"
            return ClusterPlan(cluster: cluster.name, report: PhaseReport(
                .failed, "Cannot stage \(spec.repo) on \(cluster.name): \(why)"), target: nil, jobObserved: false,
                keys: CacheKeys(cluster: cluster.name))
        }
        let keys = CacheKeys(cluster: cluster.name)
        let job = request.observed.resources[keys.job]
        let report = staging.phase(
            claim: request.observed.resources[keys.claim], job: job,
            latchedReady: observed.wasReady(cluster.name, source: identity))
        let target = ClusterTarget(providerConfig: providerConfig, storageClass: rwx.storageClassName,
                                   sizeGiB: spec.sizeGiB ?? rwx.defaultSizeGiB)
        return ClusterPlan(cluster: cluster.name, report: report, target: target, jobObserved: staging.isCurrentJob(job),
                           keys: keys)
    }

    /// Composes the claim and, while hydrating, the Job and token copy, with readiness from observed state.
    private func compose(_ staging: CacheStaging, claim: Value, on target: ClusterTarget, keys: CacheKeys, hydrate: Bool,
                         request: RunRequest, response: inout RunResponse)
    {
        var composed: [(String, Value)] = [(keys.claim, staging.claimObject(providerConfig: target.providerConfig, claim: claim))]
        if hydrate {
            composed.append((keys.job, staging.jobObject(providerConfig: target.providerConfig)))
            if let token = staging.tokenObject(providerConfig: target.providerConfig) {
                composed.append((keys.token, token))
            }
        }
        for (key, object) in composed {
            let ready: Readiness = ProviderObject.isReady(request.observed.resources[key]) ? .ready : .notReady
            response.desired.resources[key] = Resource(object: object, ready: ready)
        }
    }

    /// The token Secret on the control plane, when the answer holds the one asked for.
    static func controlPlaneToken(_ ref: SecretKeyRef, request: RunRequest) -> Value? {
        request.requiredResources[tokenKey]?.first { $0.object[path: "metadata", "name"]?.stringValue == ref.name }?.object
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

    private func writeStatus(_ outcome: CacheOutcome, source: ArtifactSource, xr: Value, response: inout RunResponse) {
        var composite = response.desired.composite ?? Resource(object: [
            "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(Self.kind),
        ])
        var status = composite.object["status"]?.objectValue ?? [:]
        status["summary"] = ["ready": .string("\(outcome.readyCount)/\(outcome.reports.count)")]
        let identity = Value.string(source.identity)
        status["clusters"] = .list(outcome.reports.map { entry in
            // Appended in key order: this runs once per cluster.
            var o = Fields()
            o.reserveCapacity(4)
            if let m = entry.report.message { o.appendSorted("message", .string(m)) }
            o.appendSorted("name", .string(entry.cluster))
            o.appendSorted("phase", .string(entry.report.phase.rawValue))
            o.appendSorted("source", identity)
            return .object(o)
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

    init(cluster: String) {
        self.cluster = cluster
        claim = "pvc-" + cluster
        job = "hydrate-" + cluster
    }
}
