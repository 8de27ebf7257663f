import FunctionCore
import Testing

/// Review of a cluster's own remote namespace (hydrator.md §5) over sequences: status lost or
/// edited, the function input's namespace changed, clusters flapping. Nothing composed moves
/// (`remoteObjectStays`), and nothing a pod mounts is lost.
@Suite struct NamespaceReviewCases {
    typealias N = NamespaceSequenceCases

    /// The function input setting `hydration.namespace` to `namespace`.
    static func input(_ namespace: String) -> Value {
        ["apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "hydration": ["namespace": .string(namespace)]]
    }

    /// `status` of cache `name` edited by `edit`, as a status written by an older XRD or by hand.
    static func editStatus(_ w: inout World, cache name: String, _ edit: (inout Value) -> Void) {
        guard var status = w.xrs[.cache(name)]?.status else { return }
        edit(&status)
        w.xrs[.cache(name)]?.status = status
    }

    /// Removes every entry's `namespace` (and, with `summary`, `status.remoteNamespace`).
    static func dropNamespaces(_ status: inout Value, remoteNamespace: Bool = true) {
        if remoteNamespace { status["remoteNamespace"] = nil }
        status["clusters"] = .list(
            (status["clusters"]?.listValue ?? []).map { entry in
                var e = entry
                e["namespace"] = nil
                return e
            })
    }

    /// Sets cluster `cluster`'s entry `namespace`.
    static func setEntryNamespace(_ status: inout Value, _ cluster: String, _ namespace: String) {
        status["clusters"] = .list(
            (status["clusters"]?.listValue ?? []).map { entry in
                var e = entry
                if e["name"]?.stringValue == cluster { e["namespace"] = .string(namespace) }
                return e
            })
    }

    @Test("Status without its namespaces (an older XRD prunes them) while the claim hydrates elsewhere")
    func statusNamespacesPrunedWhileHydrating() {
        var w = World(clusters: [Build.cluster("gpu-east", namespace: "models")])
        w.hydration = { _ in .complete(after: 3) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.step()
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        Self.editStatus(&w, cache: "qwen-2-5") { Self.dropNamespaces(&$0) }
        w.step()
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        w.expectNone(.remoteObjectStays)
        w.expectNoOtherViolations()
    }

    @Test("Entries stripped of their namespaces by hand, status.remoteNamespace kept: the count gives it away")
    func entryNamespacesStrippedRemoteKept() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east", namespace: "models")])
        #expect(w.xrs[.cache("qwen-2-5")]?.status["clustersElsewhere"] == 1)
        Self.editStatus(&w, cache: "qwen-2-5") { Self.dropNamespaces(&$0, remoteNamespace: false) }
        w.step(2)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        #expect(N.workloadNamespace(w, "qwen-gpu-east") == "models")
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        #expect(w.xrs[.cache("qwen-2-5")]?.status["clustersElsewhere"] == 1, "written again")
        w.expectNoViolations()
    }

    @Test("Status without its namespaces while a replica serves from a claim elsewhere")
    func statusNamespacesPrunedWhileReady() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east", namespace: "models")])
        Self.editStatus(&w, cache: "qwen-2-5") { Self.dropNamespaces(&$0) }
        w.step(2)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        w.expectNone(.remoteObjectStays)
        #expect(N.workloadNamespace(w, "qwen-gpu-east") == "models")
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        w.expectNoOtherViolations()
    }

