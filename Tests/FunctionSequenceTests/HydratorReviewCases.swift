import FunctionCore
import Testing

/// Sequences of a fresh-eyes review of issue #24: values read back from status
/// (the pin) must settle, whatever the user wrote in the annotations they came from.
@Suite struct HydratorReviewCases {
    static let source = "hf://\(Build.repo)"

    @Test(
        "A refresh annotation with a trailing newline (a YAML block scalar) moves the pin once, then it holds",
        arguments: ["2026-12-06\n", String(repeating: "r", count: 1_100)])
    func refreshWithControlCharacterSettles(_ refresh: String) {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "Ready") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready" }
        w.commits[Self.source] = String(repeating: "c", count: 40)
        w.xrs[.cache("qwen-2-5")]?.annotations[CacheStaging.refreshAnnotation] = refresh
        w.run(until: "Ready at the new commit") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready"
                && $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["staged"] == .string($0.pinned(Self.source))
        }
        let pin = w.xrs[.cache("qwen-2-5")]?.status["resolved"]
        w.step(8)
        #expect(w.xrs[.cache("qwen-2-5")]?.status["resolved"] == pin, "the pin holds")
        #expect(pin?["epoch"] == 1)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready", "and the cluster stays Ready")
        w.expectNoViolations()
    }
}
