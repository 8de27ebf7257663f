import Foundation
import Testing

@testable import FunctionCore

/// Regression tests for defects found in review: sequences of inputs under
/// which something a serving workload uses was lost, or output was unstable.
@Suite struct ReviewFindingsTests {
    static let v7 = ArtifactSource(repo: "Qwen/Qwen2.5-7B-Instruct", revision: nil)
    static let v14 = ArtifactSource(repo: "Qwen/Qwen2.5-14B-Instruct", revision: nil)

    /// The KEEP_DIRS of the automatic cache's Job composed now, if any.
    static func keepDirs(_ w: AutomaticCacheTests.ReplicaWorld) -> String? {
        let env =
            w.composed["cache-hydrate"]?[
                path: "spec", "forProvider", "manifest", "spec", "template", "spec", "containers"]?
            .listValue?.first?["env"]?.listValue ?? []
        return env.first { $0["name"] == "KEEP_DIRS" }?["value"]?.stringValue
    }

    @Test(
        "Automatic cache: a lost or garbled status.cache keeps the running pods on their revision and model name",
        arguments: [Value.null, ["cache": ["phase": "Ready", "staged": 7]], ["cache": "garbled"]])
    func automaticLatchLost(_ wiped: Value) {
        var w = AutomaticCacheTests.ReplicaWorld()
        _ = w.reconcile()
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        #expect(w.cacheMount?["subPath"] == .string(Self.v7.directory))
        let before = w.composed["workload"]

        w.status = wiped
        _ = w.reconcile()
        #expect(w.cacheMount?["subPath"] == .string(Self.v7.directory), "the pods keep reading the complete revision")
        #expect(w.composed["workload"] == before, "the running workload is not changed by a lost status")
        #expect(
            w.status[path: "cache", "staged"] == .string(Self.v7.identity), "the latch is recovered from the workload")
    }

    @Test(
        "Automatic cache: a lost status.cache during a --model change keeps the old revision mounted and out of pruning"
    )
    func automaticLatchLostDuringUpdate() {
        var w = AutomaticCacheTests.ReplicaWorld()
        _ = w.reconcile()
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        w.model = Self.v14.repo
        w.status = .null
        _ = w.reconcile()
        #expect(w.cacheMount?["subPath"] == .string(Self.v7.directory), "still serving the old revision")
        #expect(w.engine?["args"]?.listValue?.contains("--served-model-name=Qwen/Qwen2.5-7B-Instruct") == true)
        #expect(Self.keepDirs(w) == Self.v7.directory, "the new Job's pruning keeps the revision the pods mount")
        #expect(w.status[path: "cache", "phase"] == "Updating")
    }

    @Test("ModelCache: the same request with clusters and Usages in another order gives the same response")
    func cachePermutation() {
        let clusters = ["gpu-west", "gpu-east", "gpu-north"].map { Fx.cluster($0) }
        let usages = [
            Lx.usage("b", cluster: "gpu-west", revision: Lx.qwenV2.directory),
            Lx.usage("a", cluster: "gpu-east", revision: Lx.qwen.directory),
            Lx.usage("c", cluster: "gpu-gone", revision: Lx.qwen.directory),
        ]
        let observed: [String: Value] = [
            "pvc-gpu-gone": Lx.observedClaim(providerConfig: "gpu-gone"),
            "pvc-gpu-east": Lx.observedClaim(providerConfig: "gpu-east"),
        ]
        let xr = Fx.modelCache(
            status: Lx.status([("gpu-east", "Ready", Lx.qwen.identity), ("gpu-gone", "Ready", Lx.qwen.identity)]))
        let a = Composer().run(Fx.request(xr, clusters: clusters, required: ["consumers": usages], observed: observed))
        let b = Composer().run(
            Fx.request(
                xr, clusters: clusters.reversed(), required: ["consumers": usages.reversed()],
                observed: observed))
        #expect(a == b)
        #expect(
            a.desired.resources["pvc-gpu-gone"] != nil, "a deselected cluster's claim is kept while a replica uses it")
    }
}

/// A source that comes back after its revision was pruned is staged again.
@Suite struct ReviewSourceReturnTests {
    func spec(_ repo: String) -> Value {
        with(Fx.defaultSpec, "artifact", ["source": ["huggingFace": ["repo": .string(repo)]]])
    }

    /// Changes the source (a spec change: the generation goes up) and completes the Job it starts.
    func stage(_ w: inout CacheWorld, _ repo: String) {
        w.spec = spec(repo)
        w.generation += 1
        w.reconcile()
        w.finish("gpu-east", ("Complete", "Completed", "done"))
        w.reconcile()
        w.reconcile()
    }

    @Test(
        "A → B → C → A → B while B's finished Job is still on the cluster: B is downloaded again, not taken as staged")
    func sourceReturnsAfterPrune() {
        var w = CacheWorld(clusters: [Fx.cluster("gpu-east")])
        w.spec = spec("o/a")
        w.reconcile()
        w.finish("gpu-east", ("Complete", "Completed", "done"))
        w.reconcile()
        stage(&w, "o/b")
        let firstB = w.jobOutcome.keys.sorted()
        #expect(w.entry("gpu-east")?["staged"] == "hf://o/b")
        stage(&w, "o/c")
        stage(&w, "o/a")  // its Job prunes rev-<b>: neither staged nor mounted
        #expect(w.entry("gpu-east")?["staged"] == "hf://o/a")

        w.spec = spec("o/b")
        w.generation += 1
        w.reconcile()
        w.reconcile()
        let name = w.jobName("gpu-east")
        #expect(name != nil && !firstB.contains("gpu-east/\(name ?? "")"), "a new Job, not B's earlier finished one")
        #expect(w.entry("gpu-east")?["staged"] == "hf://o/a", "the pods stay on A until B is downloaded again")
        #expect(w.entry("gpu-east")?["phase"] == "Updating")
    }
}

