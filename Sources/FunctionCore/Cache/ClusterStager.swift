/// The one staging lifecycle (lifecycle.md §2–§7, hydrator.md §2 and §4): stages
/// one revision of a cache on one cluster. It sizes the claim, adopts or
/// replaces the observed hydration Job, reads that Job's report, judges the
/// phase from the observed claim, Job and report and the previous status entry
/// (staged latch, failure latch) against the pin, and plans the Job the cluster
/// runs, if any. The shared ModelCache (one per cluster) and the automatic
/// per-replica cache (its one cluster) both stage through it; the revisions
/// pruning keeps beyond the staged one are their parameter.
///
/// A class holding the per-compose memos: a 1,000-cluster cache digests each
/// attempt and Job name once per distinct input, not per cluster.
final class ClusterStager {
    /// Names and manifests shared by every cluster.
    let staging: CacheStaging
    /// What a permanent failure tells the user to do, in the owner's terms.
    let hints: FailureHints
    /// The pin this reconcile stages toward.
    let pin: StagingPin
    /// Attempt labels by claim size.
    private let attempts = Memo<Int64, String>()
    /// New Job names by the revision staged and the Job replaced.
    private let jobNames = Memo<JobNameInputs, String>()
    /// Intent labels by attempt.
    private let intents = Memo<String, String>()
    /// The report objects' manifests, built when the first cluster needs them.
    private(set) lazy var reportObjects = ReportObjects(staging)
    /// The cache in each other remote namespace a cluster's claim is in (hydrator.md §5), built once each.
    private var elsewhere: [String: CacheStaging] = [:]

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
        /// Whether that Job is one of the previous release, which writes no report: it needs no report objects.
        var legacyJob = false
    }

    /// A stager for `staging`'s cache, staging toward `pin`.
    init(_ staging: CacheStaging, hints: FailureHints, pin: StagingPin? = nil) {
        self.staging = staging
        self.hints = hints
        self.pin = pin ?? StagingPin(observed: nil, staging: staging, refresh: nil)
    }

    /// Stages on `cluster`: the claim wants `storageClass` and `sizeGiB`, in the function input's
    /// namespace unless `placement` says otherwise (an existing claim keeps its own, and says so);
    /// `claim`, `job` and `report` are the observed Objects (the report is read only while a Job is adopted);
    /// `previous` is the cluster's entry in the observed status; `keep` the revisions pruning
    /// keeps besides the staged one and `hydration` the cluster's own hydration settings
    /// (hydrator.md §5), both evaluated only when a Job is planned.
    // Inlined: it runs per cluster (1,000 times on the big benchmark requests).
    @inline(__always)
    func stage(
        cluster: String, storageClass: String, sizeGiB: Int64, placement: ClaimSizing.Placement? = nil,
        claim: Resource?, job: Resource?, report: @autoclosure () -> Resource?, previous: StagingEntry?,
        hydration: () -> ClusterHydration? = { nil }, keep: () -> [String]
    ) -> Stage {
        var sizing = ClaimSizing(
            cluster: cluster, claimName: staging.claimName, storageClass: storageClass, sizeGiB: sizeGiB,
            observed: claim)
        if let placement { sizing.place(placement, cluster: cluster, claimName: staging.claimName) }
        let attempt = attempts.value(sizing.sizeGiB, with: staging) { $0.attempt(sizeGiB: $1) }
        let observedJob = ObservedJob.Identity(job)
        let adopted = adopt(observedJob, attempt: attempt)
        let current = adopted?.job
        let ownReport = current.flatMap { c in
            HydrationReport(observed: report()).flatMap { $0.job == c.name ? $0 : nil }
        }
        // Judged in the claim's namespace: a message naming a Secret on the cluster names it there.
        let judged: ClusterStaging
        if let other = placement?.namespace {
            judged = staging(in: other).judge(
                cluster: cluster, claim: claim, current: adopted, report: ownReport, attempt: attempt,
                previous: previous, hints: hints, pin: pin)
        } else {
            judged = staging.judge(
                cluster: cluster, claim: claim, current: adopted, report: ownReport, attempt: attempt,
                previous: previous, hints: hints, pin: pin)
        }
        guard judged.report.phase != .ready, judged.report.phase != .failed else {
            return Stage(sizing: sizing, judged: judged, job: nil, jobObserved: current != nil)
        }
        // A volume source's check Job waits until its claim (someone else's) is seen: a pod of a
        // missing claim waits, unseen, until the Job's deadline. One not bound yet gets it (a
        // WaitForFirstConsumer class binds for the first pod).
        if adopted == nil, staging.volume != nil, ClaimSizing.phase(of: claim) == nil {
            return Stage(sizing: sizing, judged: judged, job: nil, jobObserved: false)
        }
        let hydration = hydration()
        if adopted == nil, let problem = hydration?.problem ?? staging.refusal(cluster: cluster, hydration) {
            return Stage(sizing: sizing, judged: Self.held(judged, problem), job: nil, jobObserved: false)
        }
        let kept = Self.kept(staged: judged.staged.map(staging.directory(of:)), keep(), own: pin.directory)
        let bytes = HydrationJob.claimBytes(sizeGiB: sizing.sizeGiB)
        if let adopted {
            var job = self.job(adopted: adopted, keep: kept, attempt: attempt, claimBytes: bytes, hydration: hydration)
            // Invalid settings now: the running Job goes on exactly as it was sent.
            if hydration?.problem != nil { job.sentManifest = adopted.job.sentManifest }
            return Stage(sizing: sizing, judged: judged, job: job, jobObserved: true, legacyJob: adopted.legacy)
        }
        // A Job replaces the observed one, or else the failed one latched in status (gone since), so a
        // retry is never named as the attempt that failed.
        let replacing = observedJob?.name ?? previous?.failure?.job
        let name = jobNames.value(JobNameInputs(staged: previous?.staged, replacing: replacing), with: self) {
            $0.staging.newJobName(staged: $1.staged?.string, replacing: $1.replacing?.string, pin: $0.pin.nameSeed)
        }
        return Stage(
            sizing: sizing, judged: judged,
            job: HydrationJob(
                name: name, keep: kept, generation: staging.generation, attempt: attempt, commit: pin.pin?.commit,
                epoch: pin.epoch(generation: staging.generation), claimBytes: bytes, hydration: hydration),
            jobObserved: false)
    }

    /// The cache with everything on a workload cluster in `namespace`: `staging` itself in the
    /// remote namespace (the usual case), else one built once per namespace.
    @inline(never)
    func staging(in namespace: String) -> CacheStaging {
        guard namespace != staging.remoteNamespace else { return staging }
        if let built = elsewhere[namespace] { return built }
        let built = staging.inNamespace(namespace)
        elsewhere[namespace] = built
        return built
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

    /// An observed Job the cluster keeps, and how it was recognised.
    struct Adopted {
        /// The Job.
        let job: ObservedJob
        /// The commit its labels say it stages (a pinned Job), nil before a pin.
        let commit: String?
        /// Whether it is a Job of the previous release (labelled by revision only, no intent, no report).
        let legacy: Bool
    }

    /// The observed Job when the cluster adopts it: it stages this source toward the
    /// current pin (its `cache-revision` label is the pinned directory), or is a Job of
    /// this attempt and epoch started before the pin (its intent label, pinned or not),
    /// or a running Job of the previous release writing the legacy directory; and it has
    /// not failed, or failed under the current `attempt`. nil otherwise.
    func adopt(_ observed: ObservedJob.Identity?, attempt: String) -> Adopted? {
        guard let observed else { return nil }
        let adopted: Adopted
        if let intent = observed.intent {
            if let commit = pin.pin?.commit, observed.revision == pin.directory,
                intent == self.intent(commit: commit, attempt: observed.attempt ?? attempt)
            {
                adopted = Adopted(job: ObservedJob(observed), commit: commit, legacy: false)
            } else if intent == self.intent(commit: nil, attempt: observed.attempt ?? attempt) {
                adopted = Adopted(job: ObservedJob(observed), commit: nil, legacy: false)
            } else {
                return nil
            }
        } else {
            guard observed.revision == staging.directory else { return nil }
            let job = ObservedJob(observed)
            // The previous release's Job is adopted while it runs, or to read how it ended.
            adopted = Adopted(job: job, commit: nil, legacy: true)
        }
        return adopted.job.failure == nil || adopted.job.attempt == attempt ? adopted : nil
    }

    /// The Job a cluster runs while it keeps the `adopted` one: its name and the values
    /// frozen into its template (`claimBytes` and `hydration` are the cluster's, for what the
    /// observed Job does not say); the labels it was recognised by are kept. A Job of the
    /// previous release, and one of a source other than Hugging Face, is composed again exactly
    /// as it was sent.
    private func job(
        adopted a: Adopted, keep: [String], attempt: String, claimBytes: Int64, hydration: ClusterHydration?
    ) -> HydrationJob {
        let o = a.job
        var job = HydrationJob(
            name: o.name, keep: o.keep ?? keep, generation: o.generation ?? staging.generation, attempt: attempt,
            frozenTokenEnv: o.tokenEnv, commit: a.commit,
            epoch: a.legacy ? nil : pin.epoch(generation: o.generation ?? staging.generation),
            claimBytes: o.claimBytes ?? claimBytes, hydration: hydration)
        // A Job of another source kind keeps the settings its source gave it (endpoint, region, Secret
        // names), as a Hugging Face Job keeps its token (a pod template is immutable).
        if o.isLegacy || !staging.source.isHuggingFace { job.sentManifest = o.sentManifest }
        return job
    }

    /// The intent label of a Job of this source under `attempt`, pinned at `commit` or not.
    func intent(commit: String?, attempt: String) -> String {
        guard commit == nil else { return staging.intent(commit: commit, epoch: pin.n, attempt: attempt) }
        return intents.value(attempt, with: self) { $0.staging.intent(commit: nil, epoch: $0.pin.n, attempt: $1) }
    }

    /// The directories pruning keeps besides `own`: the staged one and `extra`,
    /// sorted, each once. Without extras (the usual case) nothing is hashed or sorted.
    @inline(__always)
    static func kept(staged: String?, _ extra: [String], own: String?) -> [String] {
        guard !extra.isEmpty else { return staged.flatMap { $0 == own ? nil : [$0] } ?? [] }
        return Set(([staged].compactMap { $0 } + extra).filter { $0 != own }).sorted()
    }
}

