import Testing

@testable import FunctionCore

/// hydrator.md §4: the report a pod writes is read bounded and escaped, and what
/// the function makes of it (progress message, failure message, status size).
@Suite struct HydrationReportTests {
    static let commit = Lifecycle.commit

    /// A report's fields as JSON text, compact, keys in the given order.
    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static let base: [(String, String)] = [
        ("version", "1"), ("job", "\"j-1\""), ("phase", "\"Downloading\""),
        ("source", "\"hf://Qwen/Qwen3-8B\""), ("commit", "\"\(commit)\""), ("dir", "\"rev-0123456789ab\""),
        ("totalBytes", "100"), ("doneBytes", "40"), ("files", "4"), ("filesDone", "1"), ("verifiedFiles", "1"),
        ("bytesPerSecond", "7"), ("startedAt", "\"2026-12-06T08:00:00Z\""), ("updatedAt", "\"2026-12-06T08:00:10.5Z\""),
    ]

    static func replacing(_ key: String, _ value: String?) -> String {
        json(base.compactMap { $0.0 == key ? value.map { v in (key, v) } : $0 })
    }

    @Test("A well-formed report is read field by field")
    func wellFormed() throws {
        let r = try #require(HydrationReport(text: Self.json(Self.base)))
        #expect(r.job == "j-1" && r.phase == .downloading && r.commit == Self.commit && r.dir == "rev-0123456789ab")
        #expect(r.source == "hf://Qwen/Qwen3-8B")
        #expect((r.totalBytes, r.doneBytes, r.files, r.filesDone, r.bytesPerSecond) == (100, 40, 4, 1, 7))
        #expect(r.startedAt == "2026-12-06T08:00:00Z" && r.updatedAt == "2026-12-06T08:00:10.5Z")
        #expect(r.failure == nil && r.completedAt == nil)
        // White space between tokens is read too (only the ConfigMap's readiness query needs compact text).
        #expect(HydrationReport(text: "{ \"version\" : 1 , \"job\" : \"j\" , \"phase\" : \"Complete\" }")?.job == "j")
    }

    static let refused: [(String, String, String)] = [
        (
            "TooLarge",
            "{\"version\":1,\"job\":\"j\",\"phase\":\"Complete\",\"pad\":\"" + String(repeating: "x", count: 9000)
                + "\"}",
            "over 8 KiB"
        ),
        ("NotJSON", "phase: Complete", "not JSON"),
        ("NotAnObject", "[1,2]", "not an object"),
        ("TrailingBytes", json(base) + "x", "trailing bytes"),
        ("UnknownVersion", replacing("version", "2"), "another version"),
        ("VersionString", replacing("version", "\"1\""), "a version of the wrong type"),
        ("NoJob", replacing("job", nil), "no job name"),
        ("EmptyJob", replacing("job", "\"\""), "an empty job name"),
        ("JobNumber", replacing("job", "7"), "a job of the wrong type"),
        ("UnknownPhase", replacing("phase", "\"Exploding\""), "an unknown phase"),
        ("RawControlChar", "{\"version\":1,\"job\":\"a\u{01}b\",\"phase\":\"Complete\"}", "a raw control character"),
        ("BadEscape", "{\"version\":1,\"job\":\"a\\qb\",\"phase\":\"Complete\"}", "a bad escape"),
        ("LoneSurrogate", "{\"version\":1,\"job\":\"\\ud800\",\"phase\":\"Complete\"}", "an unpaired surrogate"),
        (
            "DeepNesting",
            "{\"version\":1,\"job\":\"j\",\"phase\":\"Complete\",\"x\":" + String(repeating: "[", count: 50)
                + String(repeating: "]", count: 50) + "}", "nesting too deep"
        ),
        ("Truncated", String(json(base).dropLast(5)), "cut short"),
        (
            "RepeatedKey", "{\"version\":1,\"job\":\"j\",\"phase\":\"Complete\",\"phase\":\"Downloading\"}",
            "a repeated key (the readiness query reads the first phase, a last-wins reader the last)"
        ),
    ]

