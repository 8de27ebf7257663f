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

    /// A ModelCache's hints for `source`'s kind (sources.md §1); `modelCache` for Hugging Face.
    public static func modelCache(_ source: CacheSource) -> FailureHints {
        let retry = "(then set annotation \(CacheStaging.retryAnnotation) to retry)"
        switch source {
        case .huggingFace: return modelCache
        case .s3:
            return FailureHints(
                notFound: "check spec.artifact.source.s3.uri, endpoint and region, and the credentials "
                    + "(credentialsSecretRef, read as Secret <namespace>.<name> on the workload cluster, or the "
                    + "platform's hydration.serviceAccount) \(retry)",
                diskFull: modelCache.diskFull)
        case .oci:
            return FailureHints(
                notFound: "check spec.artifact.source.oci.reference and pullSecretRef (a dockerconfigjson Secret "
                    + "read as <namespace>.<name> on the workload cluster) \(retry)",
                diskFull: modelCache.diskFull)
        case .volume:
            return FailureHints(
                notFound: "check spec.artifact.source.volume.claimName and subPath \(retry)",
                diskFull: modelCache.diskFull)
        }
    }
}

/// A cluster's phase and the revision staged there after this reconcile.
public struct ClusterStaging: Sendable, Hashable, StagingDetailCarrier {
    /// Phase and message.
    public var report: PhaseReport
    /// The newest completely staged identity; nil until the first one completes.
    public var staged: String?
    /// The failure latched for the current attempt, if the cluster is Failed by a Job.
    public var failure: StagingFailure?
    /// What the reports add, boxed (nil on a cluster without any: the Ready path copies no more than before).
    var detail: StagingDetail?
    /// The current Job's report when it carries a commit (what a pin is set from).
    public var resolved: HydrationReport? {
        get { detail?.values.report }
        set { StagingDetail.update(&detail) { $0.report = newValue } }
    }

    /// Creates a cluster's staging.
    public init(report: PhaseReport, staged: String? = nil, failure: StagingFailure? = nil) {
        self.report = report
        self.staged = staged
        self.failure = failure
    }

    /// The cluster's status entry for `source` (the report a pin is set from stays here).
    func entry(source: String) -> StagingEntry {
        var entry = StagingEntry(
            phase: report.phase, message: report.message.map(statusMessage), source: source, staged: staged,
            failure: failure)
        if let detail, detail.values.report == nil {
            entry.detail = detail
        } else if let values = detail?.values {
            entry.detail = StagingDetail(
                .init(stagedAt: values.stagedAt, stagedBytes: values.stagedBytes, progress: values.progress))
        }
        return entry
    }

    /// Appends `entry(source:)`'s fields to `o` as `StagingEntry.write` does, without building the
    /// entry (this runs once per cluster of a ModelCache's `status.clusters`), with the claim's
    /// `namespace` when it is not the function input's.
    func write(into o: inout [Fields.Entry], source: String, name: String, consumers: Int, namespace: String? = nil) {
        typealias E = Fields.Entry
        o.append(E(key: "consumers", value: .int(Int64(consumers))))
        if let failure { o.append(E(key: "failure", value: failure.value)) }
        if let message = report.message { o.append(E(key: "message", value: .string(statusMessage(message)))) }
        o.append(E(key: "name", value: .string(name)))
        if let namespace { o.append(E(key: "namespace", value: .string(namespace))) }
        o.append(E(key: "phase", value: .string(report.phase.rawValue)))
        let values = detail?.values
        if let progress = values?.progress { o.append(E(key: "progress", value: progress.value)) }
        o.append(E(key: "source", value: .string(source)))
        if let staged { o.append(E(key: "staged", value: .string(staged))) }
        if let stagedAt = values?.stagedAt { o.append(E(key: "stagedAt", value: .string(stagedAt))) }
        if let stagedBytes = values?.stagedBytes { o.append(E(key: "stagedBytes", value: .int(stagedBytes))) }
    }
}

/// The most Unicode scalars of a cluster's message in status (hydrator.md §4).
public let statusMessageLimit = 300

