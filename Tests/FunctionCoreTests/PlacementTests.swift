import Testing

@testable import FunctionCore

/// A ModelDeployment's placement survives cluster flaps (lifecycle.md §5 and §7 rule 4), and
/// every move is an event naming the replica, the cluster it left and why.
@Suite struct PlacementTests {
    let compose = Composer()

    func replica(_ cluster: String, ready: Bool) -> Value {
        var r = Workloads.observedReplica(cluster, ready: ready)
        r["metadata"] = ["name": .string("qwen-\(cluster)-x7k2p")]
        return r
    }

    static func notReady(_ name: String) -> Value {
        var c = Fixtures.cluster(name)
        c["status"]?["conditions"] = [["type": "Ready", "status": "False", "reason": "Unavailable"]]
        return c
    }

    func events(_ r: RunResponse) -> [String] { r.results.filter { $0.severity == .normal }.map(\.message) }

    @Test("A Ready replica on a NotReady cluster is kept, with no event and no second replica elsewhere")
    func readyKept() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1), required: ["clusters": [Self.notReady("a"), Fixtures.cluster("b")]],
                observed: ["replica-a": replica("a", ready: true)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-a"])
        #expect(r.results.isEmpty)
        #expect(cond(r, "ReplicasScheduled")?.reason == "Scheduled")
    }

    @Test("A Ready replica stays on a cluster that lost its provider config, or whose cache phase went Failed")
    func readyKeptThroughOtherFlaps() {
        var noPC = Fixtures.cluster("a")
        noPC["status"]?["providerConfigRef"] = nil
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1), required: ["clusters": [noPC, Fixtures.cluster("b")]],
                observed: ["replica-a": replica("a", ready: true)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-a"])
        let cache = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1, cache: "qwen-2-5"),
                required: [
                    "cache": [Workloads.cache(phases: [("a", "Failed"), ("b", "Ready")])],
                    "clusters": [Fixtures.cluster("a"), Fixtures.cluster("b")],
                ],
                observed: ["replica-a": replica("a", ready: true)]))
        #expect(cache.desired.resources.keys.sorted() == ["replica-a"])
    }

    @Test(
        "A non-Ready replica on an ineligible cluster moves, with a Normal event naming the replica, the cluster and why"
    )
    func notReadyMoved() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1), required: ["clusters": [Self.notReady("a"), Fixtures.cluster("b")]],
                observed: ["replica-a": replica("a", ready: false)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-b"])
        #expect(r.results.map(\.severity) == [.normal])
        #expect(r.results.first?.reason == "ReplicaMoved")
        #expect(
            events(r) == ["Replica qwen-a-x7k2p leaves a: the replica is not Ready and InferenceCluster a is not Ready"]
        )
    }

    @Test("A cluster where the cache is only Retained takes no new replica; a Ready one already there stays")
    func retainedTakesNoNewReplica() {
        let cache = Workloads.cache(
            phases: [("a", "Retained"), ("b", "Ready")], staged: ["a": "hf://Qwen/Qwen2.5-0.5B-Instruct"])
        let fresh = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1, cache: "qwen-2-5"),
                required: ["cache": [cache], "clusters": [Fixtures.cluster("a"), Fixtures.cluster("b")]]))
        #expect(fresh.desired.resources.keys.sorted() == ["replica-b"])
        let kept = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1, cache: "qwen-2-5"),
                required: ["cache": [cache], "clusters": [Fixtures.cluster("a"), Fixtures.cluster("b")]],
                observed: ["replica-a": replica("a", ready: true)]))
        #expect(kept.desired.resources.keys.sorted() == ["replica-a"])
    }

    @Test("A non-Ready replica on a still-eligible cluster stays (it may be starting)")
    func notReadyEligibleKept() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1),
                required: ["clusters": [Fixtures.cluster("a"), Fixtures.cluster("b")]],
                observed: ["replica-b": replica("b", ready: false)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-b"])
        #expect(r.results.isEmpty)
    }

    @Test("A cluster gone from the answer moves a Ready replica make-before-break, with an event saying where and why")
    func goneMoved() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1), required: ["clusters": [Fixtures.cluster("b")]],
                observed: ["replica-a": replica("a", ready: true)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-a", "replica-b"])
        #expect(
            events(r) == [
                "Replica qwen-a-x7k2p moves from a to b: InferenceCluster a is no longer selected (deleted, or no longer "
                    + "matching the cluster selector); it keeps serving on a until its replacement is Ready"
            ])
    }

    @Test("Unanswered or inconsistent inputs move nothing: clusters not answered, cache gone, selector conflict")
    func frozen() {
        let observed = ["replica-a": replica("a", ready: false)]
        let unanswered = compose.run(Fixtures.request(Workloads.deployment(replicas: 1), observed: observed))
        #expect(unanswered.desired.resources.keys.sorted() == ["replica-a"])
        let cacheGone = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1, cache: "qwen-2-5"),
                required: ["cache": [], "clusters": []], observed: observed))
        #expect(cacheGone.desired.resources.keys.sorted() == ["replica-a"])
        #expect(events(cacheGone).isEmpty)
    }

    @Test("Scaling down keeps Ready replicas first and says which replica left")
    func scaleDown() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1),
                required: ["clusters": [Fixtures.cluster("a"), Fixtures.cluster("b")]],
                observed: ["replica-a": replica("a", ready: false), "replica-b": replica("b", ready: true)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-b"])
        #expect(r.results.map(\.reason) == ["ReplicaRemoved"])
        #expect(events(r) == ["Replica qwen-a-x7k2p leaves a: spec.replicas is 1"])
    }

    @Test(
        "A conflict over several keys names the first keys in sorted order, whatever the hash order, and counts the rest"
    )
    func conflictSorted() {
        let keys = (0..<12).map { "k\($0)" + String(repeating: "x", count: $0) }
        let mine = Fields(Dictionary(uniqueKeysWithValues: keys.map { ($0, "mine") }))
        let theirs = Fields(Dictionary(uniqueKeysWithValues: keys.map { ($0, "theirs") }))
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(cache: "qwen-2-5", selector: mine),
                required: ["cache": [Workloads.cache(phases: [], selector: theirs)], "clusters": []]))
        let expected =
            "spec.clusterSelector and ModelCache qwen-2-5 select different values for "
            + keys.sorted(by: utf8Less).prefix(5).map { "label \"\($0)\" (\"mine\" and \"theirs\")" }.joined(
                separator: ", ")
            + " and 7 more: no cluster can satisfy both"
        #expect(cond(r, "ReplicasScheduled")?.reason == "SelectorConflict")
        #expect(cond(r, "ReplicasScheduled")?.message == expected)
    }

    @Test("Labels written from user names go through labelValue")
    func labelValues() {
        let long = "team-a." + String(repeating: "d", count: 60) + ".qwen"  // a valid name, too long for a label
        var xr = Workloads.deployment(replicas: 1, cache: long)
        xr["metadata"]?["name"] = .string(long)
        let r = compose.run(
            Fixtures.request(
                xr,
                required: [
                    "cache": [Workloads.cache(phases: [("a", "Ready")], name: long)],
                    "clusters": [Fixtures.cluster("a")],
                ]))
        let labels = r.desired.resources["replica-a"]?.object[path: "metadata", "labels"]
        #expect(labels?["modelplane.ai/deployment"] == .string(labelValue(long)))
        #expect(labels?["modelplane.ai/modelcache"] == .string(labelValue(long)))
        #expect(labels?["modelplane.ai/cluster"] == "a")
        #expect(labelValue(long) != long)

        var replica = Workloads.replica()
        replica["metadata"]?["name"] = .string(long)
        let w = compose.run(Fixtures.request(replica, required: ["cluster": [Fixtures.cluster("gpu-east")]]))
        #expect(
            manifest(w, "workload")?[path: "metadata", "labels", "modelplane.ai/modelreplica"]
                == .string(labelValue(long)))
    }

    // A ModelCache whose status is lost is an unknown input for a deployment, not an ineligible cache.

    @Test(
        "A ModelCache with no status.clusters (lost or garbled) moves no replica that is still starting, and places none",
        arguments: [Value.null, "garbled", ["clusters": "x"]])
    func cacheStatusLost(_ status: Value) {
        var cache = Workloads.cache(phases: [("gpu-east", "Ready"), ("gpu-west", "Ready")])
        cache["status"] = status
        let r = Composer().run(
            Fixtures.request(
                Workloads.deployment(replicas: 2, cache: "qwen-2-5"),
                required: [
                    "clusters": [Fixtures.cluster("gpu-east"), Fixtures.cluster("gpu-west")],
                    "cache": [cache],
                ],
                observed: ["replica-gpu-east": Workloads.observedReplica("gpu-east", ready: false)]))
        #expect(r.desired.resources["replica-gpu-east"] != nil, "the starting replica is kept")
        #expect(r.desired.resources["replica-gpu-west"] == nil, "nothing is placed on an unknown cache status")
        #expect(!r.results.contains { $0.reason == "ReplicaMoved" })
    }

    @Test(
        "A ModelCache that reports an empty status.clusters still moves a starting replica off a cluster it does not stage"
    )
    func cacheStatusEmpty() {
        let cache = Workloads.cache(phases: [])
        let r = Composer().run(
            Fixtures.request(
                Workloads.deployment(replicas: 1, cache: "qwen-2-5"),
                required: ["clusters": [Fixtures.cluster("gpu-east")], "cache": [cache]],
                observed: ["replica-gpu-east": Workloads.observedReplica("gpu-east", ready: false)]))
        #expect(r.desired.resources["replica-gpu-east"] == nil)
        #expect(r.results.contains { $0.reason == "ReplicaMoved" })
    }
}
