import Testing

@testable import FunctionCore

/// Consumers, retention, release and the claim fields Kubernetes will not change
/// (lifecycle.md §4), driven through the simulated control loop.
@Suite struct CacheRetentionTests {
    let east = Fixtures.cluster("gpu-east"), west = Fixtures.cluster("gpu-west")
    let v1Dir = Lifecycle.qwen.directory

    /// `v1` staged and Ready on gpu-east and gpu-west, Jobs gone.
    func staged(usages: [Value] = []) -> CacheWorld {
        var w = CacheWorld(clusters: [east, west])
        w.usages = usages
        w.reconcile()
        for c in ["gpu-east", "gpu-west"] { w.finish(c, ("Complete", "Completed", "done")) }
        w.reconcile()
        w.reconcile()
        return w
    }

    func claim(_ r: RunResponse, _ cluster: String) -> Value? { r.desired.resources["pvc-\(cluster)"]?.object }

    @Test(
        "Consumers are counted per cluster from the Usages' labels, in total, and their revisions are kept by pruning")
    func consumersCounted() {
        let long = String(repeating: "gpu-", count: 20) + "x"
        var w = CacheWorld(clusters: [east, west, Fixtures.cluster(long)])
        w.usages = [
            Lifecycle.usage("r1", cluster: "gpu-east", revision: "rev-00000000000a"),
            Lifecycle.usage("r2", cluster: "gpu-east", revision: "rev-00000000000b"),
            Lifecycle.usage("r3", cluster: "gpu-west", revision: "not-a-revision"),
            Lifecycle.usage("r4", cluster: long, revision: "rev-00000000000c"),
            Lifecycle.usage("r5", cluster: "gpu-gone", revision: "rev-00000000000d"),
        ]
        let r = w.reconcile()
        #expect(w.entry("gpu-east")?["consumers"] == 2)
        #expect(w.entry("gpu-west")?["consumers"] == 1)
        #expect(w.entry(long)?["consumers"] == 1, "cluster names longer than a label value match through labelValue")
        #expect(w.status[path: "summary", "consumers"] == 5)
        let keep = { (c: String) in
            manifest(r, "hydrate-\(c)")?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?
                .listValue?.first { $0["name"] == "MODELCACHE_KEEP" }?["value"]
        }
        #expect(keep("gpu-east") == "rev-00000000000a rev-00000000000b")
        #expect(keep("gpu-west") == "", "a label that is not a revision directory never reaches the Job")
    }

