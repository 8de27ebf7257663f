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
        var xr = Fixtures.modelCache(status: Lifecycle.status([("gpu-east", "Ready", Lifecycle.qwen.identity)]))
        if let retry { xr["metadata"]?["annotations"] = [CacheStaging.retryAnnotation: .string(retry)] }
        let r = Composer().run(
            Fixtures.request(
                xr, clusters: [Fixtures.cluster("gpu-east")],
                observed: [
                    "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                    "hydrate-gpu-east": Lifecycle.observedJob(Lifecycle.firstJob(), job),
                ]))
        let entry = r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first
        #expect(entry?["phase"] == .string(phase), Comment(rawValue: why))
        #expect((entry?["staged"] == .string(Lifecycle.qwen.identity)) == trusted, Comment(rawValue: why))
    }
}