    @Test("Hostile or foreign reports are ignored whole", arguments: refused)
    func refusedWhole(_ name: String, _ text: String, _ why: String) {
        #expect(HydrationReport(text: text) == nil, Comment(rawValue: "\(name): \(why)"))
    }

    static let bounded: [(String, String, @Sendable (HydrationReport) -> Bool, String)] = [
        ("NegativeNumbers", replacing("doneBytes", "-5"), { $0.doneBytes == 0 }, "a negative count reads as 0"),
        ("FractionalNumber", replacing("totalBytes", "1.5"), { $0.totalBytes == 0 }, "a fraction reads as 0"),
        ("HugeNumber", replacing("totalBytes", "1e300"), { $0.totalBytes == 0 }, "beyond int64 reads as 0"),
        ("NumberAsString", replacing("files", "\"4\""), { $0.files == 0 }, "a string is not a number"),
        ("ShortCommit", replacing("commit", "\"3f1c2a7\""), { $0.commit == nil }, "a commit must be 40 hex"),
        ("UppercaseCommit", replacing("commit", "\"\(commit.uppercased())\""), { $0.commit == nil }, "lowercase hex"),
        ("DirTraversal", replacing("dir", "\"../etc\""), { $0.dir == nil }, "a dir must be rev- and 12 hex"),
        ("BadTime", replacing("startedAt", "\"yesterday\""), { $0.startedAt == nil }, "a time must be RFC 3339 UTC"),
        ("OffsetTime", replacing("startedAt", "\"2026-12-06T08:00:00+01:00\""), { $0.startedAt == nil }, "UTC only"),
        (
            "ControlCharsEscaped", replacing("source", "\"hf://a\\u001b[31mb\\nc\""),
            { $0.source == "hf://a\\u{1b}[31mb\\nc" }, "control characters are escaped"
        ),
        (
            "LongJobEchoed", replacing("job", "\"" + String(repeating: "j", count: 3000) + "\""),
            { $0.job.unicodeScalars.count == echoLimit && $0.job.hasSuffix("...") }, "strings are bounded"
        ),
    ]

    @Test("Fields of the wrong shape are dropped or bounded, the rest is read", arguments: bounded)
    func boundedFields(_ name: String, _ text: String, _ check: @Sendable (HydrationReport) -> Bool, _ why: String)
        throws
    {
        let r = try #require(HydrationReport(text: text), Comment(rawValue: name))
        #expect(check(r), Comment(rawValue: "\(name): \(why)"))
    }

    @Test("A failure's code, reason and message are read, the reason bounded")
    func failure() throws {
        let text =
            Self.replacing("phase", "\"Failed\"").dropLast() + ",\"failure\":{\"code\":12,\"reason\":\""
            + String(repeating: "R", count: 500) + "\",\"message\":\"bad\\u0000hash\"}}"
        let r = try #require(HydrationReport(text: String(text)))
        #expect(r.failure?.code == 12)
        #expect(r.failure?.reason.unicodeScalars.count == HydrationReport.reasonLimit)
        #expect(r.failure?.message == "bad\\u{0}hash")
    }

    @Test("The report is read from the observed ConfigMap Object, and only from data[report.json]")
    func observed() {
        let text = Self.json(Self.base)
        #expect(HydrationReport(observed: Resource(object: Lifecycle.observedReport(text)))?.job == "j-1")
        #expect(HydrationReport(observed: Resource(object: Lifecycle.observedReport(nil))) == nil)
        #expect(HydrationReport(observed: nil) == nil)
    }

    @Test("The ConfigMap's readiness query is true only for a Complete or Failed report, written compact")
    func readinessQuery() {
        let query = ReportObjects.reportReadiness["celQuery"]?.stringValue ?? ""
        #expect(query.contains(#".matches('"phase":"(Complete|Failed)"')"#))
        // The function's own reports (and the hydrator's) are compact: the query's text match holds.
        let complete = Lifecycle.report(job: "j", source: nil, commit: Self.commit, phase: "Complete")
        #expect(complete.contains(#""phase":"Complete""#))
    }

