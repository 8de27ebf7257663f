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

/// What a staging entry carries from the hydrator's reports, boxed (a class, immutable): an
/// entry without any carries one nil pointer, cheaper to copy per cluster than five optionals.
public final class StagingDetail: Sendable, Hashable {
    /// The values.
    struct Values: Sendable, Hashable {
        var stagedAt: String?
        var stagedBytes: Int64?
        var progress: StagingProgress?
        var pin: ResolvedPin?
        var report: HydrationReport?

        var isEmpty: Bool { stagedAt == nil && stagedBytes == nil && progress == nil && pin == nil && report == nil }
    }

    /// The values.
    let values: Values

    init(_ values: Values) { self.values = values }

    /// Sets one value of `detail`, copying it (nil once nothing is left).
    static func update(_ detail: inout StagingDetail?, _ change: (inout Values) -> Void) {
        var values = detail?.values ?? Values()
        change(&values)
        detail = values.isEmpty ? nil : StagingDetail(values)
    }

    /// Whether both hold the same values.
    public static func == (a: StagingDetail, b: StagingDetail) -> Bool { a.values == b.values }

    /// Hashes the values.
    public func hash(into hasher: inout Hasher) { hasher.combine(values) }
}

/// Whether `identity` ends in `@<40 hex>`: staged from a report that named its commit.
func hasCommit(_ identity: String) -> Bool {
    let b = identity.utf8
    guard b.count > 41 else { return false }
    return b[b.index(b.endIndex, offsetBy: -41)] == UInt8(ascii: "@") && isCommit(String(identity.suffix(40)))
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
    /// What the report adds (stagedAt, stagedBytes, progress, an automatic cache's pin), boxed:
    /// nil on an entry without any, so a Ready entry stays as small to copy as before.
    var detail: StagingDetail?
    /// The pin an automatic cache staged toward (its `status.cache.resolved`); not part of a
    /// ModelCache's cluster entry (the cache's pin is `status.resolved`), so never written by `write`.
    public var resolved: ResolvedPin? {
        get { detail?.values.pin }
        set { StagingDetail.update(&detail) { $0.pin = newValue } }
    }

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
        if stagedAt != nil || stagedBytes != nil || progress != nil {
            self.detail = StagingDetail(.init(stagedAt: stagedAt, stagedBytes: stagedBytes, progress: progress))
        }
    }

    /// Reads an observed entry (`{phase, message, source, staged, stagedAt, stagedBytes, failure}`); an
    /// empty `staged` is none (and then `stagedAt` and `stagedBytes` are not read), and `failure` is
    /// read only with phase `Failed` (the only phase written with one). `progress` is never read
    /// back: it is written from the current report only.
    public init(_ entry: Value?) {
        let staged = entry?["staged"]?.stringValue.map(echo)
        let phase = entry?["phase"]?.stringValue.flatMap(CachePhase.parse)
        let hasStaged = !(staged?.isEmpty ?? true)
        // Set field by field, not through `init(phase:...)`: that copied the entry once more per cluster.
        self.phase = phase
        self.stored = entry?["message"]?.stringValue
        self.source = entry?["source"]?.stringValue.map(echo)
        self.staged = hasStaged ? staged : nil
        self.failure = phase == .failed ? StagingFailure(entry?["failure"]) : nil
        // Only an identity staged from a report (`@<40 hex>`) has these: one of the previous
        // release never did, and a Ready entry of it reads nothing more than before.
        if hasStaged, let staged, hasCommit(staged) {
            let at = entry?["stagedAt"]?.stringValue.flatMap(HydrationReport.time)
            let bytes = entry?["stagedBytes"]?.intValue.flatMap { $0 >= 0 ? $0 : nil }
            if at != nil || bytes != nil { detail = StagingDetail(.init(stagedAt: at, stagedBytes: bytes)) }
        }
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

/// A staging result that carries the report's details boxed (`StagingDetail`): the
/// entry read back from status and the judgement of this reconcile read them alike.
protocol StagingDetailCarrier {
    /// What the reports add, boxed: nil when there is nothing (the Ready path copies no more).
    var detail: StagingDetail? { get set }
}

extension StagingDetailCarrier {
    /// When `staged` completed (its report's `completedAt`), latched with it.
    var stagedAt: String? {
        get { detail?.values.stagedAt }
        set { StagingDetail.update(&detail) { $0.stagedAt = newValue } }
    }
    /// `staged`'s size in bytes (its report's `totalBytes`), latched with it.
    var stagedBytes: Int64? {
        get { detail?.values.stagedBytes }
        set { StagingDetail.update(&detail) { $0.stagedBytes = newValue } }
    }
    /// How far the running Job got, while one runs and its report says.
    var progress: StagingProgress? {
        get { detail?.values.progress }
        set { StagingDetail.update(&detail) { $0.progress = newValue } }
    }
}

extension StagingEntry: StagingDetailCarrier {}
