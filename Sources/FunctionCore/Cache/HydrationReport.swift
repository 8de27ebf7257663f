/// The hydrator's report (hydrator.md §4) as the function reads it from the
/// observed report ConfigMap: `status.atProvider.manifest.data["report.json"]`.
///
/// A report is written by a pod, not by us: anything over `maxBytes` is
/// ignored, as is a version other than 1; every string is echoed and bounded,
/// a commit or directory of the wrong shape is dropped, a time not in RFC 3339
/// UTC form is dropped, and a negative or non-integer number reads as 0.
/// Read only for a cluster with a Job in flight, never on the Ready path.
public struct HydrationReport: Sendable, Hashable {
    /// What the hydrator is doing.
    public enum Phase: String, Sendable, Hashable {
        /// Resolving the source to a commit.
        case resolving = "Resolving"
        /// Fetching bytes.
        case downloading = "Downloading"
        /// Hashing files (only when hashing does not run while bytes arrive).
        case verifying = "Verifying"
        /// Removing revisions nothing keeps.
        case pruning = "Pruning"
        /// Staged.
        case complete = "Complete"
        /// Failed (`failure` says why).
        case failed = "Failed"
    }

    /// A failed run: exit code, reason and message.
    public struct Failure: Sendable, Hashable {
        /// The exit code.
        public var code: Int64
        /// One of the reasons of hydrator.md §4 (echoed; an unknown one is kept as written).
        public var reason: String
        /// What went wrong, in the hydrator's words (echoed).
        public var message: String
    }

    /// The most bytes of a report read; a longer one is ignored.
    public static let maxBytes = 8192
    /// The most Unicode scalars of a reason kept.
    static let reasonLimit = 64

    /// The Job that wrote it (`MODELCACHE_JOB`).
    public var job: String
    /// `MODELCACHE_SOURCE` verbatim, if given.
    public var source: String?
    /// The resolved pin once known: a 40-hex commit, or another kind's pin (`SourcePin.isAnyPin`).
    public var commit: String?
    /// The revision directory, once known (`rev-` and 12 hex).
    public var dir: String?
    /// The phase.
    public var phase: Phase
    /// Bytes of the revision in all.
    public var totalBytes: Int64 = 0
    /// Bytes staged so far.
    public var doneBytes: Int64 = 0
    /// Files of the revision in all.
    public var files: Int64 = 0
    /// Files staged so far.
    public var filesDone: Int64 = 0
    /// Files verified so far.
    public var verifiedFiles: Int64 = 0
    /// The recent download rate.
    public var bytesPerSecond: Int64 = 0
    /// When the run started (RFC 3339).
    public var startedAt: String?
    /// When the report was written (RFC 3339).
    public var updatedAt: String?
    /// When the run completed (RFC 3339), for `Complete` and `Failed`.
    public var completedAt: String?
    /// Why the run failed, for `Failed`.
    public var failure: Failure?
    /// What could not be verified (sources.md §1): at most `warningLimit` entries of at most
    /// `warningLength` Unicode scalars, echoed.
    public var warnings: [String] = []

    /// The most warnings read.
    public static let warningLimit = 10
    /// The most Unicode scalars of a warning kept.
    public static let warningLength = 200

    /// Creates a report (tests).
    public init(job: String, phase: Phase, commit: String? = nil) {
        self.job = job
        self.phase = phase
        self.commit = commit
    }

    /// Reads the report from the observed report ConfigMap Object; nil when there is none (or none readable).
    public init?(observed: Resource?) {
        guard let text = ProviderObject.remote(observed)?[path: "data", HydrationProgram.reportKey]?.stringValue
        else { return nil }
        self.init(text: text)
    }

    /// Parses `text`; nil when it is over `maxBytes`, not a JSON object, of another version,
    /// or lacks a job name or a known phase.
    public init?(text: String) {
        guard text.utf8.count <= Self.maxBytes, let o = JSONReader.parse(text), o.objectValue != nil,
            o["version"]?.intValue == 1, let job = o["job"]?.stringValue, !job.isEmpty,
            let phase = o["phase"]?.stringValue.flatMap(Phase.init(rawValue:))
        else { return nil }
        self.init(
            job: echo(job), phase: phase, commit: o["commit"]?.stringValue.flatMap { SourcePin.isAnyPin($0) ? $0 : nil }
        )
        source = o["source"]?.stringValue.map(echo)
        dir = o["dir"]?.stringValue.flatMap { isRevisionDirectory($0) ? $0 : nil }
        func count(_ key: String) -> Int64 { max(0, o[key]?.intValue ?? 0) }
        (totalBytes, doneBytes, files) = (count("totalBytes"), count("doneBytes"), count("files"))
        (filesDone, verifiedFiles, bytesPerSecond) = (
            count("filesDone"), count("verifiedFiles"), count("bytesPerSecond")
        )
        startedAt = o["startedAt"]?.stringValue.flatMap(Self.time)
        updatedAt = o["updatedAt"]?.stringValue.flatMap(Self.time)
        completedAt = o["completedAt"]?.stringValue.flatMap(Self.time)
        if let f = o["failure"], f.objectValue != nil {
            failure = Failure(
                code: max(0, f["code"]?.intValue ?? 0),
                reason: bounded(echo(f["reason"]?.stringValue ?? ""), Self.reasonLimit),
                message: echo(f["message"]?.stringValue ?? ""))
        }
        if let list = o["warnings"]?.listValue {
            warnings = list.prefix(Self.warningLimit).compactMap {
                $0.stringValue.map { bounded(echo($0), Self.warningLength) }
            }
        }
    }

    /// `text` when it is an RFC 3339 UTC time as the hydrator writes it
    /// (`YYYY-MM-DDTHH:MM:SS`, an optional fraction, `Z`), nil otherwise: it goes into a
    /// `date-time` status field, which the API server validates.
    static func time(_ text: String) -> String? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 35, b.last == UInt8(ascii: "Z") else { return nil }
        let digit = { (i: Int) in b[i] >= UInt8(ascii: "0") && b[i] <= UInt8(ascii: "9") }
        let shape: [UInt8?] = Array("dddd-dd-ddTdd:dd:dd".utf8).map { $0 == UInt8(ascii: "d") ? nil : $0 }
        for (i, expected) in shape.enumerated() {
            if let expected { guard b[i] == expected else { return nil } } else { guard digit(i) else { return nil } }
        }
        let rest = b[19..<(b.count - 1)]
        guard
            rest.isEmpty || (rest.first == UInt8(ascii: ".") && rest.count > 1 && (20..<b.count - 1).allSatisfy(digit))
        else { return nil }
        // The API server validates the date too: month, day, hour, minute and second in range.
        let number = { (i: Int) in Int(b[i] - UInt8(ascii: "0")) * 10 + Int(b[i + 1] - UInt8(ascii: "0")) }
        guard (1...12).contains(number(5)), (1...31).contains(number(8)), number(11) <= 23, number(14) <= 59,
            number(17) <= 60
        else { return nil }
        return text
    }
}

/// `s` cut to at most `limit` Unicode scalars, `...` marking the cut.
func bounded(_ s: String, _ limit: Int) -> String {
    let scalars = s.unicodeScalars
    guard s.utf8.count > limit, scalars.count > limit else { return s }
    var shown = String.UnicodeScalarView()
    shown.append(contentsOf: scalars.prefix(limit - 3))
    shown.append(contentsOf: "...".unicodeScalars)
    return String(shown)
}
