/// Composes one XR kind: request in, response out.
public protocol KindComposer: Sendable {
    /// Fills `response` (which starts as a copy of the request's desired state and context).
    func compose(_ request: RunRequest, xr: XR, into response: inout RunResponse)
}

/// The observed XR being composed, with what every kind reads first.
public struct XR: Sendable {
    /// The whole observed object.
    public var object: Value
    /// `metadata.namespace` ("" for cluster-scoped kinds).
    public var namespace: String
    /// `metadata.name`.
    public var name: String
    /// The step input's settings, validated.
    public var settings: Settings
    /// The clusters answered, read once for the composer and the Warning about them.
    public let answered = AnsweredClusters()

    /// The clusters answered for `key` (`AnsweredClusters.views`), read once per call.
    public func clusters(_ request: RunRequest, _ key: RequirementKey) -> [ClusterView]? {
        answered.views(request, key)
    }
}

/// The function's entry point: dispatches on the observed XR's apiVersion and kind.
///
/// Pure: no clock, no randomness, no environment, no I/O. Safe to call from
/// many threads at once.
public struct Composer: Sendable {
    /// The API group and version of every kind this function composes.
    public static let apiVersion = "modelplane.ai/v1alpha1"

    /// The composers by kind.
    public let composers: [String: any KindComposer]

    /// A composer for every kind this function knows.
    public init() {
        self.init(composers: [
            ModelCacheComposer.kind: ModelCacheComposer(),
            ModelReplicaComposer.kind: ModelReplicaComposer(),
            ModelDeploymentComposer.kind: ModelDeploymentComposer(),
            ClusterView.kind: InferenceClusterComposer(),
        ])
    }

    /// A composer with the given per-kind composers (for tests).
    public init(composers: [String: any KindComposer]) {
        self.composers = composers
    }

    /// Composes one pipeline step. It does not read the decoding verdict: a
    /// lazily decoded request goes through `RequestPipeline` (or FunctionProto's
    /// `Pipeline`), which refuses one found malformed while it was composed.
    public func run(_ request: RunRequest) -> RunResponse {
        var response = RunResponse(to: request)
        guard let xr = request.observed.composite?.object, xr.objectValue != nil else {
            response.results.append(.fatal("Cannot compose: the request carries no observed composite resource"))
            return response
        }
        let apiVersion = xr["apiVersion"]?.stringValue ?? ""
        let kind = xr["kind"]?.stringValue ?? ""
        guard apiVersion == Composer.apiVersion, let composer = composers[kind] else {
            let known = composers.keys.sorted().map { "\(Composer.apiVersion) \($0)" }.joined(separator: ", ")
            response.results.append(
                .fatal(
                    "Cannot compose \(apiVersion.isEmpty ? "<no apiVersion>" : apiVersion) \(kind.isEmpty ? "<no kind>" : kind): "
                        + "function-modelcache composes only \(known)"))
            return response
        }
        let settings: Settings
        switch Settings.parse(request.input) {
        case .success(let s): settings = s
        case .failure(let errors):
            response.results.append(.fatal("Invalid step input: \(errors)", reason: "InvalidInput"))
            return response
        }
        response.ttlSeconds = settings.responseTTLSeconds
        let context = XR(
            object: xr, namespace: xr[path: "metadata", "namespace"]?.stringValue ?? "",
            name: xr[path: "metadata", "name"]?.stringValue ?? "", settings: settings)
        composer.compose(request, xr: context, into: &response)
        if !response.isFatal, let warning = ClusterAnswers.warnings(request, answered: context.answered) {
            response.results.append(warning)
        }
        return response
    }
}
