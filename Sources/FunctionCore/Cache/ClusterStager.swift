/// The one staging lifecycle (lifecycle.md §2–§7): stages one revision of a
/// cache on one cluster. It sizes the claim, adopts or replaces the observed
/// hydration Job, judges the phase from the observed claim and Job and the
/// previous status entry (staged latch, failure latch), and plans the Job the
/// cluster runs, if any. The shared ModelCache (one per cluster) and the
/// automatic per-replica cache (its one cluster) both stage through it; the
/// revisions pruning keeps beyond the staged one are their parameter.
///
/// A class holding the per-compose memos: a 1,000-cluster cache digests each
/// attempt and Job name once per distinct input, not per cluster.
final class ClusterStager {
    /// Names and manifests shared by every cluster.
    let staging: CacheStaging
    /// What a permanent failure tells the user to do, in the owner's terms.
    let hints: FailureHints
    /// Attempt labels by claim size.
    private let attempts = Memo<Int64, String>()
    /// New Job names by the revision staged and the Job replaced.
    private let jobNames = Memo<JobNameInputs, String>()

    /// What a new Job's name depends on besides the spec (`CacheStaging.newJobName`),
    /// compared as bytes, as the digest reads them.
    struct JobNameInputs: Hashable {
        let staged: UTF8Key?
        let replacing: UTF8Key?

        init(staged: String?, replacing: String?) {
            self.staged = staged.map(UTF8Key.init)
            self.replacing = replacing.map(UTF8Key.init)
        }
    }

    /// One cluster after this reconcile.
    struct Stage {
        /// The claim's class and size.
        let sizing: ClaimSizing
        /// Phase, message, staged identity and latched failure.
        let judged: ClusterStaging
        /// The Job the cluster runs now: nil once Ready, and while Failed (a failure stays failed).
        let job: HydrationJob?
        /// Whether an observed Job is adopted (running or finished).
        let jobObserved: Bool
    }

    /// A stager for `staging`'s cache.
    init(_ staging: CacheStaging, hints: FailureHints) {
        self.staging = staging
        self.hints = hints
    }

    /// Stages on `cluster`: the claim wants `storageClass` and `sizeGiB`; `claim` and
    /// `job` are the observed Objects; `previous` is the cluster's entry in the
    /// observed status; `keep` the revisions pruning keeps besides the staged one
    /// (evaluated only when a Job is planned); `hydration` the cluster's own
    /// hydration settings (hydrator.md §5; read only when a Job is planned).
    // Inlined: it runs per cluster (1,000 times on the big benchmark requests).
    @inline(__always)
    func stage(
        cluster: String, storageClass: String, sizeGiB: Int64, claim: Resource?, job: Resource?,
        previous: StagingEntry?, hydration: () -> ClusterHydration? = { nil }, keep: () -> [String]
    ) -> Stage {
        let sizing = ClaimSizing(
            cluster: cluster, claimName: staging.claimName, storageClass: storageClass, sizeGiB: sizeGiB,
            observed: claim)
        let attempt = attempts.value(sizing.sizeGiB, with: staging) { $0.attempt(sizeGiB: $1) }
        let observedJob = ObservedJob.Identity(job)
        let current = staging.adopt(observedJob, attempt: attempt)
        let judged = staging.judge(
            cluster: cluster, claim: claim, current: current, attempt: attempt, previous: previous, hints: hints)
        guard judged.report.phase != .ready, judged.report.phase != .failed else {
            return Stage(sizing: sizing, judged: judged, job: nil, jobObserved: current != nil)
        }
        let hydration = hydration()
        if let problem = hydration?.problem, current == nil {
            return Stage(sizing: sizing, judged: Self.held(judged, problem), job: nil, jobObserved: false)
        }
        let kept = Self.kept(staged: judged.staged.map(staging.directory(of:)), keep(), own: staging.directory)
        let bytes = HydrationJob.claimBytes(sizeGiB: sizing.sizeGiB)
        if let current {
            var adopted = staging.job(
                adopted: current, keep: kept, attempt: attempt, claimBytes: bytes, hydration: hydration)
            // Invalid settings now: the running Job goes on exactly as it was sent.
            if hydration?.problem != nil { adopted.sentManifest = current.sentManifest }
            return Stage(sizing: sizing, judged: judged, job: adopted, jobObserved: true)
        }
        // A Job replaces the observed one, or else the failed one latched in status (gone since), so a
        // retry is never named as the attempt that failed.
        let replacing = observedJob?.name ?? previous?.failure?.job
        let name = jobNames.value(JobNameInputs(staged: previous?.staged, replacing: replacing), with: staging) {
            $0.newJobName(staged: $1.staged?.string, replacing: $1.replacing?.string)
        }
        return Stage(
            sizing: sizing, judged: judged,
            job: staging.newJob(
                named: name, keep: kept, attempt: attempt, claimBytes: bytes, hydration: hydration),
            jobObserved: false)
    }

    /// A cluster whose own hydration settings are invalid starts no Job: Updating
    /// while its staged revision serves, Pending otherwise, saying why.
    static func held(_ judged: ClusterStaging, _ problem: String) -> ClusterStaging {
        var held = judged
        let why = "\(problem); no hydration Job starts on this cluster until it is fixed"
        held.report =
            judged.staged.map { PhaseReport(.updating, "\(why); \($0) keeps serving") }
            ?? PhaseReport(.pending, why)
        return held
    }

    /// The directories pruning keeps besides `own`: the staged one and `extra`,
    /// sorted, each once. Without extras (the usual case) nothing is hashed or sorted.
    @inline(__always)
    static func kept(staged: String?, _ extra: [String], own: String) -> [String] {
        guard !extra.isEmpty else { return staged.flatMap { $0 == own ? nil : [$0] } ?? [] }
        return Set(([staged].compactMap { $0 } + extra).filter { $0 != own }).sorted()
    }
}