    // MARK: - Messages

    static let progress: [(Int64, Int64, Int64, String, String)] = [
        (
            39_943_195_852, 152_471_339_008, 220_200_960, "Downloading",
            "Downloading Qwen/Qwen3-8B@3f1c2a7: 37.2 of 142.0 GiB (26 %), 210 MiB/s, about 8 min left"
        ),
        (0, 0, 0, "Downloading", "Downloading Qwen/Qwen3-8B@3f1c2a7: 0.0 of 0.0 GiB"),
        (
            1 << 30, 10 << 30, 512 << 10, "Downloading",
            "Downloading Qwen/Qwen3-8B@3f1c2a7: 1.0 of 10.0 GiB (10 %), 512 KiB/s, about 5 h 7 min left"
        ),
        (
            99 << 20, 100 << 20, 900, "Downloading",
            "Downloading Qwen/Qwen3-8B@3f1c2a7: 0.1 of 0.1 GiB (99 %), 900 B/s, about 19 min left"
        ),
        (
            (10 << 30) - 1, 10 << 30, 1 << 30, "Downloading",
            "Downloading Qwen/Qwen3-8B@3f1c2a7: 10.0 of 10.0 GiB (99 %), 1024 MiB/s, less than a minute left"
        ),
        (
            Int64.max, Int64.max, 1, "Downloading",
            "Downloading Qwen/Qwen3-8B@3f1c2a7: 8589934592.0 of 8589934592.0 GiB (100 %), 1 B/s, less than a minute left"
        ),
        (
            5, 3, 1, "Downloading",
            "Downloading Qwen/Qwen3-8B@3f1c2a7: 0.0 of 0.0 GiB (100 %), 1 B/s, less than a minute left"
        ),
        (0, 0, 0, "Resolving", "Resolving Qwen/Qwen3-8B@3f1c2a7"),
        (0, 0, 0, "Pruning", "Pruning old revisions after staging Qwen/Qwen3-8B@3f1c2a7"),
    ]

    @Test("Progress messages are formatted the same way every time, without Foundation", arguments: progress)
    func progressMessage(_ done: Int64, _ total: Int64, _ rate: Int64, _ phase: String, _ expected: String) {
        var r = HydrationReport(job: "j", phase: HydrationReport.Phase(rawValue: phase)!, commit: Self.commit)
        (r.doneBytes, r.totalBytes, r.bytesPerSecond) = (done, total, rate)
        #expect(ProgressMessage.text(r, identity: "hf://Qwen/Qwen3-8B@main") == expected)
        r.commit = nil
        #expect(ProgressMessage.text(r, identity: "hf://Qwen/Qwen3-8B") == nil, "before a commit: the plain message")
    }

