import Testing

@testable import FunctionCore

/// lifecycle.md §7 rule 6: `staged` read back from status is not trusted against
/// an observed Job of the current attempt writing that same revision that still
/// runs or has failed; a failed Job of an earlier attempt (superseded by a retry)
/// is not evidence.
@Suite struct EvidenceOverBeliefTests {
    static let cases: [(String, JobCondition?, String?, String, Bool, String)] = [
        (
            "RunningJobOfThisAttempt", nil, nil, "Hydrating", false,
            "A running Job writing the revision contradicts staged."
        ),
        (
            "FailedJobOfThisAttempt", Lifecycle.failedWith(exitCode: 10), nil, "Failed", false,
            "A failed Job writing the revision contradicts staged."
        ),
        (
            "FailedJobOfAnEarlierAttempt", Lifecycle.failedWith(exitCode: 10), "1", "Ready", true,
            "A failed Job a retry superseded is not evidence."
        ),
        ("CompleteJob", ("Complete", "Completed", "done"), nil, "Ready", true, "A complete Job confirms staged."),
    ]
    typealias JobCondition = (type: String, reason: String, message: String)

    @Test("Staged read back against the observed Job", arguments: cases)
    func judge(
        _ name: String, _ job: JobCondition?, _ retry: String?, _ phase: String, _ trusted: Bool, _ why: String
    ) {
        // A staged identity of the previous release, and the previous release's Job writing it.
        var xr = Fixtures.modelCache(status: Lifecycle.status([("gpu-east", "Ready", Lifecycle.qwen.identity)]))
        if let retry { xr["metadata"]?["annotations"] = [CacheStaging.retryAnnotation: .string(retry)] }
        let r = Composer().run(
            Fixtures.request(
                xr, clusters: [Fixtures.cluster("gpu-east")],
                observed: [
                    "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                    "hydrate-gpu-east": Lifecycle.observedJob(Lifecycle.legacyJob(), job),
                ]))
        let entry = r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first
        #expect(entry?["phase"] == .string(phase), Comment(rawValue: why))
        #expect((entry?["staged"] == .string(Lifecycle.qwen.identity)) == trusted, Comment(rawValue: why))
    }

    @Test("Staged read back against the observed Job, pinned: a Job writing the pinned revision", arguments: cases)
    func judgePinned(
        _ name: String, _ job: JobCondition?, _ retry: String?, _ phase: String, _ trusted: Bool, _ why: String
    ) {
        var status = Lifecycle.status([("gpu-east", "Ready", Lifecycle.pinned())])
        status["resolved"] = ResolvedPin(source: Lifecycle.qwen.identity, commit: Lifecycle.commit).value
        var xr = Fixtures.modelCache(status: status)
        if let retry { xr["metadata"]?["annotations"] = [CacheStaging.retryAnnotation: .string(retry)] }
        let s = Lifecycle.staging()
        var pinnedJob = s.newJob(
            named: s.newJobName(staged: nil, replacing: nil, pin: "\(Lifecycle.commit)@0"), keep: [],
            attempt: s.attempt(sizeGiB: 300))
        (pinnedJob.commit, pinnedJob.epoch) = (Lifecycle.commit, "0.0")
        var observed: [String: Value] = [
            "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
            "hydrate-gpu-east": Lifecycle.observedJob(s.jobManifest(pinnedJob), job),
        ]
        if job?.type == "Complete" { observed["report-gpu-east"] = Lifecycle.completeReport(s.jobManifest(pinnedJob)) }
        let r = Composer().run(Fixtures.request(xr, clusters: [Fixtures.cluster("gpu-east")], observed: observed))
        let entry = r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first
        #expect(entry?["phase"] == .string(phase), Comment(rawValue: why))
        #expect((entry?["staged"] == .string(Lifecycle.pinned())) == trusted, Comment(rawValue: why))
    }
}