extension CacheStaging {
    /// The Job label naming what a Job was created to do (hydrator.md §2): a digest of the
    /// source, the pinned commit (or none), the epoch's `<n>` and the attempt.
    public static let intentLabel = "modelplane.ai/cache-intent"
    /// The annotation that moves the pin on purpose when its value changes (hydrator.md §2).
    public static let refreshAnnotation = "modelplane.ai/refresh-revision"

    /// The intent label's value: 12 hex of sha256(source, commit or empty, `<n>`, attempt).
    public func intent(commit: String?, epoch: Int64, attempt: String) -> String {
        shortDigest("\(identity)\n\(commit ?? "")\n\(epoch)\n\(attempt)", length: 12)
    }

    /// The labels naming what `job` does: the intent and, when pinned, the revision directory it
    /// writes; a Job of the previous release (no epoch) keeps its revision label only.
    func jobLabels(_ job: HydrationJob) -> [(String, String)] {
        guard let epoch = job.epoch else { return [(Self.revisionLabel, directory)] }
        let n = epoch.split(separator: ".").last.flatMap { Int64($0) } ?? 0
        var labels = [(Self.intentLabel, intent(commit: job.commit, epoch: n, attempt: job.attempt))]
        if let commit = job.commit {
            labels.append((Self.revisionLabel, directory(of: ResolvedPin.identity(of: identity, at: commit))))
        }
        return labels
    }
}

