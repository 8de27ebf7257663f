import FunctionCore
import Testing

/// Sequences of a cluster's own remote namespace (hydrator.md §5): it applies to caches and
/// replicas created after the change; nothing serving, staged or downloading moves or is deleted
/// because it changed, or changed back. `remoteObjectStays` checks every step that no composed
/// remote object changes namespace.
@Suite struct NamespaceSequenceCases {
    /// The claim of ModelCache `name`.
    static func claim(_ name: String) -> String {
        CacheStaging.claimName(ownerKind: "modelcache", namespace: Build.namespace, name: name)
    }

    /// The claim of the automatic cache of ModelReplica `name`.
    static func automaticClaim(_ name: String) -> String {
        CacheStaging.claimName(ownerKind: "modelreplica", namespace: Build.namespace, name: name)
    }

    /// The remote keys of the claims on `cluster` (`<namespace>/<name>` outside the default namespace).
    static func claims(_ w: World, on cluster: String = "gpu-east") -> [String] {
        (w.remotes[Build.providerConfig(cluster)]?.claims.keys.sorted()) ?? []
    }

    /// The namespace of replica `name`'s workload on `cluster`.
    static func workloadNamespace(_ w: World, _ replica: String, on cluster: String = "gpu-east") -> String? {
        w.remotes[Build.providerConfig(cluster)]?.workloads.values.first { $0.owner == .replica(replica) }
            .map { World.namespace($0.manifest) }
    }

    @Test("A cluster's namespace changed while its replica serves, then changed back: nothing moves; new ones go there")
    func changedWhileServing() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east")])
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "models")
        w.step(3)
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        #expect(Self.claims(w) == [Self.claim("qwen-2-5")], "the claim stays in default")
        #expect(Self.workloadNamespace(w, "qwen-gpu-east") == "default")
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready")

        // A cache and a deployment created after the change go to the cluster's namespace.
        w.add(.cache("large"), spec: Build.cacheSpec(repo: "Qwen/Qwen2.5-1.5B-Instruct"))
        w.add(.deployment("big"), spec: Build.deploymentSpec(cache: "large"))
        w.run(until: "big serves on gpu-east") { $0.readyClusters(of: "big") == ["gpu-east"] }
        #expect(Self.claims(w) == [Self.claim("qwen-2-5"), "models/\(Self.claim("large"))"])
        #expect(Self.workloadNamespace(w, "big-gpu-east") == "models")
        #expect(w.entry(cache: "large", cluster: "gpu-east")?["namespace"] == "models")

        // Changed back: the older cache was never moved, the newer one stays where it was created.
        w.clusters["gpu-east"] = Build.cluster("gpu-east")
        w.step(3)
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"] && w.readyClusters(of: "big") == ["gpu-east"])
        #expect(Self.claims(w) == [Self.claim("qwen-2-5"), "models/\(Self.claim("large"))"])
        #expect(Self.workloadNamespace(w, "big-gpu-east") == "models")
        #expect(w.entry(cache: "large", cluster: "gpu-east")?["namespace"] == "models")
        w.expectNoViolations()
    }

    @Test("A cluster's namespace changed while the first download runs: the Job finishes where it runs, once")
    func changedWhileHydrating() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { _ in .complete(after: 4) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(cache: "qwen-2-5"))
        w.run(until: "the Job downloads") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["progress"] != nil
        }
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "models")
        w.step()
        let message = w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["message"]?.stringValue ?? ""
        #expect(message.contains("stays in namespace default: a claim cannot move"), "\(message)")
        w.clusters["gpu-east"] = Build.cluster("gpu-east")
        w.step()
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "models")
        w.run(until: "the replica serves") { $0.readyClusters(of: "qwen") == ["gpu-east"] }
        #expect(Self.claims(w) == [Self.claim("qwen-2-5")])
        #expect(Self.workloadNamespace(w, "qwen-gpu-east") == "default")
        #expect(w.jobCreations.count == 1 && w.jobCreations.values.allSatisfy { $0 == 1 }, "\(w.jobCreations)")
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready")
        w.expectNoViolations()
    }

    @Test("An automatic cache keeps its namespace when the cluster's changes; a new gang goes to the new one")
    func automaticCache() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(.deployment("gang"), spec: Build.deploymentSpec(workers: Build.workers(pipeline: 2)))
        w.run(until: "the gang serves") { $0.readyClusters(of: "gang") == ["gpu-east"] }
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "models")
        w.step(3)
        #expect(w.readyClusters(of: "gang") == ["gpu-east"])
        #expect(Self.claims(w) == [Self.automaticClaim("gang-gpu-east")])
        #expect(Self.workloadNamespace(w, "gang-gpu-east") == "default")
        let said = conditionOf(w.xrs[.replica("gang-gpu-east")]?.object, "CacheReady")?["message"]?.stringValue
        #expect(said?.contains("stays in namespace default") == true, "\(said ?? "")")

        w.add(.deployment("other"), spec: Build.deploymentSpec(workers: Build.workers(pipeline: 2)))
        w.run(until: "the new gang serves") { $0.readyClusters(of: "other") == ["gpu-east"] }
        #expect(
            Self.claims(w)
                == [Self.automaticClaim("gang-gpu-east"), "models/\(Self.automaticClaim("other-gpu-east"))"]
                .sorted())
        #expect(Self.workloadNamespace(w, "other-gpu-east") == "models")

        w.clusters["gpu-east"] = Build.cluster("gpu-east")
        w.step(3)
        #expect(w.readyClusters(of: "gang") == ["gpu-east"] && w.readyClusters(of: "other") == ["gpu-east"])
        #expect(Self.workloadNamespace(w, "other-gpu-east") == "models")
        w.expectNoViolations()
    }

    @Test("A serving replica switched to a cache whose claim is in another namespace is refused and keeps serving")
    func switchAcrossNamespacesRefused() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east")])
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "models")
        w.add(.cache("large"), spec: Build.cacheSpec(repo: "Qwen/Qwen2.5-1.5B-Instruct"))
        w.run(until: "large is Ready on gpu-east") {
            $0.entry(cache: "large", cluster: "gpu-east")?["phase"] == "Ready"
        }
        w.setSpec(.deployment("qwen"), Build.deploymentSpec(cache: "large"))
        w.step(3)
        let answer = w.responses[.replica("qwen-gpu-east")]
        #expect(answer?.isFatal == true)
        #expect(answer?.results.first?.message.contains("a pod mounts only a claim in its own namespace") == true)
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        #expect(Self.workloadNamespace(w, "qwen-gpu-east") == "default")
        #expect(!w.rollingOut("qwen-gpu-east", on: "gpu-east"))
        w.expectNoViolations()
    }
}
