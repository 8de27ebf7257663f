/// A cluster's entry in the observed owner's status: what the function said last time.
public struct PreviousStaging: Sendable, Hashable {
    /// The phase reported last time.
    public var phase: String?
    /// The source the phase referred to.
    public var source: String?
    /// The staged identity (the Ready latch).
    public var staged: String?
    /// The message reported last time.
    public var message: String?

    /// Creates an entry.
    public init(phase: String? = nil, source: String? = nil, staged: String? = nil, message: String? = nil) {
        self.phase = phase
        self.source = source
        self.staged = staged
        self.message = message
    }

    /// Reads a status entry (`{phase, source, staged, message}`).
    public init(_ entry: Value?) {
        self.init(
            phase: entry?["phase"]?.stringValue, source: entry?["source"]?.stringValue,
            staged: entry?["staged"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            message: entry?["message"]?.stringValue)
    }
}

/// What the user should do about a permanent hydration failure, in the owner's own terms.
public struct FailureHints: Sendable, Hashable {
    /// For exit code 10: not found or access denied.
    public var notFound: String
    /// For exit code 11: the claim is full.
    public var diskFull: String

    /// A ModelCache's hints (lifecycle.md §6).
    public static let modelCache = FailureHints(
        notFound:
            "check spec.artifact.source.huggingFace.repo and revision; gated models need tokenSecretRef (then set "
            + "annotation \(CacheStaging.retryAnnotation) to retry)",
        diskFull: "the model does not fit: raise spec.storage.sizeGiB (an update needs room for two revisions)")
}

/// A cluster's phase and the revision staged there after this reconcile.
public struct ClusterStaging: Sendable, Hashable {
    /// Phase and message.
    public var report: PhaseReport
    /// The newest completely staged identity; nil until the first one completes.
    public var staged: String?
}

extension CacheStaging {
    /// The phase machine of lifecycle.md §2 for one cluster.
    ///
    /// `staged` advances to this source only when this source's Job (`current`,
    /// the adopted observed Job) completed, and otherwise keeps what the previous
    /// status said: the latch survives the Job's cleanup, and a failed or running
    /// update leaves the older revision serving. A cluster that was Failed for this
    /// same attempt stays Failed while the provider re-creates the expired Job.
    public func judge(
        cluster: String, claim: Resource?, current: ObservedJob?, previous: PreviousStaging?,
        hints: FailureHints
    ) -> ClusterStaging {
        let staged = current?.complete == true ? identity : previous?.staged
        let serving = staged.flatMap { $0 == identity ? nil : "\($0) keeps serving" }
        let claimPhase = claim?.object[path: "status", "atProvider", "manifest", "status", "phase"]?.stringValue

        if let current, let failure = current.failure {
            let why = translate(failure, cluster: cluster, jobName: current.name, hints: hints)
            return ClusterStaging(
                report: PhaseReport(.failed, [why, serving].compactMap { $0 }.joined(separator: "; ")),
                staged: staged)
        }
        if staged == identity && (claimPhase == nil || claimPhase == "Bound") {
            return ClusterStaging(report: PhaseReport(.ready), staged: staged)
        }
        if current != nil, current?.complete != true, previous?.phase == CachePhase.failed.rawValue,
            previous?.source == identity
        {
            return ClusterStaging(report: PhaseReport(.failed, previous?.message), staged: staged)
        }
        guard claimPhase == "Bound" else {
            let waiting =
                claimPhase.map { "Waiting for claim \(claimName) to bind (phase \($0))" }
                ?? "Waiting for claim \(claimName) to be created"
            return ClusterStaging(
                report: PhaseReport(.pending, [waiting, serving].compactMap { $0 }.joined(separator: "; ")),
                staged: staged)
        }
        if let serving {
            return ClusterStaging(report: PhaseReport(.updating, "\(downloading); \(serving)"), staged: staged)
        }
        return ClusterStaging(report: PhaseReport(.hydrating, downloading), staged: staged)
    }

    /// A failed Job's condition in words that say what to do (lifecycle.md §6).
    func translate(_ failure: JobFailure, cluster: String, jobName: String, hints: FailureHints) -> String {
        switch failure.exitCode {
        case HydrationScript.notFoundExitCode?:
            return "Cannot stage \(source.identity) on \(cluster): the repo or revision was not found, or access "
                + "was denied; \(hints.notFound)"
        case HydrationScript.diskFullExitCode?:
            return "Cannot stage \(source.identity) on \(cluster): claim \(claimName) is full; \(hints.diskFull)"
        default:
            // The Job's condition comes from the cluster: escaped and bounded like a user value.
            let detail = failure.message.isEmpty ? "" : ": \(quote(failure.message))"
            return "Hydration Job \(jobName) on \(cluster) failed: \(failure.reason)\(detail); set annotation "
                + "\(Self.retryAnnotation) to a new value to retry"
        }
    }
}
