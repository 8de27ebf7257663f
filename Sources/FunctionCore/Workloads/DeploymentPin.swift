/// The pin of a ModelDeployment's automatic per-replica caches (hydrator.md §2):
/// one commit that every replica stages, kept in the deployment's
/// `status.resolved` and copied into each replica it composes as `spec.cachePin`.
///
/// - The pin is *current* while its source is the engine's `--model` (`hf://<id>`)
///   and its `refresh` is the deployment's `modelplane.ai/refresh-revision`
///   annotation (both absent counts as equal). Only a current pin reaches the
///   replicas, and while one exists no replica status is read.
/// - Without a current pin, the observed replicas' `status.cache.resolved` (what
///   each replica's own first report resolved) are read in cluster name order; the
///   first whose source and refresh are the current ones and whose commit is 40 hex
///   becomes the pin. (The replica status carries no `startedAt`, so several at once
///   are decided by cluster name alone.) Its epoch is the previous pin's plus one,
///   or 0 for the first pin.
/// - Until then `status.resolved` keeps the previous pin (its epoch counts on) and
///   the replicas get no `spec.cachePin`, so their Jobs resolve the source again;
///   the refresh annotation is copied onto every replica, so a replica that already
///   resolved knows to resolve once more (its `status.cache.resolved.refresh` then
///   names the refresh it resolved under).
struct DeploymentPin {
    /// The annotation that moves the pin on purpose (any new value).
    static let refreshAnnotation = "modelplane.ai/refresh-revision"

    /// The source the replicas' automatic caches stage: `hf://<id>` from the engine's `--model`.
    let source: String
    /// The deployment's refresh annotation, echoed as it is recorded in `resolved.refresh`.
    let refresh: String?
    /// `status.resolved` after this reconcile: the current pin, or the previous one while a new one is awaited.
    private(set) var resolved: ResolvedPin?
    /// The pin copied into every replica (`spec.cachePin`), as status writes it; nil while none is current.
    private(set) var cachePin: Value?
    /// The cluster whose replica's report set the pin in this reconcile, if it changed now.
    private(set) var setFrom: String?

    /// The pin of a deployment whose replicas use the automatic cache (multi-node, no
    /// `modelCacheRef`, an engine `--model` that is a repo id); nil for any other deployment.
    init?(xr: Value, spec: ModelDeploymentSpec, request: RunRequest) {
        guard spec.cacheName == nil, spec.workers.isMultiNode,
            let id = ModelArguments(spec.workers.engine["args"]?.listValue?.compactMap(\.stringValue) ?? []).model,
            ArtifactSource.isRepo(id)
        else { return nil }
        source = ArtifactSource(repo: id, revision: nil).identity
        refresh = xr[path: "metadata", "annotations", Self.refreshAnnotation]?.stringValue.map(echo)
        let previous = ResolvedPin(xr[path: "status", "resolved"])
        if let previous, previous.source == source, previous.refresh == refresh {
            resolved = previous
        } else if let report = Self.firstReport(request, source: source, refresh: refresh) {
            let epoch = previous.map(\.nextEpoch) ?? 0
            resolved = ResolvedPin(source: source, commit: report.commit, refresh: refresh, epoch: epoch)
            setFrom = report.cluster
        } else {
            resolved = previous
            return
        }
        cachePin = resolved?.value
    }

    /// The first observed replica, in cluster name order, whose `status.cache.resolved`
    /// names `source` under `refresh` with a 40-hex commit: its cluster and the commit.
    /// Anything else a replica's status holds (another source, another refresh, a
    /// malformed commit, an oversized string) is ignored, and nothing of it is echoed.
    static func firstReport(_ request: RunRequest, source: String, refresh: String?) -> (
        cluster: String, commit: String
    )? {
        var found: (cluster: String, commit: String)?
        for (key, resource) in request.observed.resources {
            guard let named = ResourceKey.cluster(ofReplica: key),
                let resolved = resource.object[path: "status", "cache", "resolved"],
                resolved["source"]?.stringValue == source,
                resolved["refresh"]?.stringValue == refresh,
                let commit = resolved["commit"]?.stringValue, isCommit(commit)
            else { continue }
            let cluster = resource.object[path: "spec", "inferenceClusterRef", "name"]?.stringValue ?? named
            if found.map({ utf8Less(cluster, $0.cluster) }) ?? true { found = (cluster, commit) }
        }
        return found
    }

    /// A Normal event when the pin was set or moved by this reconcile; nil otherwise.
    func event(xr: XR) -> FunctionResult? {
        guard let setFrom, let resolved else { return nil }
        return .normal(
            "The automatic caches of ModelDeployment \(xr.namespace)/\(xr.name) are pinned to \(resolved.identity) "
                + "(epoch \(resolved.epoch), resolved by the replica on \(echo(setFrom))); every replica stages "
                + "that commit", reason: "CachePinned")
    }

    /// Adds the pin and the refresh annotation to one replica's composed `spec` and `metadata`.
    func apply(spec: inout Value, metadata: inout Value) {
        if let cachePin { spec["cachePin"] = cachePin }
        if let refresh { metadata["annotations"] = [Self.refreshAnnotation: .string(refresh)] }
    }
}