/// `message` as status carries it: at most `statusMessageLimit` Unicode scalars. A message
/// ending in what keeps serving (`; <identity> keeps serving`) keeps that ending whole and is
/// cut before it (`...`); any other is cut at its end. (Events carry the whole message.)
public func statusMessage(_ message: String) -> String {
    guard message.utf8.count > statusMessageLimit, message.unicodeScalars.count > statusMessageLimit else {
        return message
    }
    guard message.hasSuffix(" keeps serving"), let cut = message.ranges(of: "; ").last,
        message[cut.lowerBound...].unicodeScalars.count < statusMessageLimit / 2
    else { return bounded(message, statusMessageLimit) }
    let tail = message[cut.lowerBound...]
    let head = bounded(String(message[..<cut.lowerBound]), statusMessageLimit - tail.unicodeScalars.count)
    return head + tail
}

extension CacheStaging {
    /// The phase machine of lifecycle.md §2 and §7 and hydrator.md §2 and §4 for one cluster.
    ///
    /// `staged` advances only from the current Job's `Complete` report naming a commit
    /// (`report`, already matched to `current`'s name), to `hf://<repo>@<commit>`; a Job of
    /// the previous release, which writes no report, advances it to the source when it
    /// completes. Otherwise `staged` keeps what the previous status said (the latch survives
    /// the Job's cleanup), unless an observed Job of the current `attempt` still writes that
    /// same revision (rule 6: evidence over belief). The cluster is Ready when `staged` is
    /// what `pin` says it must serve. A failure latches (rule 5).
    func judge(
        cluster: String, claim: Resource?, current adopted: ClusterStager.Adopted?, report: HydrationReport?,
        attempt: String, previous: StagingEntry?, hints: FailureHints, pin: StagingPin
    ) -> ClusterStaging {
        let current = adopted?.job
        var out = ClusterStaging(report: PhaseReport(.pending))
        let contrary = current.map { job in
            !job.complete && job.attempt == attempt
                && previous?.staged.map { $0 == identity || $0 == pin.target }
                    == true
                && job.revision == previous?.staged.map(directory(of:))
        }
        if contrary != true, let previous {
            // The latches, with what the previous entry's box holds of them (never its progress).
            out.staged = previous.staged
            if let d = previous.detail, d.values.progress == nil && d.values.pin == nil {
                out.detail = d
            } else if let d = previous.detail, d.values.stagedAt != nil || d.values.stagedBytes != nil {
                out.detail = StagingDetail(.init(stagedAt: d.values.stagedAt, stagedBytes: d.values.stagedBytes))
            }
        }
        // Read through `report?`, not bound with `if let`: binding copied the whole report per cluster.
        if let phase = report?.phase {
            // Only with a Job in flight: the Ready path never gets here. A commit of another kind's shape is none.
            let commit = report?.commit.flatMap { SourcePin.isPin($0, of: identity) ? $0 : nil }
            if phase == .complete, let commit {
                out.staged = ResolvedPin.identity(of: identity, at: commit)
                (out.stagedAt, out.stagedBytes) = (report?.completedAt, report?.totalBytes)
            }
            if commit != nil, report?.source == nil || report?.source == identity { out.resolved = report }
        } else if adopted?.legacy == true, current?.complete == true {
            (out.staged, out.detail) = (identity, nil)
        }
        let ready = pin.isReady(out.staged, source: identity)
        let serving = ready ? nil : out.staged.map { "\($0) keeps serving" }
        let claimPhase = ClaimSizing.phase(of: claim)

        if let failure = failure(adopted, report: report, attempt: attempt, previous: previous) {
            let why = translate(failure, cluster: cluster, hints: hints, pin: pin)
            out.report = PhaseReport(.failed, joined(why, serving))
            out.failure = failure
            return out
        }
        if ready && (claimPhase == nil || claimPhase == "Bound") {
            out.report = PhaseReport(.ready)
            return out
        }
        guard claimPhase == "Bound" else {
            let waiting =
                claimPhase.map { "Waiting for claim \(claimName) to bind (phase \($0))" }
                ?? (volume == nil
                    ? "Waiting for claim \(claimName) to be created"
                    : "Waiting for claim \(claimName) in namespace \(remoteNamespace): a volume source's claim is "
                        + "created and filled by someone else, never by this function")
            out.report = PhaseReport(.pending, joined(waiting, serving))
            return out
        }
        var progress: StagingProgress?
        let doing = running(current, report: report, cluster: cluster, progress: &progress)
        if let progress { out.progress = progress }  // the boxed detail is touched only with a report
        out.report = PhaseReport(
            serving == nil ? .hydrating : .updating, joined(doing, serving))
        return out
    }

