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
    /// The failure latched for the current attempt, if the cluster is Failed by a Job.
    public var failure: StagingFailure?

    /// The cluster's status entry for `source`.
    func entry(source: String) -> StagingEntry {
        StagingEntry(phase: report.phase, message: report.message, source: source, staged: staged, failure: failure)
    }
}

extension CacheStaging {
    /// The phase machine of lifecycle.md §2 and §7 for one cluster.
    ///
    /// `staged` advances to this source only when this source's Job (`current`,
    /// the adopted observed Job) completed, and otherwise keeps what the previous
    /// status said (the latch survives the Job's cleanup), unless an observed Job
    /// of the current `attempt` still writes that same revision (rule 6: evidence
    /// over belief). A failure latches: the cluster stays Failed for this source
    /// and attempt after the failed Job is gone (rule 5).
    public func judge(
        cluster: String, claim: Resource?, current: ObservedJob?, attempt: String, previous: StagingEntry?,
        hints: FailureHints
    ) -> ClusterStaging {
        let contrary = current.map { !$0.complete && $0.attempt == attempt && previous?.staged == identity } ?? false
        let believed = contrary ? nil : previous?.staged
        let staged = current?.complete == true ? identity : believed
        let serving = staged.flatMap { $0 == identity ? nil : "\($0) keeps serving" }
        let claimPhase = claim?.object[path: "status", "atProvider", "manifest", "status", "phase"]?.stringValue

        if let failure = failure(current, attempt: attempt, previous: previous) {
            let why = translate(failure.condition, cluster: cluster, jobName: failure.job, hints: hints)
            return ClusterStaging(
                report: PhaseReport(.failed, [why, serving].compactMap { $0 }.joined(separator: "; ")),
                staged: staged, failure: failure)
        }
        if staged == identity && (claimPhase == nil || claimPhase == "Bound") {
            return ClusterStaging(report: PhaseReport(.ready), staged: staged)
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

    /// The failure of this source's current attempt: the adopted Job's, or the one
    /// latched in the previous status while no Job of this attempt runs.
    private func failure(_ current: ObservedJob?, attempt: String, previous: StagingEntry?) -> StagingFailure? {
        if let current {
            guard let failed = current.failure else { return nil }
            return StagingFailure(job: current.name, attempt: current.attempt ?? attempt, condition: failed)
        }
        guard previous?.source == identity, let latched = previous?.failure, latched.attempt == attempt else {
            return nil
        }
        return latched
    }

    /// A failed Job's condition in words that say what to do (lifecycle.md §6); the
    /// condition's strings are echoed already (`StagingFailure`).
    func translate(_ failure: JobFailure, cluster: String, jobName: String, hints: FailureHints) -> String {
        switch failure.exitCode {
        case HydrationProgram.notFoundExitCode?:
            return "Cannot stage \(source.identity) on \(cluster): the repo or revision was not found, or access "
                + "was denied; \(hints.notFound)"
        case HydrationProgram.diskFullExitCode?:
            return "Cannot stage \(source.identity) on \(cluster): claim \(claimName) is full; \(hints.diskFull)"
        default:
            let detail = failure.message.isEmpty ? "" : ": \(quote(failure.message))"
            return "Hydration Job \(jobName) on \(cluster) failed: \(failure.reason)\(detail); set annotation "
                + "\(Self.retryAnnotation) to a new value to retry"
        }
    }
}
