import Testing

@testable import FunctionCore

/// lifecycle.md §7 rule 5: after a Job fails for good (a FailJob exit code at
/// once, or any failure once its backoff is exhausted) the cluster latches
/// `Failed` with the attempt in `failure`, the Job leaves desired state and is
/// not created again when Kubernetes' TTL removes it; only a change (source,
/// retry annotation, a larger size) starts a new Job. The same for a ModelCache
/// and an automatic cache: both stage through `ClusterStager`.
@Suite struct FailureStaysFailedTests {
    typealias JobCondition = (type: String, reason: String, message: String)

    /// The failure reason status latches: the report's for a permanent exit code (the hydrator
    /// reported it), the Job condition's when no report arrived (hydrator.md §4).
    static func latchedReason(_ failure: JobCondition) -> String {
        switch JobFailure(reason: failure.reason, message: failure.message).exitCode {
        case 10?: return "NotFound"
        case 11?: return "DoesNotFit"
        default: return failure.reason
        }
    }

    static let failures: [(String, JobCondition, String)] = [
        ("Exit10", Lifecycle.failedWith(exitCode: 10), "Not found or denied fails at once."),
        ("Exit11", Lifecycle.failedWith(exitCode: 11), "A full claim fails at once."),
        (
            "BackoffExhausted", ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
            "Any other failure is final once the backoff is exhausted."
        ),
    ]

    @Test("ModelCache: the failure latches, the Job leaves desired state and is not created again", arguments: failures)
    func modelCache(_ name: String, _ failure: JobCondition, _ why: String) {
        var w = CacheWorld(clusters: [Fixtures.cluster("gpu-east")])
        w.reconcile()
        let job = w.jobName("gpu-east")
        w.finish("gpu-east", failure)
        let failed = w.reconcile()
        #expect(w.entry("gpu-east")?["phase"] == "Failed", Comment(rawValue: why))
        #expect(w.entry("gpu-east")?[path: "failure", "job"] == job.map(Value.string), Comment(rawValue: why))
        #expect(w.entry("gpu-east")?[path: "failure", "reason"] == .string(Self.latchedReason(failure)))
        #expect(failed.desired.resources["hydrate-gpu-east"] == nil, "the failed Job leaves desired state")
        #expect(failed.results.filter { $0.severity == .warning }.count == 1)
        // Kubernetes' TTL has removed the Job: nothing observed, nothing created, nothing said again.
        let message = w.entry("gpu-east")?["message"]
        for _ in 0..<3 {
            let later = w.reconcile()
            #expect(later.desired.resources["hydrate-gpu-east"] == nil, Comment(rawValue: why))
            #expect(later.results.isEmpty)
            #expect(w.entry("gpu-east")?["phase"] == "Failed")
            #expect(w.entry("gpu-east")?["message"] == message, "the message is stable")
        }
    }

    @Test(
        "ModelCache: a new Job only from a change: the retry annotation, a larger size, or a new source",
        arguments: ["RetryAnnotation", "LargerSize", "SourceChange"])
    func newJobOnlyFromAChange(_ change: String) {
        var w = CacheWorld(clusters: [Fixtures.cluster("gpu-east")])
        w.reconcile()
        let failedJob = w.jobName("gpu-east")
        w.finish("gpu-east", Lifecycle.failedWith(exitCode: 11))
        w.reconcile()
        w.reconcile()
        #expect(w.jobName("gpu-east") == nil)
        switch change {
        case "RetryAnnotation": w.annotations = [CacheStaging.retryAnnotation: "1"]
        case "LargerSize": w.spec = with(w.spec, "storage", ["sizeGiB": 600])
        default:
            w.spec = with(
                w.spec, "artifact",
                ["source": ["huggingFace": ["repo": "Qwen/Qwen2.5-0.5B-Instruct", "revision": "v2"]]])
        }
        w.reconcile()
        #expect(w.jobName("gpu-east") != nil, "a new Job")
        #expect(w.jobName("gpu-east") != failedJob, "never named as the attempt that failed")
        #expect(w.entry("gpu-east")?["phase"] == "Hydrating")
        #expect(w.entry("gpu-east")?["failure"] == nil)
    }

    @Test("Automatic cache: the failure latches in status.cache, and the Job is not created again", arguments: failures)
    func automaticCache(_ name: String, _ failure: JobCondition, _ why: String) {
        var w = AutomaticCacheTests.ReplicaWorld()
        _ = w.reconcile()
        #expect(w.composed["cache-hydrate"] != nil)
        w.finish(failure)
        let failed = w.reconcile()
        #expect(w.status[path: "cache", "phase"] == "Failed", Comment(rawValue: why))
        #expect(w.status[path: "cache", "failure", "reason"] == .string(Self.latchedReason(failure)))
        #expect(w.composed["cache-hydrate"] == nil, "the failed Job leaves desired state")
        #expect(failed.results.filter { $0.severity == .warning }.count == 1)
        for _ in 0..<3 {
            let later = w.reconcile()
            #expect(w.composed["cache-hydrate"] == nil, Comment(rawValue: why))
            #expect(w.status[path: "cache", "phase"] == "Failed")
            #expect(later.results.filter { $0.severity == .warning }.isEmpty)
        }
    }
}
