import FunctionCore
import Testing

/// Sequences of the replica side of lifecycle.md §7 (rules 1–3): cache switches
/// and updates seen from the pods.
@Suite struct ReplicaSequenceCases {
    @Test("A cache switch taken back before the new cache is staged never moves the pods, and leaves one Usage")
    func switchTakenBack() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        let large = "Qwen/Qwen2.5-1.5B-Instruct"
        w.hydration = { $0.identity.contains(large) ? .complete(after: 6) : .complete() }
        w.add(.cache("qwen-small"), spec: Build.cacheSpec())
        w.add(.cache("qwen-large"), spec: Build.cacheSpec(repo: large))
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-small"))
        w.run(until: "the replica serves from qwen-small") { $0.xrs[.replica("solo")]?.isReady == true }
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-large"))
        w.step(2)
        #expect(!w.rollingOut("solo", on: "gpu-east"), "nothing staged on qwen-large: the pods stay")
        #expect(conditionOf(w.xrs[.replica("solo")]?.object, "CacheReady")?["reason"] == "Switching")
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-small"))
        w.step(3)
        #expect(!w.rollingOut("solo", on: "gpu-east"))
        #expect(w.xrs[.replica("solo")]?.isReady == true)
        #expect(w.usages.values.map { $0[path: "spec", "of", "resourceRef", "name"] } == ["qwen-small"])
        w.expectNoViolations()
    }

    @Test(
        "Two updates of a shared cache in a row, each after the previous rollout: every pod reads a complete revision")
    func updatesInARow() {
        var w = World.servingUpdates(["v2", "v3"])
        w.step(2)
        #expect(
            w.xrs[.replica("solo")]?.status[path: "cache", "revisions"]?.listValue?.count == 1,
            "once rolled out, only the served revision is listed")
        w.expectNoViolations()
    }
}
