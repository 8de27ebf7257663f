/// A hydration Job's failure as the cluster latches it (`status.clusters[].failure`,
/// lifecycle.md §7 rule 5): which Job, under which attempt, and its `Failed`
/// condition, echoed (rule 8). The phase stays `Failed` while this attempt
/// is current, and the Job is not created again.
///
/// A class, immutable: an entry without a failure (the usual case) then carries
/// one nil pointer, cheaper to copy per cluster than five optional strings.
public final class StagingFailure: Sendable, Hashable {
    /// The failed Job's name.
    public let job: String
    /// The attempt it ran under (`CacheStaging.attempt(sizeGiB:)`).
    public let attempt: String
    /// Why it failed: the hydrator report's failure reason and message, or, when no report
    /// arrived, the Job's `Failed` condition; echoed, the message bounded to `messageLimit`.
    public let condition: JobFailure
    /// The hydrator's exit code: its report's, or the one the Job's condition names; nil when neither says.
    public let code: Int64?

    /// The most Unicode scalars of a failure message kept in status (1,000 failed clusters stay well under 1 MiB).
    public static let messageLimit = 300

    /// Creates a failure; the condition's strings are echoed and bounded here, once.
    public init(job: String, attempt: String, condition: JobFailure, code: Int64? = nil) {
        self.job = echo(job)
        self.attempt = echo(attempt)
        self.condition = JobFailure(
            reason: echo(condition.reason), message: bounded(echo(condition.message), Self.messageLimit))
        self.code = code ?? condition.exitCode
    }

    /// Whether two failures name the same Job, attempt, condition and code.
    public static func == (a: StagingFailure, b: StagingFailure) -> Bool {
        a.job == b.job && a.attempt == b.attempt && a.condition == b.condition && a.code == b.code
    }

    /// Hashes the Job, attempt, condition and code.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(job)
        hasher.combine(attempt)
        hasher.combine(condition)
        hasher.combine(code)
    }

    /// Reads `failure` from a status entry; nil without a Job name and an attempt.
    convenience init?(_ value: Value?) {
        guard let job = value?["job"]?.stringValue, let attempt = value?["attempt"]?.stringValue,
            !job.isEmpty, !attempt.isEmpty
        else { return nil }
        let code = value?["code"]?.intValue
        self.init(
            job: job, attempt: attempt,
            condition: JobFailure(
                reason: value?["reason"]?.stringValue ?? "Failed", message: value?["message"]?.stringValue ?? ""),
            code: code.flatMap { $0 >= 0 ? $0 : nil })
    }

    /// The `failure` object as status carries it.
    var value: Value {
        var o: [Fields.Entry] = [Fields.Entry(key: "attempt", value: .string(attempt))]
        if let code { o.append(Fields.Entry(key: "code", value: .int(code))) }
        o.append(Fields.Entry(key: "job", value: .string(job)))
        o.append(Fields.Entry(key: "message", value: .string(condition.message)))
        o.append(Fields.Entry(key: "reason", value: .string(condition.reason)))
        return .object(Fields(ordered: o))
    }
}

/// How far a running hydration Job got, from its report (`status.clusters[].progress`).
public struct StagingProgress: Sendable, Hashable {
    /// Bytes staged so far.
    public var doneBytes: Int64
    /// Bytes of the revision in all.
    public var totalBytes: Int64
    /// Files staged so far.
    public var filesDone: Int64
    /// Files of the revision in all.
    public var files: Int64
    /// The recent download rate.
    public var bytesPerSecond: Int64

    /// The progress a report gives (its numbers are non-negative already).
    public init(_ report: HydrationReport) {
        self.doneBytes = report.doneBytes
        self.totalBytes = report.totalBytes
        self.filesDone = report.filesDone
        self.files = report.files
        self.bytesPerSecond = report.bytesPerSecond
    }

    /// Bytes still to download.
    public var remainingBytes: Int64 { max(0, totalBytes - doneBytes) }

    /// The `progress` object as status carries it, keys in order.
    var value: Value {
        typealias E = Fields.Entry
        return .object(
            Fields(ordered: [
                E(key: "bytesPerSecond", value: .int(bytesPerSecond)), E(key: "doneBytes", value: .int(doneBytes)),
                E(key: "files", value: .int(files)), E(key: "filesDone", value: .int(filesDone)),
                E(key: "totalBytes", value: .int(totalBytes)),
            ]))
    }
}

