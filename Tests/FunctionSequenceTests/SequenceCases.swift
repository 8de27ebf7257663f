import FunctionCore
import Testing

/// The sequences of issue #23 that take serving replicas down, each driven
/// through a `World` and checked against every invariant after every step.
@Suite struct SequenceCases {
    /// The default source's identity.
    static let v1 = "hf://\(Build.repo)"
    /// The identity of revision v3.
    static let v3 = "hf://\(Build.repo)@v3"

    @Test("A second update while the first one's rollout still runs keeps the revision the old pods read")
    func secondUpdateDuringRollout() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 3
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.run(until: "the replica serves v1") { $0.xrs[.replica("solo")]?.isReady == true }
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(revision: "v2"))
        w.run(until: "the rollout to v2 starts") { $0.rollingOut("solo", on: "gpu-east") }
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(revision: "v3"))
        w.run(until: "v3 serves and the rollout is over") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["staged"]?.stringValue == $0.pinned(Self.v3)
                && !$0.rollingOut("solo", on: "gpu-east") && $0.xrs[.replica("solo")]?.isReady == true
        }
        w.expectNone(.podMountsCompleteRevision)
        w.expectNoOtherViolations()
    }

    @Test("A cluster missing from one answer does not delete the Ready replica there")
    func clusterMissingFromOneAnswer() {
        var w = World.servingDeployment()
        let flap = w.step + 1
        w.answerEdit = { step, _, key, items in
            step == flap && (key == "clusters" || key == "cluster")
                ? items.filter { $0[path: "metadata", "name"]?.stringValue != "gpu-east" } : items
        }
        w.step()
        w.run(until: "a replica serves again") { $0.readyClusters(of: "qwen").count == 1 }
        w.expectNoViolations()
    }

    @Test("Narrowing a cache's selector under a ModelDeployment moves the Ready replica make-before-break")
    func narrowedCacheSelector() {
        var w = World.servingDeployment(clusters: [
            Build.cluster("gpu-east", labels: ["tier": "a"]), Build.cluster("gpu-west", labels: ["tier": "b"]),
        ])
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(selector: ["tier": "b"]))
        w.run(until: "the replica serves on gpu-west") { $0.readyClusters(of: "qwen") == ["gpu-west"] }
        w.step(2)
        #expect(w.replicas(of: "qwen").keys.sorted() == ["gpu-west"])
        w.expectNoViolations()
    }

    @Test("A permanent hydration failure (exit 10) is not downloaded again when the TTL removes the failed Job")
    func permanentFailureAndTTL() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { $0.identity.contains("no-such-model") ? .fail(exitCode: 10) : .complete() }
        w.add(.cache("missing"), spec: Build.cacheSpec(repo: "Qwen/no-such-model"))
        w.run(until: "the cluster is Failed") { $0.entry(cache: "missing", cluster: "gpu-east")?["phase"] == "Failed" }
        w.step(2 * w.ttlSteps + 2)
        #expect(w.entry(cache: "missing", cluster: "gpu-east")?["phase"] == "Failed")
        #expect(w.entry(cache: "missing", cluster: "gpu-east")?[path: "failure", "reason"] == "NotFound")
        w.expectNoViolations()
    }

    @Test("A ModelDeployment switched to another cache keeps the old claim and revision until the new cache is staged")
    func switchedToAnotherCache() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        let large = "Qwen/Qwen2.5-1.5B-Instruct"
        w.hydration = { $0.identity.contains(large) ? .complete(after: 4) : .complete() }
        w.add(.cache("qwen-small"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(cache: "qwen-small"))
        w.run(until: "the replica serves from qwen-small") { $0.readyClusters(of: "qwen") == ["gpu-east"] }
        w.add(.cache("qwen-large"), spec: Build.cacheSpec(repo: large))
        w.run(until: "qwen-large downloads on gpu-east") {
            $0.entry(cache: "qwen-large", cluster: "gpu-east")?["phase"] == "Hydrating"
        }
        w.setSpec(.deployment("qwen"), Build.deploymentSpec(cache: "qwen-large"))
        w.run(until: "the replica serves from qwen-large") {
            $0.entry(cache: "qwen-large", cluster: "gpu-east")?["staged"]?.stringValue == $0.pinned("hf://\(large)")
                && $0.readyClusters(of: "qwen") == ["gpu-east"] && !$0.rollingOut("qwen-gpu-east", on: "gpu-east")
        }
        // Once the rollout is over, only the new cache's Usage is left.
        w.step(2)
        #expect(w.usages.values.map { $0[path: "spec", "of", "resourceRef", "name"] } == ["qwen-large"])
        w.expectNoViolations()
    }
}

extension World {
    /// gpu-east and gpu-west (or `clusters`), ModelCache qwen-2-5 staged on every
    /// cluster its selector matches, and ModelDeployment qwen with one Ready replica on gpu-east.
    static func servingDeployment(
        clusters: [Value] = [Build.cluster("gpu-east"), Build.cluster("gpu-west")],
        deploymentSelector: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) -> World {
        var w = World(clusters: clusters)
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(cache: "qwen-2-5", selector: deploymentSelector))
        w.run(until: "one Ready replica on gpu-east, the cache Ready everywhere", sourceLocation: sourceLocation) { w in
            w.readyClusters(of: "qwen") == ["gpu-east"]
                && w.clusters.keys.allSatisfy { w.entry(cache: "qwen-2-5", cluster: $0)?["phase"] == "Ready" }
        }
        return w
    }

    /// One replica on `qwen-2-5` serving v1, then the cache updated to each of
    /// `revisions` in turn, each once the previous one serves and its rollout is over.
    static func servingUpdates(
        _ revisions: [String] = ["v2", "v3"], sourceLocation: SourceLocation = #_sourceLocation
    ) -> World {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 2
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.run(until: "the replica serves v1", sourceLocation: sourceLocation) {
            $0.xrs[.replica("solo")]?.isReady == true
        }
        for revision in revisions {
            w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(revision: revision))
            w.run(until: "\(revision) serves and the rollout is over", sourceLocation: sourceLocation) {
                $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["staged"]?.stringValue
                    == $0.pinned("hf://\(Build.repo)@\(revision)") && !$0.rollingOut("solo", on: "gpu-east")
                    && $0.xrs[.replica("solo")]?.isReady == true
            }
        }
        return w
    }

    /// A gated model that fails for good (exit 10) on gpu-east, then, once access is
    /// granted, the retry annotation; returns when the cluster is Ready. `ttlSteps`
    /// sets how long the failed Job stays observed; `pauseBeforeRetry` steps once
    /// between the failure and the retry.
    static func retriedAfterPermanentFailure(ttlSteps: Int? = nil, pauseBeforeRetry: Bool) -> World {
        var w = World(clusters: [Build.cluster("gpu-east")])
        if let ttlSteps { w.ttlSteps = ttlSteps }
        let granted = OwnSequenceCases.Switch()
        w.hydration = { _ in granted.on ? .complete() : .fail(exitCode: 10) }
        w.add(.cache("gated"), spec: Build.cacheSpec(repo: "meta-llama/Llama-3.1-8B"))
        w.run(until: "the cluster is Failed") { $0.entry(cache: "gated", cluster: "gpu-east")?["phase"] == "Failed" }
        if pauseBeforeRetry { w.step() }
        granted.on = true
        w.xrs[.cache("gated")]?.annotations["modelplane.ai/retry-hydration"] = "1"
        w.run(until: "the cluster is Ready") { $0.entry(cache: "gated", cluster: "gpu-east")?["phase"] == "Ready" }
        return w
    }
}