    @Test(
        "A deselected cluster whose replicas still use the cache is Retained: its claim stays on its provider config, no Job; released with an event when the last one goes"
    )
    func retainedThenReleased() {
        var w = staged(usages: [Lifecycle.usage("r1", cluster: "gpu-west", revision: Lifecycle.qwen.directory)])
        let before = claim(w.reconcile(), "gpu-west")
        w.clusters = [east]
        let retained = w.reconcile()
        #expect(claim(retained, "gpu-west") == before, "the claim is sent exactly as before")
        #expect(claim(retained, "gpu-west")?[path: "spec", "providerConfigRef", "name"] == "pc-gpu-west")
        #expect(retained.desired.resources["hydrate-gpu-west"] == nil)
        #expect(w.entry("gpu-west")?["phase"] == "Retained")
        #expect(w.entry("gpu-west")?["staged"] == .string(Lifecycle.pinned()))
        let message =
            "InferenceCluster gpu-west is no longer selected; keeping claim modelcache-ml-team-qwen-2-5-b6b9a on "
            + "gpu-west while 1 replica uses it"
        #expect(w.entry("gpu-west")?["message"] == .string(message))
        #expect(retained.results.map(\.message) == [message])
        #expect(retained.desired.composite?.ready == .ready, "the matched clusters are all Ready")
        #expect(w.status[path: "summary", "ready"] == "1/1")
        #expect(w.reconcile().results.isEmpty, "no repeated event")

        // One answer without the Usage keeps the claim one more reconcile (an answer may come back short once).
        w.usages = []
        let graced = w.reconcile()
        #expect(claim(graced, "gpu-west") != nil)
        #expect(w.entry("gpu-west")?["phase"] == "Retained")
        #expect(w.entry("gpu-west")?["consumers"] == 0)
        #expect(graced.results.isEmpty)
        let released = w.reconcile()
        #expect(claim(released, "gpu-west") == nil)
        #expect(w.entry("gpu-west") == nil)
        #expect(
            released.results.map(\.message) == ["Released cache ml-team/qwen-2-5 on gpu-west: no replica there uses it"]
        )
        #expect(w.reconcile().results.isEmpty)
    }

    @Test(
        "Nothing running is lost: an answer that briefly lacks every cluster keeps the claims replicas use, and a blank provider config keeps the claim"
    )
    func flaps() {
        var w = staged(usages: [
            Lifecycle.usage("r1", cluster: "gpu-east", revision: v1Dir),
            Lifecycle.usage("r2", cluster: "gpu-west", revision: v1Dir),
        ])
        let before = w.composed
        w.clusters = []
        let empty = w.reconcile()
        #expect(empty.desired.resources.keys.sorted() == ["pvc-gpu-east", "pvc-gpu-west"])
        #expect(w.composed == before)
        #expect(cond(empty, "ClustersMatched")?.reason == "NoClusters")
        w.clusters = [east, west]
        w.reconcile()
        #expect(w.entry("gpu-east")?["phase"] == "Ready", "back to Ready: the latch survived")

        var blank = east
        blank["status"]?["providerConfigRef"] = ["name": ""]
        w.clusters = [blank, west]
        let r = w.reconcile()
        #expect(claim(r, "gpu-east") == before["pvc-gpu-east"])
        #expect(
            w.entry("gpu-east")?["phase"] == "Ready", "a blank provider config keeps the previous phase (§7 rule 7)")
        #expect(
            w.entry("gpu-east")?["message"]
                == .string(
                    "Waiting for InferenceCluster gpu-east to report status.providerConfigRef.name; claim "
                        + "modelcache-ml-team-qwen-2-5-b6b9a is kept as it is"))
        #expect(w.entry("gpu-east")?["staged"] == .string(Lifecycle.pinned()))
    }

    @Test(
        "A cluster that no longer declares rwxCache: Retained while used, otherwise released and not matched (not Failed)",
        arguments: [true, false])
    func rwxRemoved(_ used: Bool) {
        var w = staged(usages: used ? [Lifecycle.usage("r1", cluster: "gpu-west", revision: v1Dir)] : [])
        w.clusters = [east, Fixtures.cluster("gpu-west", rwx: nil)]
        let r = w.reconcile()
        if used {
            #expect(w.entry("gpu-west")?["phase"] == "Retained")
            #expect(
                w.entry("gpu-west")?["message"]?.stringValue?.hasPrefix(
                    "InferenceCluster gpu-west declares no spec.storage.rwxCache; keeping claim") == true)
            #expect(claim(r, "gpu-west") != nil)
        } else {
            #expect(w.entry("gpu-west") == nil, "released on purpose: not matched, not Failed (§7 rule 7)")
            #expect(w.status[path: "summary", "ready"] == "1/1")
            #expect(claim(r, "gpu-west") == nil)
            #expect(
                r.results.contains {
                    $0.message == "Released cache ml-team/qwen-2-5 on gpu-west: no replica there uses it"
                })
            w.reconcile()
            #expect(w.entry("gpu-west") == nil, "still not matched once the claim is gone")
        }
    }

    @Test(
        "Size grows by expanding the claim; a shrink keeps the current size with a message and one Warning",
        arguments: [(500, "500Gi", false), (100, "300Gi", true), (300, "300Gi", false)])
    func resize(_ size: Int64, _ sent: String, _ refused: Bool) {
        var w = staged()
        w.spec = with(Fixtures.defaultSpec, "storage", ["sizeGiB": .int(size)])
        let r = w.reconcile()
        #expect(manifest(r, "pvc-gpu-east")?[path: "spec", "resources", "requests", "storage"] == .string(sent))
        #expect(r.desired.resources["hydrate-gpu-east"] == nil, "a resize does not restage")
        #expect(w.entry("gpu-east")?["phase"] == "Ready")
        let note = "Claim modelcache-ml-team-qwen-2-5-b6b9a on gpu-east keeps 300Gi: a claim cannot shrink to 100Gi"
        if refused {
            #expect(w.entry("gpu-east")?["message"] == .string(note))
            #expect(
                r.results.filter { $0.severity == .warning }.map(\.message)
                    == [note, note.replacingOccurrences(of: "gpu-east", with: "gpu-west")])
            #expect(w.reconcile().results.isEmpty, "one Warning, on the transition only")
        } else {
            #expect(w.entry("gpu-east")?["message"] == nil)
            #expect(r.results.isEmpty)
        }
    }

    @Test("A changed rwxCache storage class keeps the existing claim's class, with a message and one Warning")
    func classChange() {
        var w = staged()
        w.clusters = [Fixtures.cluster("gpu-east", rwx: ["storageClassName": "new-rwx", "defaultSizeGiB": 300]), west]
        let r = w.reconcile()
        #expect(manifest(r, "pvc-gpu-east")?[path: "spec", "storageClassName"] == "fast-rwx")
        let note =
            "Claim modelcache-ml-team-qwen-2-5-b6b9a on gpu-east keeps storage class fast-rwx: a claim's class "
            + "cannot change; new-rwx applies to claims created later"
        #expect(w.entry("gpu-east")?["message"] == .string(note))
        #expect(r.results.map(\.message) == [note])
        #expect(w.reconcile().results.isEmpty)
        #expect(manifest(w.reconcile(), "pvc-gpu-west")?[path: "spec", "storageClassName"] == "fast-rwx")
    }

    @Test("A disk-full failure is retried by raising the size: the bigger claim gets a new Job")
    func diskFullThenGrow() {
        var w = staged()
        w.spec = with(
            with(
                Fixtures.defaultSpec, "artifact",
                ["source": ["huggingFace": ["repo": "Qwen/Qwen2.5-0.5B-Instruct", "revision": "v2"]]]),
            "storage", ["sizeGiB": 300])
        w.reconcile()
        let failedJob = w.jobName("gpu-east")
        w.finish("gpu-east", Lifecycle.failedWith(exitCode: 11))
        w.reconcile()
        #expect(w.entry("gpu-east")?["phase"] == "Failed")
        w.spec = with(w.spec, "storage", ["sizeGiB": 600])
        let r = w.reconcile()
        #expect(w.jobName("gpu-east") != failedJob)
        #expect(w.entry("gpu-east")?["phase"] == "Updating")
        #expect(manifest(r, "pvc-gpu-east")?[path: "spec", "resources", "requests", "storage"] == "600Gi")
    }

    @Test("A cache name longer than a label value is written and selected through labelValue")
    func longName() {
        let name = String(repeating: "qwen-", count: 14) + "x"
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(name: name), clusters: [east]))
        let value = labelValue(name)
        #expect(value != name && isLabelValue(value))
        #expect(r.requirements?.resources["consumers"]?.match == .labels(["modelplane.ai/modelcache": value]))
        for key in ["pvc-gpu-east", "hydrate-sa-gpu-east"] {
            let labels = manifest(r, key)?[path: "metadata", "labels"]?.objectValue ?? [:]
            #expect(labels["modelplane.ai/modelcache"] == .string(value))
            #expect(labels.allSatisfy { isLabelValue($0.value.stringValue ?? "") }, "every label value is valid")
        }
    }

    @Test("Another step's resource under a pvc- key is neither retained nor released")
    func foreignKey() {
        let w = staged(usages: [Lifecycle.usage("r1", cluster: "other", revision: v1Dir)])
        let foreign: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x"]]
        let r = Composer().run(
            Fixtures.request(
                w.xr, clusters: [east, west], required: ["consumers": w.usages],
                observed: w.observed.merging(["pvc-other": foreign]) { $1 }))
        #expect(r.desired.resources["pvc-other"] == nil)
        #expect(!r.results.contains { $0.reason == "Released" || $0.reason == "Retained" })
    }
}