/// The one `status.clusters[]` entry of a cache on one cluster (lifecycle.md §2):
/// what the staging lifecycle says after a reconcile and reads back at the next.
/// A ModelCache writes one per cluster (with `name` and `consumers`); an
/// automatic cache writes its own into the replica's `status.cache`. Every
/// string read back goes through `echo(_:)` (lifecycle.md §7 rule 8).
public struct StagingEntry: Sendable, Hashable {
    /// The phase; nil when absent or not a phase this function writes.
    public var phase: CachePhase?
    /// Why the cache is in this phase (echoed when read back: `stored` is kept as it came,
    /// and echoed only if someone reads it, since most reconciles never do).
    public var message: String? {
        get { stored.map(echo) }
        set { stored = newValue }
    }
    private var stored: String?
    /// The identity the phase refers to (what the spec asked for).
    public var source: String?
    /// The newest completely staged identity (the Ready latch).
    public var staged: String?
    /// The latched failure of the source's current attempt.
    public var failure: StagingFailure?
    /// When `staged` completed (its report's `completedAt`), latched with it.
    public var stagedAt: String?
    /// `staged`'s size in bytes (its report's `totalBytes`), latched with it.
    public var stagedBytes: Int64?
    /// How far the running Job got, while one runs and its report says.
    public var progress: StagingProgress?
    /// The pin an automatic cache staged toward (its `status.cache.resolved`); not part of a
    /// ModelCache's cluster entry (the cache's pin is `status.resolved`), so never written by `write`.
    public var resolved: ResolvedPin?

    /// Creates an entry.
    public init(
        phase: CachePhase? = nil, message: String? = nil, source: String? = nil, staged: String? = nil,
        failure: StagingFailure? = nil, stagedAt: String? = nil, stagedBytes: Int64? = nil,
        progress: StagingProgress? = nil
    ) {
        self.phase = phase
        self.stored = message
        self.source = source
        self.staged = staged
        self.failure = failure
        self.stagedAt = stagedAt
        self.stagedBytes = stagedBytes
        self.progress = progress
    }

    /// Reads an observed entry (`{phase, message, source, staged, stagedAt, stagedBytes, failure}`); an
    /// empty `staged` is none (and then `stagedAt` and `stagedBytes` are not read), and `failure` is
    /// read only with phase `Failed` (the only phase written with one). `progress` is never read
    /// back: it is written from the current report only.
    public init(_ entry: Value?) {
        let staged = entry?["staged"]?.stringValue.map(echo)
        let phase = entry?["phase"]?.stringValue.flatMap(CachePhase.parse)
        let hasStaged = !(staged?.isEmpty ?? true)
        self.init(
            phase: phase, message: entry?["message"]?.stringValue,
            source: entry?["source"]?.stringValue.map(echo), staged: hasStaged ? staged : nil,
            failure: phase == .failed ? StagingFailure(entry?["failure"]) : nil)
        if hasStaged, let at = entry?["stagedAt"]?.stringValue { stagedAt = HydrationReport.time(at) }
        if hasStaged, let bytes = entry?["stagedBytes"]?.intValue, bytes >= 0 { stagedBytes = bytes }
    }

    /// Appends the entry's fields, in key order, to `o` (an entry this reconcile judged: its
    /// message is the function's own, written as it is), with `consumers` first and
    /// `name` in its place when given (a ModelCache's `status.clusters[]` entry).
    func write(into o: inout [Fields.Entry], name: String? = nil, consumers: Int? = nil) {
        if let consumers { o.append(Fields.Entry(key: "consumers", value: .int(Int64(consumers)))) }
        if let failure { o.append(Fields.Entry(key: "failure", value: failure.value)) }
        if let stored { o.append(Fields.Entry(key: "message", value: .string(stored))) }
        if let name { o.append(Fields.Entry(key: "name", value: .string(name))) }
        if let phase { o.append(Fields.Entry(key: "phase", value: .string(phase.rawValue))) }
        if let progress { o.append(Fields.Entry(key: "progress", value: progress.value)) }
        if let source { o.append(Fields.Entry(key: "source", value: .string(source))) }
        if let staged { o.append(Fields.Entry(key: "staged", value: .string(staged))) }
        if let stagedAt { o.append(Fields.Entry(key: "stagedAt", value: .string(stagedAt))) }
        if let stagedBytes { o.append(Fields.Entry(key: "stagedBytes", value: .int(stagedBytes))) }
    }
}
