import FunctionCore
import Testing

/// More sequences found by editing, failing and flapping things under serving
/// replicas, each checked against every invariant after every step.
@Suite struct OwnSequenceCases {
    /// Whether the test has unblocked downloads yet (a hydration closure reads it).
    final class Switch {
        var on = false
    }

    @Test("A cluster label edited and restored does not move the Ready replica off that cluster")
    func labelEditedAndRestored() {
        let serving = ["pool": "serving"]
        var w = World.servingDeployment(
            clusters: [Build.cluster("gpu-east", labels: serving), Build.cluster("gpu-west", labels: serving)],
            deploymentSelector: serving)
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["pool": "maintenance"])
        w.step()
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: serving)
        w.run(until: "a replica serves again") { $0.readyClusters(of: "qwen").count == 1 }
        w.expectNoViolations()
    }

    @Test("A provider config blank for one reconcile keeps the replica, the claim and the cluster's phase")
    func providerConfigBlankOnce() {
        var w = World.servingDeployment()
        var blank = Build.cluster("gpu-east")
        blank["status"]?["providerConfigRef"] = nil
        w.clusters["gpu-east"] = blank
        w.step()
        let phase = w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"]
        w.clusters["gpu-east"] = Build.cluster("gpu-east")
        w.step(3)
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready")
        #expect(phase == "Ready", "the cluster keeps its previous phase")
        w.expectNoViolations()
    }

    @Test("rwxCache removed and restored: the cluster in use is Retained, the idle one is released, not Failed")
    func rwxCacheRemovedAndRestored() {
        var w = World.servingDeployment()
        w.clusters["gpu-east"] = Build.cluster("gpu-east", rwx: false)
        w.clusters["gpu-west"] = Build.cluster("gpu-west", rwx: false)
        w.step(2)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Retained")
        let released = w.entry(cache: "qwen-2-5", cluster: "gpu-west")?["phase"]
        w.clusters["gpu-east"] = Build.cluster("gpu-east")
        w.clusters["gpu-west"] = Build.cluster("gpu-west")
        w.run(until: "the cache is Ready on both clusters again") { w in
            ["gpu-east", "gpu-west"].allSatisfy { w.entry(cache: "qwen-2-5", cluster: $0)?["phase"] == "Ready" }
        }
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        #expect(released != "Failed", "a cluster released on purpose is not a failure")
        w.expectNoViolations()
    }

    @Test("The retry annotation after a permanent failure runs one new Job, and nothing runs again after it")
    func retryAfterPermanentFailure() {
        var w = World.retriedAfterPermanentFailure(pauseBeforeRetry: true)
        w.step(2 * w.ttlSteps + 2)
        #expect(w.entry(cache: "gated", cluster: "gpu-east")?["phase"] == "Ready")
        #expect(w.jobCreations.count == 2, "the failed Job and the retry: \(w.jobCreations)")
        #expect(w.jobCreations.values.allSatisfy { $0 == 1 }, "each created once: \(w.jobCreations)")
        w.expectNoViolations()
    }

    @Test("A larger size after exit 11 (claim full) expands the claim and runs one new Job that stages the model")
    func sizeIncreaseAfterDiskFull() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { $0.claimGiB < 500 ? .fail(exitCode: 11) : .complete() }
        w.add(.cache("big"), spec: Build.cacheSpec(repo: "Qwen/Qwen2.5-72B-Instruct"))
        w.run(until: "the cluster is Failed") { $0.entry(cache: "big", cluster: "gpu-east")?["phase"] == "Failed" }
        w.setSpec(.cache("big"), Build.cacheSpec(repo: "Qwen/Qwen2.5-72B-Instruct", sizeGiB: 600))
        w.run(until: "the cluster is Ready") { $0.entry(cache: "big", cluster: "gpu-east")?["phase"] == "Ready" }
        let claim = w.remotes[Build.providerConfig("gpu-east")]?.claims.values.first?.manifest
        #expect(claim?[path: "spec", "resources", "requests", "storage"] == "600Gi")
        #expect(w.jobCreations.values.allSatisfy { $0 == 1 }, "each Job created once: \(w.jobCreations)")
        w.expectNoViolations()
    }

    @Test("A download that exhausts its backoff (exit 1) is not started again when the TTL removes the failed Job")
    func backoffExhaustedAndTTL() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { _ in .fail(exitCode: 1, after: 3) }
        w.add(.cache("flaky"), spec: Build.cacheSpec())
        w.run(until: "the cluster is Failed") { $0.entry(cache: "flaky", cluster: "gpu-east")?["phase"] == "Failed" }
        #expect(
            w.entry(cache: "flaky", cluster: "gpu-east")?["message"]?.stringValue?.contains(
                "failed with exit code 1 (Transient)")
                == true)
        w.step(2 * w.ttlSteps + 2)
        #expect(w.entry(cache: "flaky", cluster: "gpu-east")?["phase"] == "Failed")
        w.expectNoViolations()
    }

    @Test(
        "A cluster deleted while its replica is Ready: the replacement is placed first, the old one goes once it is Ready"
    )
    func clusterDeletedWhileReady() {
        var w = World.servingDeployment()
        w.clusters["gpu-east"] = nil
        w.run(until: "the replica serves on gpu-west") { $0.readyClusters(of: "qwen") == ["gpu-west"] }
        w.step(2)
        #expect(w.replicas(of: "qwen").keys.sorted() == ["gpu-west"])
        w.expectNoViolations()
    }

    @Test("A Usage missing from one consumers answer does not release a Retained claim that pods still mount")
    func consumersMissingFromOneAnswer() {
        var w = World(clusters: [
            Build.cluster("gpu-east", labels: ["tier": "a"]), Build.cluster("gpu-west", labels: ["tier": "b"]),
        ])
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.run(until: "the replica serves") { $0.xrs[.replica("solo")]?.isReady == true }
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(selector: ["tier": "b"]))
        w.run(until: "gpu-east is Retained") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Retained"
        }
        let flap = w.step + 1
        w.answerEdit = { step, _, key, items in step == flap && key == "consumers" ? [] : items }
        w.step(3)
        #expect(w.xrs[.replica("solo")]?.isReady == true)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Retained")
        w.expectNoViolations()
    }

    @Test("Automatic cache: a second model change while the first one's rollout runs keeps what the old gang reads")
    func automaticCacheSecondUpdateDuringRollout() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 3
        let gang = { (model: String) in
            Build.replicaSpec(cluster: "gpu-east", workers: Build.workers(pipeline: 2, model: model))
        }
        w.add(.replica("gang"), spec: gang("Qwen/Qwen2.5-0.5B-Instruct"))
        w.run(until: "the gang serves") { $0.xrs[.replica("gang")]?.isReady == true }
        w.setSpec(.replica("gang"), gang("Qwen/Qwen2.5-1.5B-Instruct"))
        w.run(until: "the rollout to 1.5B starts") { $0.rollingOut("gang", on: "gpu-east") }
        w.setSpec(.replica("gang"), gang("Qwen/Qwen2.5-3B-Instruct"))
        w.run(until: "3B serves and the rollout is over") {
            $0.xrs[.replica("gang")]?.status[path: "cache", "staged"]
                == .string($0.pinned("hf://Qwen/Qwen2.5-3B-Instruct"))
                && !$0.rollingOut("gang", on: "gpu-east") && $0.xrs[.replica("gang")]?.isReady == true
        }
        w.expectNone(.podMountsCompleteRevision)
        w.expectNoOtherViolations()
    }
}
