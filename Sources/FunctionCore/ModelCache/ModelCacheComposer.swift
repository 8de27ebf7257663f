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
    public func compose(_ request: RunRequest, xr: Value, into response: inout RunResponse) {
        let namespace = xr[path: "metadata", "namespace"]?.stringValue ?? ""
        let name = xr[path: "metadata", "name"]?.stringValue ?? ""

        let settings: Settings
        switch Settings.parse(request.input) {
        case .success(let s): settings = s
        case .failure(let errors):
            response.results.append(.fatal("Invalid step input: \(errors)", reason: "InvalidInput"))
            return
        }
        response.ttlSeconds = settings.responseTTLSeconds

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
        var reports: [(cluster: String, report: PhaseReport)] = []
        for cluster in clusters {
            let report = composeCluster(
                cluster, spec: spec, namespace: namespace, name: name, labels: labels, settings: settings,
                tokenUsable: tokenProblem == nil, observed: observed, request: request, response: &response)
            reports.append((cluster.name, report))
        }

        // 4. Status, conditions, readiness and events.
        let outcome = CacheOutcome(reports: reports, tokenProblem: tokenProblem)
        writeStatus(outcome, source: spec.source, xr: xr, response: &response)
        response.conditions += outcome.conditions
        response.results += outcome.events(repo: spec.repo, observed: observed)
    }

    /// Composes the claim, Job and token copy for one cluster and judges its phase.
    private func composeCluster(
        _ cluster: ClusterView, spec: ModelCacheSpec, namespace: String, name: String, labels: [String: String],
        settings: Settings, tokenUsable: Bool, observed: ObservedCacheStatus, request: RunRequest,
        response: inout RunResponse
    ) -> PhaseReport {
        guard let providerConfig = cluster.providerConfig else {
            return PhaseReport(.pending, "Waiting for InferenceCluster \(cluster.name) to report status.providerConfigRef.name")
        }
        guard let rwx = cluster.rwxCache else {
            let why = cluster.rwxProblem ?? "InferenceCluster \(cluster.name) declares no spec.storage.rwxCache"
            return PhaseReport(.failed, "Cannot stage \(spec.repo) on \(cluster.name): \(why)")
        }
        let staging = CacheStaging(
            ownerKind: "modelcache", namespace: namespace, name: name, providerConfig: providerConfig,
            storageClass: rwx.storageClassName, sizeGiB: spec.sizeGiB ?? rwx.defaultSizeGiB, source: spec.source,
            token: spec.token.map { TokenSource(secretName: $0.name, namespace: namespace, key: $0.key) },
            labels: labels, settings: settings)

        let keys = CacheKeys(cluster: cluster.name)
        let latched = observed.wasReady(cluster.name, source: spec.source.identity)
        let report = staging.phase(
            claim: request.observed.resources[keys.claim], job: request.observed.resources[keys.job],
            latchedReady: latched)

        var composed: [(String, Value)] = [(keys.claim, staging.claimObject())]
        // Until Ready: the Job and the token copy, but only once the token can be read.
        if report.phase != .ready && tokenUsable {
            composed.append((keys.job, staging.jobObject()))
            if let token = staging.tokenObject() { composed.append((keys.token, token)) }
        }
        for (key, object) in composed {
            let ready: Readiness = ProviderObject.isReady(request.observed.resources[key]) ? .ready : .notReady
            response.desired.resources[key] = Resource(object: object, ready: ready)
        }
        return report
    }

    /// Why the token Secret cannot be used, or nil when it holds a non-empty value under the key.
    static func tokenProblem(_ ref: SecretKeyRef, namespace: String, request: RunRequest) -> String? {
        guard let secret = request.requiredResources[tokenKey]?.first?.object else {
            return "Secret \(namespace)/\(ref.name) named by spec.artifact.source.huggingFace.tokenSecretRef does not exist"
        }
        let value = secret[path: "data", ref.key]?.stringValue ?? secret[path: "stringData", ref.key]?.stringValue
        guard let value, !value.isEmpty else {
            return "Secret \(namespace)/\(ref.name) has no non-empty key \(ref.key)"
        }
        return nil
    }

    private func writeStatus(_ outcome: CacheOutcome, source: ArtifactSource, xr: Value, response: inout RunResponse) {
        var composite = response.desired.composite ?? Resource(object: [
            "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(Self.kind),
        ])
        var status = composite.object["status"]?.objectValue ?? [:]
        status["summary"] = ["ready": .string("\(outcome.readyCount)/\(outcome.reports.count)")]
        status["clusters"] = .list(outcome.reports.map { entry in
            var o: [String: Value] = [
                "name": .string(entry.cluster), "phase": .string(entry.report.phase.rawValue),
                "source": .string(source.identity),
            ]
            if let m = entry.report.message { o["message"] = .string(m) }
            return .object(o)
        })
        composite.object["status"] = .object(status)
        composite.ready = outcome.allReady ? .ready : .notReady
        response.desired.composite = composite
    }
}

/// The composed resource keys for one cluster.
struct CacheKeys {
    let claim: String
    let job: String
    let token: String

    init(cluster: String) {
        claim = "pvc-\(cluster)"
        job = "hydrate-\(cluster)"
        token = "token-\(cluster)"
    }
}