/// What a cache stages toward in this reconcile (hydrator.md §2): the pin, when
/// one holds for the current source and refresh annotation, and the epoch's `<n>`.
/// A class, immutable: every cluster's judgement reads the one instance (a struct of
/// several strings was copied per cluster).
final class StagingPin: Sendable {
    /// The pin in force: the observed one while its source and refresh are current, a
    /// 40-hex revision's own, or one set from this reconcile's reports; nil before a pin.
    let pin: ResolvedPin?
    /// The epoch's `<n>` Jobs run under (and a new pin gets).
    let n: Int64
    /// The refresh annotation's value now.
    let refresh: String?
    /// Whether a staged identity of the previous release (no commit) still counts as Ready:
    /// no refresh was asked since.
    let legacyReady: Bool
    /// The pinned identity, `hf://<repo>@<commit>`.
    let target: String?
    /// The pinned identity's revision directory.
    let directory: String?
    /// What a new Job's name adds for the pin (nil before a first pin).
    let nameSeed: String?

    /// The pin for `staging`'s source given the observed `status.resolved` and the refresh annotation.
    convenience init(observed: ResolvedPin?, staging: CacheStaging, refresh: String?) {
        let source = staging.identity
        let valid = observed.flatMap { $0.source == source && $0.refresh == refresh ? $0 : nil }
        let n = valid?.epoch ?? observed.map(\.nextEpoch) ?? 0
        if let own = staging.source.selfPin, valid == nil {
            self.init(pin: ResolvedPin(source: source, commit: own, refresh: refresh, epoch: n), staging: staging)
        } else {
            self.init(pin: valid, n: n, refresh: refresh, legacyReady: observed?.refresh == refresh, staging: staging)
        }
    }

    /// The pin `pin` for `staging`'s source, set this reconcile (or a 40-hex revision's own).
    convenience init(pin: ResolvedPin, staging: CacheStaging) {
        self.init(pin: pin, n: pin.epoch, refresh: pin.refresh, legacyReady: true, staging: staging)
    }

    private init(pin: ResolvedPin?, n: Int64, refresh: String?, legacyReady: Bool, staging: CacheStaging) {
        self.pin = pin
        self.n = n
        self.refresh = refresh
        self.legacyReady = legacyReady
        self.target = pin?.identity
        self.directory = target.map(staging.directory(of:))
        self.nameSeed = pin.map { "\($0.commit)@\(n)" } ?? (n > 0 ? "@\(n)" : nil)
    }

    /// The staging epoch `<generation>.<n>`.
    func epoch(generation: Int64) -> String { "\(generation).\(n)" }

    /// Whether `staged` is what the cluster must serve: the pinned identity, or, with no
    /// refresh asked since, the source itself as the previous release staged it.
    @inline(__always)
    func isReady(_ staged: String?, source: String) -> Bool {
        guard let staged else { return false }
        return staged == target || (legacyReady && staged == source && !hasCommit(staged))
    }
}