/// A ModelReplica's cluster reference is validated like its cache reference.
@Suite struct ReviewClusterRefTests {
    @Test(
        "An invalid spec.inferenceClusterRef.name is a FATAL naming the field, with the value quoted and no raw newline",
        arguments: ["gpu\neast", "", "GPU_East", String(repeating: "a", count: 300)])
    func invalidClusterRef(_ name: String) {
        let r = Composer().run(Fx.request(Wx.replica(cluster: name), required: ["cluster": []]))
        let fatal = r.results.filter { $0.severity == .fatal }
        #expect(fatal.count == 1)
        let message = fatal.first?.message ?? ""
        #expect(message.contains("spec.inferenceClusterRef.name"))
        #expect(!message.contains("\n"))
        #expect(message.count < 600, "the message stays bounded")
        #expect(
            r.requirements == nil || r.requirements?.resources.isEmpty == true, "nothing is asked for an invalid name")
    }
}

/// Events are transitions: a steady state repeats none.
@Suite struct ReviewSteadyStateTests {
    @Test("A ModelCache with Ready, Failed, Retained and shrink-refused clusters repeats no event on a steady state")
    func cacheSteadyState() {
        var w = CacheWorld(clusters: ["gpu-a", "gpu-b", "gpu-c", "gpu-d"].map { Fx.cluster($0) })
        w.usages = [Lx.usage("r1", cluster: "gpu-d", revision: Lx.qwen.directory)]
        w.reconcile()
        w.finish("gpu-a", ("Complete", "Completed", "done"))
        w.finish("gpu-b", Lx.failedWith(exitCode: 10))
        w.finish("gpu-c", ("Complete", "Completed", "done"))
        w.finish("gpu-d", ("Complete", "Completed", "done"))
        w.reconcile()
        w.reconcile()
        w.clusters.removeLast()  // gpu-d deselected: Retained for its replica
        w.spec = with(w.spec, "storage", ["sizeGiB": 100])  // smaller than the claims: refused
        w.generation += 1
        w.reconcile()
        w.reconcile()
        #expect(w.entry("gpu-a")?["phase"] == "Ready")
        #expect(w.entry("gpu-a")?["message"]?.stringValue?.contains("cannot shrink") == true)
        #expect(w.entry("gpu-b")?["phase"] == "Failed")
        #expect(w.entry("gpu-d")?["phase"] == "Retained")
        for _ in 0..<3 {
            let r = w.reconcile()
            #expect(r.results.isEmpty, "repeated: \(r.results.map(\.message))")
        }
    }

    @Test("A ModelReplica with a shared cache repeats no event on a steady state, Ready or not")
    func replicaSteadyState() {
        for phase in ["Ready", "Failed", "Retained", "Hydrating"] {
            let cache = Wx.cache(phases: [("gpu-east", phase)], staged: ["gpu-east": Wx.source])
            var status: Value = .null
            var observed: [String: Value] = [:]
            for i in 0..<4 {
                let xr = Wx.replica(cache: "qwen-2-5", status: status.isNull ? nil : status)
                let r = Composer().run(
                    Fx.request(
                        xr, required: ["cluster": [Fx.cluster("gpu-east")], "cache": [cache]],
                        observed: observed))
                if i >= 2 { #expect(r.results.isEmpty, "\(phase): repeated \(r.results.map(\.message))") }
                status = Lx.statusWritten(by: r)
                observed = r.desired.resources.mapValues(\.object)
            }
        }
    }
}

/// A ModelCache whose status is lost is an unknown input for a deployment, not an ineligible cache.
@Suite struct ReviewDeploymentCacheStatusTests {
    @Test(
        "A ModelCache with no status.clusters (lost or garbled) moves no replica that is still starting, and places none",
        arguments: [Value.null, "garbled", ["clusters": "x"]])
    func cacheStatusLost(_ status: Value) {
        var cache = Wx.cache(phases: [("gpu-east", "Ready"), ("gpu-west", "Ready")])
        cache["status"] = status
        let r = Composer().run(
            Fx.request(
                Wx.deployment(replicas: 2, cache: "qwen-2-5"),
                required: [
                    "clusters": [Fx.cluster("gpu-east"), Fx.cluster("gpu-west")],
                    "cache": [cache],
                ],
                observed: ["replica-gpu-east": Wx.observedReplica("gpu-east", ready: false)]))
        #expect(r.desired.resources["replica-gpu-east"] != nil, "the starting replica is kept")
        #expect(r.desired.resources["replica-gpu-west"] == nil, "nothing is placed on an unknown cache status")
        #expect(!r.results.contains { $0.reason == "ReplicaMoved" })
    }

    @Test(
        "A ModelCache that reports an empty status.clusters still moves a starting replica off a cluster it does not stage"
    )
    func cacheStatusEmpty() {
        let cache = Wx.cache(phases: [])
        let r = Composer().run(
            Fx.request(
                Wx.deployment(replicas: 1, cache: "qwen-2-5"),
                required: ["clusters": [Fx.cluster("gpu-east")], "cache": [cache]],
                observed: ["replica-gpu-east": Wx.observedReplica("gpu-east", ready: false)]))
        #expect(r.desired.resources["replica-gpu-east"] == nil)
        #expect(r.results.contains { $0.reason == "ReplicaMoved" })
    }
}
