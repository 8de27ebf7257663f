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
    /// Its `Failed` condition, echoed.
    public let condition: JobFailure

    /// Creates a failure; the condition's strings are echoed here, once.
    public init(job: String, attempt: String, condition: JobFailure) {
        self.job = echo(job)
        self.attempt = echo(attempt)
        self.condition = JobFailure(reason: echo(condition.reason), message: echo(condition.message))
    }

    /// Whether two failures name the same Job, attempt and condition.
    public static func == (a: StagingFailure, b: StagingFailure) -> Bool {
        a.job == b.job && a.attempt == b.attempt && a.condition == b.condition
    }

    /// Hashes the Job, attempt and condition.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(job)
        hasher.combine(attempt)
        hasher.combine(condition)
    }

    /// Reads `failure` from a status entry; nil without a Job name and an attempt.
    convenience init?(_ value: Value?) {
        guard let job = value?["job"]?.stringValue, let attempt = value?["attempt"]?.stringValue,
            !job.isEmpty, !attempt.isEmpty
        else { return nil }
        self.init(
            job: job, attempt: attempt,
            condition: JobFailure(
                reason: value?["reason"]?.stringValue ?? "Failed", message: value?["message"]?.stringValue ?? ""))
    }

    /// The `failure` object as status carries it.
    var value: Value {
        [
            "attempt": .string(attempt), "job": .string(job), "message": .string(condition.message),
            "reason": .string(condition.reason),
        ]
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

    /// Creates an entry.
    public init(
        phase: CachePhase? = nil, message: String? = nil, source: String? = nil, staged: String? = nil,
        failure: StagingFailure? = nil
    ) {
        self.phase = phase
        self.stored = message
        self.source = source
        self.staged = staged
        self.failure = failure
    }

    /// Reads an observed entry (`{phase, message, source, staged, failure}`); an empty `staged` is
    /// none, and `failure` is read only with phase `Failed` (the only phase written with one).
    public init(_ entry: Value?) {
        let staged = entry?["staged"]?.stringValue.map(echo)
        let phase = entry?["phase"]?.stringValue.flatMap(CachePhase.parse)
        self.init(
            phase: phase, message: entry?["message"]?.stringValue,
            source: entry?["source"]?.stringValue.map(echo), staged: (staged?.isEmpty ?? true) ? nil : staged,
            failure: phase == .failed ? StagingFailure(entry?["failure"]) : nil)
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
        if let source { o.append(Fields.Entry(key: "source", value: .string(source))) }
        if let staged { o.append(Fields.Entry(key: "staged", value: .string(staged))) }
    }
}
