import Testing

@testable import FunctionCore

/// Findings of a fresh-eyes review of issue #24, one test each.
@Suite struct HydratorReviewTests {
    @Test(
        "A garbled status.resolved.epoch reads as 0 when out of range; counting on from the largest never overflows",
        arguments: [Int64.max, ResolvedPin.maxEpoch + 1, -1])
    func epochOutOfRange(_ epoch: Int64) {
        let commit = String(repeating: "a", count: 40)
        let read = ResolvedPin(["source": "hf://Qwen/Other", "commit": .string(commit), "epoch": .int(epoch)])
        #expect(read?.epoch == 0)
        let s = Lifecycle.staging()
        // Another source (or another refresh): the pin lapses and the epoch counts on.
        let largest = ResolvedPin(source: "hf://Qwen/Other", commit: commit, epoch: ResolvedPin.maxEpoch)
        #expect(StagingPin(observed: largest, staging: s, refresh: "r").n == ResolvedPin.maxEpoch)
        #expect(JobEnvironment.epoch("1.\(ResolvedPin.maxEpoch)")?.n == ResolvedPin.maxEpoch, "a Job can carry it")
    }

    @Test("A deadline of many parts that add up past Int64 is refused, not a crash")
    func deadlineOverflow() {
        let huge = String(repeating: "999999999d", count: 110_000)
        #expect(HydrationRules.durationSeconds(huge) == nil)
        #expect(HydrationRules.durationSeconds("1h30m") == 5_400)
    }

    @Test(
        "A report time out of range is dropped: stagedAt is a date-time field the API server validates",
        arguments: [
            "2026-13-01T10:00:00Z", "2026-11-00T10:00:00Z", "2026-11-32T10:00:00Z", "2026-11-01T24:00:00Z",
            "2026-11-01T10:60:00Z", "2026-11-01T10:00:61Z", "9999-99-99T99:99:99Z",
        ])
    func timeOutOfRange(_ text: String) {
        #expect(HydrationReport.time(text) == nil)
    }

    @Test("Times as the hydrator writes them are kept", arguments: ["2026-11-01T10:07:00Z", "2024-02-29T23:59:60.5Z"])
    func timeInRange(_ text: String) {
        #expect(HydrationReport.time(text) == text)
    }

    @Test("A Job running as the platform's hydration.serviceAccount is bound to the report Role too")
    func platformAccountBound() throws {
        let platform = Fixtures.cluster(
            "gpu-air",
            rwx: [
                "storageClassName": "fast-rwx", "defaultSizeGiB": 300,
                "hydration": ["serviceAccount": "air-hydrator"],
            ])
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [platform, Fixtures.cluster("gpu-east")],
                observed: [
                    "hydrate-sa-gpu-air": Lifecycle.readyAccount, "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                ],
                input: [
                    "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input",
                    "hydration": ["deadline": "3h"],
                ]))
        let job = try #require(manifest(r, "hydrate-gpu-air"))
        #expect(job[path: "spec", "template", "spec", "serviceAccountName"] == "air-hydrator")
        let subjects = manifest(r, "hydrate-rolebinding-gpu-air")?["subjects"]?.listValue ?? []
        #expect(subjects.contains { $0["name"] == "air-hydrator" }, "the account the Job runs as may write its report")
        let east = manifest(r, "hydrate-rolebinding-gpu-east")?["subjects"]?.listValue ?? []
        #expect(east.count == 1, "a Job running as the cache's own account: one subject, as before")
        #expect(
            east.first?["name"]
                == manifest(r, "hydrate-gpu-east")?[path: "spec", "template", "spec", "serviceAccountName"])
    }
}
