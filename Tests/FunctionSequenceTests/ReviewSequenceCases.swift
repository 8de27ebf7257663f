import FunctionCore
import Testing

/// Sequences of a fresh-eyes review of issue #23: several changes at once
/// (a switch while a cache updates, a switch while the cluster flaps, a retry
/// while the failed Job is still observed), each checked against every
/// invariant after every step.
@Suite struct ReviewSequenceCases {
    @Test("A cache switch while the old cache updates: the pods read a complete revision of one claim throughout")
    func switchWhileOldCacheUpdates() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 2
        let large = "Qwen/Qwen2.5-1.5B-Instruct"
        w.hydration = { $0.identity.contains(large) ? .complete(after: 5) : .complete(after: 2) }
        w.add(.cache("qwen-small"), spec: Build.cacheSpec())
        w.add(.cache("qwen-large"), spec: Build.cacheSpec(repo: large))
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-small"))
        w.run(until: "the replica serves from qwen-small") { $0.xrs[.replica("solo")]?.isReady == true }
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-large"))
        w.step()
        w.setSpec(.cache("qwen-small"), Build.cacheSpec(revision: "v2"))
        w.run(until: "the replica serves from qwen-large, rolled out") {
            $0.xrs[.replica("solo")]?.status[path: "cache", "staged"]?.stringValue?.contains(large) == true
                && !$0.rollingOut("solo", on: "gpu-east") && $0.xrs[.replica("solo")]?.isReady == true
        }
        w.step(3)
        #expect(w.usages.values.map { $0[path: "spec", "of", "resourceRef", "name"] } == ["qwen-large"])
        w.expectNoViolations()
    }

    @Test("A cache switch while the cluster's provider config blinks: no pod mounts another claim's revision")
    func switchWhileProviderConfigBlinks() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 2
        let large = "Qwen/Qwen2.5-1.5B-Instruct"
        w.hydration = { $0.identity.contains(large) ? .complete(after: 3) : .complete() }
        w.add(.cache("qwen-small"), spec: Build.cacheSpec())
        w.add(.cache("qwen-large"), spec: Build.cacheSpec(repo: large))
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-small"))
        w.run(until: "the replica serves from qwen-small") { $0.xrs[.replica("solo")]?.isReady == true }
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-large"))
        var blank = Build.cluster("gpu-east")
        blank["status"]?["providerConfigRef"] = nil
        for _ in 0..<3 {
            w.step()
            w.clusters["gpu-east"] = blank
            w.step()
            w.clusters["gpu-east"] = Build.cluster("gpu-east")
        }
        w.run(until: "the replica serves from qwen-large, rolled out") {
            $0.xrs[.replica("solo")]?.status[path: "cache", "staged"]?.stringValue?.contains(large) == true
                && !$0.rollingOut("solo", on: "gpu-east") && $0.xrs[.replica("solo")]?.isReady == true
        }
        w.expectNoViolations()
    }

    @Test("The retry annotation set while the failed Job is still observed runs one new Job, which stages the model")
    func retryWhileFailedJobObserved() {
        var w = World.retriedAfterPermanentFailure(ttlSteps: 6, pauseBeforeRetry: false)
        w.step(2 * w.ttlSteps + 2)
        #expect(w.entry(cache: "gated", cluster: "gpu-east")?["phase"] == "Ready")
        #expect(w.jobCreations.count == 2, "the failed Job and the retry: \(w.jobCreations)")
        #expect(w.jobCreations.values.allSatisfy { $0 == 1 }, "each created once: \(w.jobCreations)")
        w.expectNoViolations()
    }

    @Test("A cluster that leaves and rejoins the answer every other reconcile never drops Ready capacity")
    func clusterFlapsRepeatedly() {
        var w = World.servingDeployment()
        w.startupSteps = 2
        w.answerEdit = { step, _, key, items in
            step % 2 == 0 && (key == "clusters" || key == "cluster")
                ? items.filter { $0[path: "metadata", "name"]?.stringValue != "gpu-east" } : items
        }
        w.step(12)
        w.answerEdit = { _, _, _, items in items }
        w.run(until: "one Ready replica and no other") {
            $0.readyClusters(of: "qwen").count == 1 && $0.replicas(of: "qwen").count == 1
        }
        w.expectNoViolations()
    }

    @Test("A move while the cache updates: the replacement mounts a complete revision, capacity never drops")
    func moveWhileCacheUpdates() {
        let serving = ["pool": "serving"]
        var w = World.servingDeployment(
            clusters: [Build.cluster("gpu-east", labels: serving), Build.cluster("gpu-west", labels: serving)],
            deploymentSelector: serving)
        w.startupSteps = 2
        w.hydration = { $0.identity.hasSuffix("@v2") ? .complete(after: 4) : .complete() }
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(revision: "v2"))
        w.step()
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["pool": "maintenance"])
        w.run(until: "the replica serves on gpu-west") { $0.readyClusters(of: "qwen") == ["gpu-west"] }
        w.run(until: "v2 is staged on gpu-west and rolled out") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-west")?["phase"] == "Ready"
                && $0.replicas(of: "qwen").count == 1 && $0.readyClusters(of: "qwen") == ["gpu-west"]
        }
        w.step(3)
        w.expectNoViolations()
    }

    @Test("A switch taken back after the new cache is staged, mid-rollout: every pod reads a complete revision")
    func switchTakenBackMidRollout() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 3
        let large = "Qwen/Qwen2.5-1.5B-Instruct"
        w.add(.cache("qwen-small"), spec: Build.cacheSpec())
        w.add(.cache("qwen-large"), spec: Build.cacheSpec(repo: large))
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-small"))
        w.run(until: "the replica serves from qwen-small") { $0.xrs[.replica("solo")]?.isReady == true }
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-large"))
        w.run(until: "the rollout to qwen-large starts") { $0.rollingOut("solo", on: "gpu-east") }
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-small"))
        w.run(until: "the replica serves from qwen-small again, rolled out") {
            $0.xrs[.replica("solo")]?.status[path: "cache", "staged"]?.stringValue?.contains(large) == false
                && !$0.rollingOut("solo", on: "gpu-east") && $0.xrs[.replica("solo")]?.isReady == true
        }
        w.step(3)
        #expect(w.usages.values.map { $0[path: "spec", "of", "resourceRef", "name"] } == ["qwen-small"])
        w.expectNoViolations()
    }

    @Test("Scaling down while a Ready replica moves keeps the Ready capacity the new count asks for")
    func scaleDownDuringMove() {
        let serving = ["pool": "serving"]
        let names = ["gpu-a", "gpu-b", "gpu-c"]
        var w = World(clusters: names.map { Build.cluster($0, labels: serving) })
        w.startupSteps = 2
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(replicas: 2, cache: "qwen-2-5", selector: serving))
        w.run(until: "two Ready replicas") { $0.readyClusters(of: "qwen").count == 2 }
        let first = w.readyClusters(of: "qwen")[0]
        w.clusters[first] = Build.cluster(first, labels: ["pool": "maintenance"])
        w.step()
        w.setSpec(.deployment("qwen"), Build.deploymentSpec(replicas: 1, cache: "qwen-2-5", selector: serving))
        w.run(until: "one Ready replica and no other") {
            $0.readyClusters(of: "qwen").count == 1 && $0.replicas(of: "qwen").count == 1
        }
        w.step(2)
        #expect(!w.readyClusters(of: "qwen").contains(first))
        w.expectNoViolations()
    }

    @Test("From the automatic cache to a shared one that is still staging: the claim in use stays, then one rollout")
    func automaticToSharedSwitch() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 2
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east"))
        w.run(until: "the replica serves from its own cache") { $0.xrs[.replica("solo")]?.isReady == true }
        w.hydration = { _ in .complete(after: 4) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.setSpec(.replica("solo"), Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.run(until: "the replica serves from qwen-2-5, rolled out") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready"
                && !$0.rollingOut("solo", on: "gpu-east") && $0.xrs[.replica("solo")]?.isReady == true
        }
        w.step(3)
        w.expectNoViolations()
    }
}