    /// `text`, then `; ` and `serving` when something keeps serving (no array is built per cluster).
    private func joined(_ text: String, _ serving: String?) -> String {
        serving.map { text + "; " + $0 } ?? text
    }

    /// What the running Job does, in words: its report's progress, or waiting for the report
    /// of a Job Kubernetes says is complete, or `downloading` before the first report.
    private func running(
        _ current: ObservedJob?, report: HydrationReport?, cluster: String, progress: inout StagingProgress?
    ) -> String {
        if let current, current.complete {
            // Kubernetes says Complete; only the hydrator's Complete report makes the cluster Ready.
            return "Job \(current.name) on \(cluster) completed; waiting for the hydrator's report"
        }
        guard let report, report.phase != .complete, report.phase != .failed else { return downloading }
        progress = StagingProgress(report)
        return ProgressMessage.text(report, identity: identity) ?? downloading
    }

    /// The failure of this source's current attempt: the adopted Job's (with its report's reason
    /// when the report says Failed), or the one latched in the previous status while no Job of
    /// this attempt runs.
    private func failure(
        _ adopted: ClusterStager.Adopted?, report: HydrationReport?, attempt: String, previous: StagingEntry?
    ) -> StagingFailure? {
        if let current = adopted?.job {
            guard let failed = current.failure else { return nil }
            if let report, report.phase == .failed, let f = report.failure {
                return StagingFailure(
                    job: current.name, attempt: current.attempt ?? attempt,
                    condition: JobFailure(reason: f.reason, message: f.message), code: f.code)
            }
            return StagingFailure(job: current.name, attempt: current.attempt ?? attempt, condition: failed)
        }
        guard previous?.source == identity, let latched = previous?.failure, latched.attempt == attempt else {
            return nil
        }
        return latched
    }

    /// A failure in words that say what to do (lifecycle.md §6, hydrator.md §4): from the
    /// report's reason when one arrived, from the exit code alone otherwise; at most
    /// `statusMessageLimit` characters once the strings it quotes are cut.
    func translate(_ failure: StagingFailure, cluster: String, hints: FailureHints, pin: StagingPin) -> String {
        if let volume, let why = volumeFailure(failure, volume, cluster: cluster) { return why }
        let cannot = "Cannot stage \(identity) on \(cluster): "
        let detail = failure.condition.message.isEmpty ? "" : " (\(bounded(failure.condition.message, 120)))"
        if let words = sourceWords(failure.condition.reason, detail: detail, hints: hints) { return cannot + words }
        switch (failure.code, failure.condition.reason) {
        case (_, "Gated"):
            return cannot + "the repo is gated and the token was refused or missing; \(hints.notFound)"
        case (_, "AccessDenied"):
            return cannot + "access was denied; \(hints.notFound)"
        case (_, "NotFound"):
            return cannot + "the repo, revision or commit was not found; \(hints.notFound)"
        case (_, "SourceChanged"):
            return cannot + "the source changed since it was pinned at \(pin.pin?.commit ?? "its commit"); set "
                + "annotation \(Self.refreshAnnotation) to a new value to pin the new commit"
        case (_, "DoesNotFit"):
            return cannot + "it does not fit in claim \(claimName)\(detail); \(hints.diskFull)"
        case (_, "DiskFull"):
            return cannot + "claim \(claimName) filled up while downloading; \(hints.diskFull)"
        case (_, "ChecksumMismatch"), (HydrationProgram.checksumExitCode?, _):
            return cannot + "a file did not match the hub's checksum twice: the hub or the storage is corrupting "
                + "data; retry with the `\(Self.retryAnnotation)` annotation"
        case (HydrationProgram.notFoundExitCode?, _):
            return cannot + "the repo or revision was not found, or access was denied; \(hints.notFound)"
        case (HydrationProgram.diskFullExitCode?, _):
            return cannot + "claim \(claimName) is full; \(hints.diskFull)"
        case (HydrationProgram.badInputExitCode?, _):
            return cannot + "the hydrator refused its input\(detail); set annotation \(Self.retryAnnotation) to a "
                + "new value to retry"
        case (let code?, let reason) where Self.reportReasons.contains(reason):
            // A reason the hydrator reported, without its own words above (Transient, UnsafePath, ...).
            return "Hydration Job \(failure.job) on \(cluster) failed with exit code \(code) (\(reason))\(detail); set "
                + "annotation \(Self.retryAnnotation) to a new value to retry"
        default:
            let shown = failure.condition.message.isEmpty ? "" : ": \(quote(bounded(failure.condition.message, 120)))"
            return "Hydration Job \(failure.job) on \(cluster) failed: \(bounded(failure.condition.reason, 64))"
                + "\(shown); set annotation \(Self.retryAnnotation) to a new value to retry"
        }
    }
}

