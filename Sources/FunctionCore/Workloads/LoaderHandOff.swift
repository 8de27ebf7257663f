/// What became of a cache's loader in a replica's serving engine (sources.md §2).
enum LoaderUse: Hashable {
    /// The engine got the loader's arguments.
    case applied
    /// The engine chose a loader itself (`flag`, and its value when written as one):
    /// the user's choice wins and nothing of the cache's loader is added.
    case engineOwn(flag: String, value: String?)
    /// The engine has its own command: the function does not treat it as vLLM.
    case notVLLM

    /// The engine flags by which a user chooses a loader themselves.
    static let ownFlags = ["--load-format", "--model-loader-extra-config"]
}

/// Which loader a replica's pods get, and when (sources.md §2). A change of the
/// cache's `spec.mount.loader` (added, changed or removed) must not restart every
/// consumer at once, so a running workload takes the cache's current loader only
/// when its pods roll out anyway: when the pod template built with the loader it
/// applied last (`status.loader`) differs from the one running. It takes it at
/// once at creation, when the replica's `modelplane.ai/apply-loader` annotation
/// has a value other than the one recorded, and when taking it changes nothing in
/// the pods (an engine the loader does not reach). Otherwise the pods keep the
/// loader they have, and the condition says the new one is pending.
struct LoaderHandOff {
    /// The annotation whose every new value applies the cache's current loader at once.
    static let applyAnnotation = "modelplane.ai/apply-loader"
    /// The condition that says what became of the loader.
    static let conditionType = "LoaderApplied"

    /// The loader the cache sets now, if any.
    let current: LoaderSpec?
    /// The loader applied last, as `status.loader` records it, if any.
    let recorded: LoaderSpec?
    /// The apply annotation's value the last loader was applied under, as recorded.
    let recordedAnnotation: String?
    /// The apply annotation's value now, echoed as status records it.
    let annotation: String?

    /// The hand-off for replica `xr` whose cache sets `current`.
    init(xr: Value, current: LoaderSpec?) {
        self.current = current
        let status = xr[path: "status", "loader"]
        recorded = LoaderSpec(readBack: status)
        recordedAnnotation = status?["annotation"]?.stringValue
        annotation = xr[path: "metadata", "annotations", Self.applyAnnotation]?.stringValue.map(echo)
    }

    /// A workload manifest built with the loader its pods get.
    struct Outcome {
        /// The workload manifest.
        var manifest: Value
        /// The `--model` value that bypasses the mounted cache, if any.
        var modelElsewhere: String?
        /// What became of the loader in the engine, when one is applied.
        var use: LoaderUse?
        /// The loader the pods get (what `status.loader` records).
        var applied: LoaderSpec?
        /// Whether the cache's current loader waits for the pods' next rollout.
        var pending = false
    }

    /// The workload of `builder` with the loader its pods get, given the manifest
    /// the running workload was last applied with (nil: none runs).
    func compose(_ builder: WorkloadBuilder, running: Value?) -> Outcome {
        var b = builder
        b.loader = current
        let now = b.workload()
        let taken = Outcome(
            manifest: now.manifest, modelElsewhere: now.modelElsewhere, use: now.loaderUse, applied: current)
        // At creation, on a new annotation value, or with nothing to change: the current loader.
        guard let running, current != recorded, annotation == recordedAnnotation else { return taken }
        let runningTemplate = WorkloadBuilder.podTemplate(of: running)
        // The current loader changes nothing in the pods (an engine it does not reach): taken.
        if WorkloadBuilder.podTemplate(of: now.manifest) == runningTemplate { return taken }
        b.loader = recorded
        let kept = b.workload()
        // The pods roll out for another reason anyway: taken with that rollout.
        guard WorkloadBuilder.podTemplate(of: kept.manifest) == runningTemplate else { return taken }
        return Outcome(
            manifest: kept.manifest, modelElsewhere: kept.modelElsewhere, use: kept.loaderUse, applied: recorded,
            pending: true)
    }

    /// `status.loader`: the loader applied and the apply annotation's value it was
    /// applied under; nil when neither is set.
    func status(_ outcome: Outcome) -> Value? {
        var fields = outcome.applied?.fields ?? [:]
        if let annotation { fields["annotation"] = .string(annotation) }
        return fields.isEmpty ? nil : .object(fields)
    }

    /// `LoaderApplied`, with a Warning when the engine newly ignores the loader;
    /// nil while no loader was ever in play for this replica.
    func condition(_ outcome: Outcome, xr: Value, _ response: inout RunResponse) {
        let previous = FunctionCore.condition(xr, Self.conditionType)?["reason"]?.stringValue
        guard let c = Self.condition(outcome, current: current) ?? previous.map({ _ in Self.noLoader }) else {
            return
        }
        response.conditions.append(c)
        if c.status == .false, c.reason == "EngineOwnLoader" || c.reason == "NotVLLM", previous != c.reason {
            response.results.append(.warning(c.message ?? "", reason: "LoaderIgnored"))
        }
    }

    /// The condition once nothing sets or keeps a loader.
    static let noLoader = Condition(
        type: conditionType, status: .false, reason: "NoLoader", message: "The cache sets no loader")

    /// `LoaderApplied` for `outcome`; nil when no loader is applied or pending.
    static func condition(_ outcome: Outcome, current: LoaderSpec?) -> Condition? {
        if outcome.pending {
            let next = "the pods' next rollout, or a new value of annotation \(applyAnnotation)"
            let kept = "the pods keep \(outcome.applied?.summary ?? "no loader") until \(next)"
            let message =
                switch (current, outcome.applied) {
                case (let now?, nil): "The cache's loader \(now.summary) waits for \(next)"
                case (let now?, _): "The cache's loader changed to \(now.summary); \(kept)"
                case (nil, _): "The cache no longer sets a loader; \(kept)"
                }
            return Condition(type: conditionType, status: .false, reason: "Pending", message: message)
        }
        guard let loader = outcome.applied, let use = outcome.use else { return nil }
        switch use {
        case .applied:
            return Condition(
                type: conditionType, status: .true, reason: "Applied",
                message: "The engine loads the weights with the cache's loader \(loader.summary)")
        case .engineOwn(let flag, let value):
            return Condition(
                type: conditionType, status: .false, reason: "EngineOwnLoader",
                message: "The engine's own \(flag)\(value.map { " \(quote($0))" } ?? "") wins over the cache's loader "
                    + "\(loader.summary): nothing of it is added")
        case .notVLLM:
            return Condition(
                type: conditionType, status: .false, reason: "NotVLLM",
                message: "The cache's loader \(loader.summary) is ignored: the engine container has its own command, "
                    + "and the loader reaches vLLM engines only (an engine container without command)")
        }
    }
}
