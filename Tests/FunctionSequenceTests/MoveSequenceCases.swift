import FunctionCore
import Testing

/// Sequences that move Ready replicas (lifecycle.md §7 rule 4: moves are
/// make-before-break), each checked against every invariant after every step.
@Suite struct MoveSequenceCases {
    /// InferenceCluster `name`, Ready or not.
    static func cluster(_ name: String, ready: Bool, labels: [String: String] = [:]) -> Value {
        var c = Build.cluster(name, labels: labels)
        if !ready { c["status"]?["conditions"] = [["type": "Ready", "status": "False", "reason": "Unavailable"]] }
        return c
    }

    @Test("A cluster deleted with no other eligible: the Ready replica stays, warned once, and moves once one is")
    func deletedWithoutAlternative() {
        var w = World.servingDeployment()
        w.clusters["gpu-west"] = Self.cluster("gpu-west", ready: false)
        w.clusters["gpu-east"] = nil
        w.step(4)
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"], "the Ready replica stays where it is")
        let warnings = w.events.filter { $0.result.reason == "ReplicaNotMoved" }
        #expect(warnings.count == 1, "one Warning, not one per reconcile: \(w.trace())")
        #expect(
            w.xrs[.deployment("qwen")]?.status[path: "conditions"]?.listValue?.contains {
                $0["type"] == "ReplicasScheduled" && $0["reason"] == "NoReplacement"
            } == true)
        w.clusters["gpu-west"] = Self.cluster("gpu-west", ready: true)
        w.run(until: "the replica serves on gpu-west") { $0.readyClusters(of: "qwen") == ["gpu-west"] }
        w.step(2)
        #expect(w.replicas(of: "qwen").keys.sorted() == ["gpu-west"])
        w.expectNoViolations()
    }

    @Test("Two Ready replicas deselected at once both move make-before-break, and Ready capacity never drops")
    func twoReplicasDeselectedAtOnce() {
        let serving = ["pool": "serving"]
        let names = ["gpu-a", "gpu-b", "gpu-c", "gpu-d"]
        var w = World(clusters: names.map { Build.cluster($0, labels: serving) })
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(replicas: 2, cache: "qwen-2-5", selector: serving))
        w.run(until: "two Ready replicas on gpu-a and gpu-b") { $0.readyClusters(of: "qwen") == ["gpu-a", "gpu-b"] }
        w.clusters["gpu-a"] = Build.cluster("gpu-a", labels: ["pool": "maintenance"])
        w.clusters["gpu-b"] = Build.cluster("gpu-b", labels: ["pool": "maintenance"])
        w.run(until: "the replicas serve on gpu-c and gpu-d") { $0.readyClusters(of: "qwen") == ["gpu-c", "gpu-d"] }
        w.step(2)
        #expect(w.replicas(of: "qwen").keys.sorted() == ["gpu-c", "gpu-d"])
        #expect(w.events.filter { $0.result.reason == "ReplicaMoved" }.count == 2, "\(w.trace())")
        w.expectNoViolations()
    }
}