extension CacheStaging {
    /// The failure reasons a hydrator report may carry (hydrator.md §4).
    static let reportReasons: Set<String> = [
        "NotFound", "AccessDenied", "Gated", "SourceChanged", "NotAnArtifact", "DoesNotFit", "DiskFull",
        "ChecksumMismatch", "UnsafePath", "Transient", "BadInput",
    ]
}

/// The progress message of a running Job (hydrator.md §4), formatted without Foundation,
/// the same bytes for the same report: "Downloading Qwen/Qwen3-8B@3f1c2a7: 37.2 of 142.0 GiB
/// (26 %), 210 MiB/s, about 8 min left".
enum ProgressMessage {
    /// The message for `report` of a Job staging `identity`; nil before it has a commit.
    static func text(_ report: HydrationReport, identity: String) -> String? {
        guard let commit = report.commit else { return nil }
        let what = SourcePin.short(identity, at: commit)
        switch report.phase {
        case .resolving: return "Resolving \(what)"
        case .verifying: return "Verifying \(what): \(report.filesDone) of \(report.files) files"
        case .pruning: return "Pruning old revisions after staging \(what)"
        default: break
        }
        let done = min(report.doneBytes, report.totalBytes)
        var text = "Downloading \(what): \(gib(done)) of \(gib(report.totalBytes)) GiB"
        if report.totalBytes > 0 { text += " (\(percent(done, of: report.totalBytes)) %)" }
        if report.bytesPerSecond > 0 {
            text += ", \(rate(report.bytesPerSecond)), \(timeLeft((report.totalBytes - done) / report.bytesPerSecond))"
        }
        return text
    }

    /// Bytes in GiB with one decimal, rounded to nearest: `37.2`.
    static func gib(_ bytes: Int64) -> String {
        let tenths = (UInt64(max(0, bytes)) >> 10 &* 10 &+ (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Whole percent, rounded down.
    static func percent(_ done: Int64, of total: Int64) -> Int64 {
        guard total > 0 else { return 0 }
        let (product, overflow) = done.multipliedReportingOverflow(by: 100)
        return overflow ? done / (total / 100) : product / total
    }

    /// A rate: `210 MiB/s`, or `512 KiB/s` under 1 MiB/s, or `900 B/s`.
    static func rate(_ bytesPerSecond: Int64) -> String {
        if bytesPerSecond >= 1 << 20 { return "\(bytesPerSecond >> 20) MiB/s" }
        if bytesPerSecond >= 1 << 10 { return "\(bytesPerSecond >> 10) KiB/s" }
        return "\(bytesPerSecond) B/s"
    }

    /// Time left: `less than a minute left`, `about 8 min left`, `about 3 h 20 min left`.
    static func timeLeft(_ seconds: Int64) -> String {
        if seconds < 60 { return "less than a minute left" }
        let minutes = seconds / 60
        if minutes < 120 { return "about \(minutes) min left" }
        return "about \(minutes / 60) h \(minutes % 60) min left"
    }
}