    static let failures: [(String, Int64?, String, String, String)] = [
        (
            "Checksum", 12, "ChecksumMismatch", "",
            "a file did not match the hub's checksum twice: the hub or the storage is corrupting data; retry with "
                + "the `modelplane.ai/retry-hydration` annotation"
        ),
        (
            "ChecksumCodeOnly", 12, "PodFailurePolicy", "",
            "a file did not match the hub's checksum twice"
        ),
        (
            "DoesNotFit", 11, "DoesNotFit", "needs 142.0 GiB, 96.3 GiB free of 200 GiB",
            "it does not fit in claim modelcache-ml-team-qwen-2-5-b6b9a (needs 142.0 GiB, 96.3 GiB free of 200 GiB); "
                + "the model does not fit: raise spec.storage.sizeGiB"
        ),
        ("DiskFull", 11, "DiskFull", "", "claim modelcache-ml-team-qwen-2-5-b6b9a filled up while downloading"),
        ("Gated", 10, "Gated", "", "the repo is gated and the token was refused or missing"),
        ("AccessDenied", 10, "AccessDenied", "", "access was denied; check spec.artifact"),
        ("NotFound", 10, "NotFound", "", "the repo, revision or commit was not found; check spec.artifact"),
        (
            "SourceChanged", 10, "SourceChanged", "",
            "the source changed since it was pinned at its commit; set annotation modelplane.ai/refresh-revision"
        ),
        ("NotFoundCodeOnly", 10, "PodFailurePolicy", "", "the repo or revision was not found, or access was denied"),
        (
            "BadInput", 2, "BadInput", "MODELCACHE_CLAIM_BYTES missing",
            "the hydrator refused its input (MODELCACHE_CLAIM_BYTES missing)"
        ),
        ("Transient", 1, "Transient", "", "failed with exit code 1 (Transient)"),
        ("NoReportNoCode", nil, "BackoffLimitExceeded", "x", "failed: BackoffLimitExceeded: \"x\""),
    ]

    @Test(
        "A failure's message says what to do, from the report's reason, or from the exit code alone",
        arguments: failures)
    func failureMessage(_ name: String, _ code: Int64?, _ reason: String, _ message: String, _ says: String) {
        let s = Lifecycle.staging()
        let failure = StagingFailure(
            job: "j", attempt: "a", condition: JobFailure(reason: reason, message: message), code: code)
        let text = s.translate(
            failure, cluster: "gpu-east", hints: .modelCache,
            pin: StagingPin(observed: nil, staging: s, refresh: nil))
        #expect(text.contains(says), Comment(rawValue: "\(name): \(text)"))
        #expect(statusMessage(text + "; hf://x keeps serving").unicodeScalars.count <= statusMessageLimit)
    }

    @Test("A status message over 300 characters keeps what keeps serving, and is cut before it")
    func statusMessageBound() {
        let serving = "; hf://Qwen/Qwen3-8B@\(Self.commit) keeps serving"
        let long = String(repeating: "w", count: 400) + serving
        let cut = statusMessage(long)
        #expect(cut.unicodeScalars.count == statusMessageLimit)
        #expect(cut.hasSuffix("...\(serving)"))
        #expect(statusMessage(String(repeating: "x", count: 500)).unicodeScalars.count == statusMessageLimit)
        #expect(statusMessage("short") == "short")
    }
}

@Suite struct AllFailedStatusSizeTests {
    @Test("1,000 clusters all Failed with the longest report a pod may write: the status stays under 1 MiB")
    func thousandFailed() {
        let names = (0..<1000).map { "gpu-\(String(1000 + $0).dropFirst())-" + String(repeating: "c", count: 40) }
        let report = Lifecycle.report(
            job: jobName, source: Lifecycle.qwen.identity, commit: Lifecycle.commit, phase: "Failed", failure: 12,
            reason: String(repeating: "R", count: 1000), message: String(repeating: "\u{1}m", count: 2000))
        var observed: [String: Value] = [:]
        for c in names {
            observed["pvc-\(c)"] = Fixtures.claim(phase: "Bound")
            observed["hydrate-\(c)"] = Lifecycle.observedJob(firstJob, Lifecycle.failedWith(exitCode: 12))
            observed["report-\(c)"] = Lifecycle.observedReport(report)
        }
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: Fixtures.status(names.map { ($0, "Hydrating") })),
                clusters: names.map { Fixtures.cluster($0) }, observed: observed))
        let clusters = statusClusters(r)
        #expect(clusters.count == 1000 && clusters.allSatisfy { $0["phase"] == "Failed" })
        #expect(clusters.allSatisfy { ($0["message"]?.stringValue?.unicodeScalars.count ?? 0) <= statusMessageLimit })
        let bytes = r.desired.composite?.object["status"]?.canonicalJSON().utf8.count ?? 0
        #expect(bytes < 1 << 20, "status is \(bytes) bytes")
    }
}
