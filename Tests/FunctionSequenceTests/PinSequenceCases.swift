import FunctionCore
import Testing

/// Sequences of the automatic caches' pin (hydrator.md §2): the replicas of one
/// ModelDeployment end up on one commit.
@Suite struct PinSequenceCases {
    /// Two commits of the default branch: it moved between the two replicas' first resolutions.
    static let c1 = String(repeating: "c1", count: 20)
    static let c2 = String(repeating: "c2", count: 20)

    @Test("Two replicas that resolved different commits at once end up pinned to one, and it stays")
    func twoReplicasOneCommit() {
        var w = World(clusters: [Build.cluster("gpu-east"), Build.cluster("gpu-west")])
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(replicas: 2, workers: Build.workers(pipeline: 2)))
        w.run(until: "both replicas stage their automatic caches") { w in
            let replicas = w.replicas(of: "qwen")
            return replicas.count == 2 && replicas.values.allSatisfy { $0.composed["cache-pvc"] != nil }
        }
        w.resolved(["gpu-east": Self.c1, "gpu-west": Self.c2])
        w.step()
        let pin = w.xrs[.deployment("qwen")]?.status["resolved"]
        #expect(pin?["source"] == .string("hf://\(Build.repo)"))
        #expect(pin?["commit"] != nil)
        for _ in 0..<3 {
            let replicas = w.replicas(of: "qwen")
            #expect(replicas.count == 2)
            for (cluster, replica) in replicas {
                #expect(replica.spec["cachePin"] == pin, "\(cluster) carries the deployment's pin")
                // Once a replica reports what it resolved, it is the pinned commit.
                if let resolved = replica.status[path: "cache", "resolved"] {
                    #expect(resolved["commit"] == pin?["commit"], "\(cluster) resolved the pinned commit")
                }
            }
            #expect(w.xrs[.deployment("qwen")]?.status["resolved"] == pin, "the pin stays")
            w.resolved(["gpu-west": Self.c2])
            w.step()
        }
        w.expectNoViolations()
    }

    @Test("A refresh drops the replicas' pin, passes the annotation down, and pins the first commit resolved under it")
    func refresh() {
        var w = World(clusters: [Build.cluster("gpu-east"), Build.cluster("gpu-west")])
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(replicas: 2, workers: Build.workers(pipeline: 2)))
        w.run(until: "both replicas stage their automatic caches") { w in
            let replicas = w.replicas(of: "qwen")
            return replicas.count == 2 && replicas.values.allSatisfy { $0.composed["cache-pvc"] != nil }
        }
        w.resolved(["gpu-east": Self.c1, "gpu-west": Self.c1])
        w.step()
        let before = w.xrs[.deployment("qwen")]?.status["resolved"]
        #expect(before?["commit"] != nil && before?["refresh"] == nil)
        w.xrs[.deployment("qwen")]?.annotations["modelplane.ai/refresh-revision"] = "r1"
        w.step()
        for (cluster, replica) in w.replicas(of: "qwen") {
            #expect(replica.annotations["modelplane.ai/refresh-revision"] == "r1", "\(cluster) is told of the refresh")
        }
        // The replicas resolve again under the refresh; the first commit reported under it is the new pin.
        for _ in 0..<10 where w.xrs[.deployment("qwen")]?.status[path: "resolved", "refresh"] != "r1" {
            #expect(w.xrs[.deployment("qwen")]?.status["resolved"] == before, "the old pin shows until then")
            w.resolved(["gpu-west": Self.c2], refresh: "r1")
            w.step()
        }
        let pin = w.xrs[.deployment("qwen")]?.status["resolved"]
        #expect(pin?["refresh"] == "r1")
        #expect(pin?["epoch"] == .int((before?["epoch"]?.intValue ?? 0) + 1))
        w.step()
        for (cluster, replica) in w.replicas(of: "qwen") {
            #expect(replica.spec["cachePin"] == pin, "\(cluster) carries the new pin")
        }
        w.expectNoViolations()
    }
}

extension World {
    /// Stands in for what each replica's automatic cache writes once its Job's first
    /// report names a commit (`status.cache.resolved`, hydrator.md §2), until the
    /// World's Jobs write reports: written before the next step, the deployments
    /// (reconciled before the replicas) read it. Commits by cluster, resolved under `refresh`.
    mutating func resolved(_ commits: [String: String], refresh: String? = nil) {
        for id in xrs.keys where id.kind == .replica {
            guard let replica = xrs[id], let cluster = replica.spec[path: "inferenceClusterRef", "name"]?.stringValue,
                let commit = commits[cluster]
            else { continue }
            // What the replica wrote itself under the same refresh stands.
            if let own = replica.status[path: "cache", "resolved"], own["refresh"]?.stringValue == refresh { continue }
            var resolved: Value = ["source": .string("hf://\(Build.repo)"), "commit": .string(commit)]
            if let refresh { resolved["refresh"] = .string(refresh) }
            if replica.status.isNull { xrs[id]?.status = [:] }
            if xrs[id]?.status["cache"] == nil { xrs[id]?.status["cache"] = [:] }
            xrs[id]?.status["cache"]?["resolved"] = resolved
        }
    }
}