    @Test("Status with status.remoteNamespace removed by hand while a claim is elsewhere")
    func remoteNamespaceRemoved() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east", namespace: "models")])
        Self.editStatus(&w, cache: "qwen-2-5") { $0["remoteNamespace"] = nil }
        w.step(2)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        w.expectNone(.remoteObjectStays)
        w.expectNoOtherViolations()
    }

    @Test("An entry edited to name another valid namespace than the claim's")
    func entryNamesAnotherNamespace() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east", namespace: "models")])
        Self.editStatus(&w, cache: "qwen-2-5") { Self.setEntryNamespace(&$0, "gpu-east", "elsewhere") }
        w.step(2)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        w.expectNoViolations()
    }

    @Test("An entry edited to a namespace that is not a DNS label; the status lost altogether")
    func entryGarbageAndStatusLost() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east", namespace: "models")])
        Self.editStatus(&w, cache: "qwen-2-5") { Self.setEntryNamespace(&$0, "gpu-east", "Not_A_Label") }
        w.step(2)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        w.xrs[.cache("qwen-2-5")]?.status = .null
        w.clusters["gpu-east"] = Build.cluster("gpu-east")
        w.step(3)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        w.expectNoViolations()
    }

    @Test("The input namespace changed while serving, then back; new replicas go beside the claim")
    func inputNamespaceChanged() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east")])
        w.input = { _ in Self.input("serving") }
        w.step(2)
        #expect(N.claims(w) == [N.claim("qwen-2-5")])
        w.add(.deployment("more"), spec: Build.deploymentSpec(cache: "qwen-2-5"))
        w.run(until: "more serves") { $0.readyClusters(of: "more") == ["gpu-east"] }
        #expect(N.workloadNamespace(w, "more-gpu-east") == "default")
        w.add(.cache("large"), spec: Build.cacheSpec(repo: "Qwen/Qwen2.5-1.5B-Instruct"))
        w.add(.deployment("big"), spec: Build.deploymentSpec(cache: "large"))
        w.run(until: "big serves") { $0.readyClusters(of: "big") == ["gpu-east"] }
        #expect(N.claims(w) == [N.claim("qwen-2-5"), "serving/\(N.claim("large"))"])
        w.input = { _ in nil }
        w.step(3)
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"] && w.readyClusters(of: "big") == ["gpu-east"])
        #expect(w.readyClusters(of: "more") == ["gpu-east"])
        w.expectNoViolations()
    }

    @Test("A replica reconciled before its cache after the input namespace changed goes beside the claim")
    func replicaBeforeCacheAfterInputChange() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "the cache is Ready") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready" }
        // The Composition's input changes; the new replica is reconciled before the cache is.
        w.input = { _ in Self.input("serving") }
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.reconcile(.replica("solo"))
        w.run(until: "the replica serves") { $0.xrs[.replica("solo")]?.isReady == true }
        #expect(N.workloadNamespace(w, "solo") == "default")
        w.expectNoViolations()
    }

    @Test("A new replica whose own input names another namespace goes beside the claim its cache's status names")
    func cacheStatusSaysItsNamespace() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east")])
        // Only the replicas' Composition changes its input: the cache's status still says default.
        w.input = { id in id.kind == .replica ? Self.input("serving") : nil }
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.run(until: "solo serves") { $0.xrs[.replica("solo")]?.isReady == true }
        #expect(w.xrs[.cache("qwen-2-5")]?.status["remoteNamespace"] == "default")
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        #expect(N.workloadNamespace(w, "qwen-gpu-east") == "default")
        #expect(N.workloadNamespace(w, "solo") == "default", "beside the claim, not in its input's namespace")
        w.expectNoViolations()
    }

    @Test("A cluster's namespace flapping while a new cache's first claim is created and hydrates")
    func flappingWhileNew() {
        var w = World(clusters: [Build.cluster("gpu-east", namespace: "models")])
        w.hydration = { _ in .complete(after: 3) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(cache: "qwen-2-5"))
        w.step()
        for ns in ["other", nil, "models", "third", nil] as [String?] {
            w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: ns)
            w.step()
        }
        w.run(until: "qwen serves") { $0.readyClusters(of: "qwen") == ["gpu-east"] }
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        #expect(N.workloadNamespace(w, "qwen-gpu-east") == "models")
        #expect(w.jobCreations.values.allSatisfy { $0 == 1 }, "\(w.jobCreations)")
        w.expectNoViolations()
    }

    @Test("A cluster deselected while serving (Retained), its namespace changed, then reselected")
    func deselectedReselected() {
        var w = World.servingDeployment(
            clusters: [Build.cluster("gpu-east", labels: ["tier": "a"], namespace: "models")])
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec(selector: ["tier": "b"]))
        w.step(2)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Retained")
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["namespace"] == "models")
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["tier": "a"], namespace: "other")
        w.step()
        w.setSpec(.cache("qwen-2-5"), Build.cacheSpec())
        w.step(3)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready")
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        w.expectNoViolations()
    }

    @Test("The claim deleted on the cluster while Ready elsewhere is created again where it was")
    func claimDeletedExternally() {
        var w = World(clusters: [Build.cluster("gpu-east", namespace: "models")])
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "Ready") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready" }
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "other")
        w.remotes[Build.providerConfig("gpu-east")]?.claims["models/\(N.claim("qwen-2-5"))"] = nil
        w.step(4)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        w.expectNoViolations()
    }

    @Test(
        "A volume cache serving from the user's claim: the cluster's namespace set, then the cache deselected and back")
    func volumeSourceKeepsNamespace() {
        typealias V = VolumeSequenceCases
        var w = V.world(["gpu-east"])
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["pool": "serving"])
        w.add(.cache("weights"), spec: V.spec)
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "weights"))
        w.run(until: "the replica serves from the user's claim") { $0.xrs[.replica("solo")]?.isReady == true }
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["pool": "serving"], namespace: "models")
        w.step(3)
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: [:], namespace: "models")
        w.step(2)
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["pool": "serving"], namespace: "models")
        w.step(3)
        #expect(w.xrs[.replica("solo")]?.isReady == true)
        #expect(N.workloadNamespace(w, "solo") == "default")
        V.expectClaimsUntouched(w)
        w.expectNoViolations()
    }

    @Test("A cluster with its own namespace flapping: missing from one answer, provider config blank, rwxCache gone")
    func clusterFlapping() {
        var w = World.servingDeployment(clusters: [Build.cluster("gpu-east", namespace: "models")])
        let flap = w.step + 1
        w.answerEdit = { step, _, key, items in
            step == flap && (key == "clusters" || key == "cluster")
                ? items.filter { $0[path: "metadata", "name"]?.stringValue != "gpu-east" } : items
        }
        w.step(2)
        var blank = Build.cluster("gpu-east", namespace: "other")
        blank["status"]?["providerConfigRef"] = nil
        w.clusters["gpu-east"] = blank
        w.step()
        w.clusters["gpu-east"] = Build.cluster("gpu-east", rwx: false)
        w.step(2)
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "other")
        w.step(3)
        #expect(N.claims(w) == ["models/\(N.claim("qwen-2-5"))"])
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["namespace"] == "models")
        #expect(w.readyClusters(of: "qwen") == ["gpu-east"])
        w.expectNoViolations()
    }

    @Test("While the first download runs: the input's and the cluster's namespace changed together, status lost")
    func everythingChangesAtOnce() {
        var w = World(clusters: [Build.cluster("gpu-east", namespace: "models"), Build.cluster("gpu-west")])
        w.hydration = { _ in .complete(after: 4) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.deployment("qwen"), spec: Build.deploymentSpec(cache: "qwen-2-5", selector: [:]))
        w.run(until: "the Jobs download") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["progress"] != nil }
        w.input = { _ in Self.input("serving") }
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "other")
        w.xrs[.cache("qwen-2-5")]?.status = .null
        w.step()
        w.input = { _ in nil }
        w.step()
        w.input = { _ in Self.input("serving") }
        w.run(until: "the cache is Ready on both") { w in
            ["gpu-east", "gpu-west"].allSatisfy { w.entry(cache: "qwen-2-5", cluster: $0)?["phase"] == "Ready" }
        }
        w.run(until: "the replica serves") { $0.readyClusters(of: "qwen").count == 1 }
        #expect(N.claims(w, on: "gpu-east") == ["models/\(N.claim("qwen-2-5"))"])
        #expect(N.claims(w, on: "gpu-west") == [N.claim("qwen-2-5")])
        #expect(w.jobCreations.values.allSatisfy { $0 == 1 }, "\(w.jobCreations)")
        w.expectNoViolations()
    }

    @Test("A gang's automatic cache: the cluster's namespace changed, then the gang grows from one node")
    func singleNodeBecomesGang() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(.deployment("gang"), spec: Build.deploymentSpec())
        w.run(until: "it serves") { $0.readyClusters(of: "gang") == ["gpu-east"] }
        w.clusters["gpu-east"] = Build.cluster("gpu-east", namespace: "models")
        w.step()
        w.setSpec(.deployment("gang"), Build.deploymentSpec(workers: Build.workers(pipeline: 2)))
        w.step(8)
        #expect(N.workloadNamespace(w, "gang-gpu-east") == "default")
        #expect(N.claims(w) == [N.automaticClaim("gang-gpu-east")])
        w.expectNoViolations()
    }
}
