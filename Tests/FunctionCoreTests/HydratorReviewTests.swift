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
}
