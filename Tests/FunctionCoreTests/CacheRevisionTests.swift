import Testing

@testable import FunctionCore

/// A replica of a shared ModelCache mounts the revision staged on its cluster,
/// keeps it while an update downloads or fails, and composes a Usage of the cache
/// (lifecycle.md §1, §2, §4).
@Suite struct CacheRevisionTests {
    static let old = "hf://Qwen/Qwen2.5-0.5B-Instruct@v1"
    static let new = "hf://Qwen/Qwen2.5-0.5B-Instruct@v2"

    func run(
        _ phase: String, staged: String?, replica: Value = Workloads.replica(cache: "qwen-2-5"),
        observed: [String: Value] = [:]
    ) -> RunResponse {
        let cache = Workloads.cache(phases: [("gpu-east", phase)], staged: staged.map { ["gpu-east": $0] } ?? [:])
        return Composer().run(
            Fixtures.request(
                replica, required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]],
                observed: observed))
    }

    func subPath(_ r: RunResponse) -> Value? {
        engineOf(manifest(r, "workload")?[path: "spec", "template"])?["volumeMounts"]?.listValue?
            .first { $0["name"] == "model-cache" }?["subPath"]
    }

    /// An observed workload Object as this function composed it from `response`.
    func observedWorkload(_ r: RunResponse, ready: Bool = true) -> Value {
        var o = r.desired.resources["workload"]!.object
        o["status"] = ["conditions": [["type": "Ready", "status": ready ? "True" : "False"]]]
        return o
    }

    struct Step: CustomTestStringConvertible, Sendable {
        let name: String
        let phase: String
        let staged: String?
        let subPath: String?
        let cacheReason: String
        var testDescription: String { name }
    }

    @Test(
        "The pods mount the staged revision read-only; an update in progress or failed keeps the older one",
        arguments: [
            Step(name: "FirstStaging", phase: "Hydrating", staged: nil, subPath: nil, cacheReason: "Hydrating"),
            Step(name: "Staged", phase: "Ready", staged: old, subPath: revisionDirectory(old), cacheReason: "Ready"),
            Step(
                name: "UpdateStarted", phase: "Updating", staged: old, subPath: revisionDirectory(old),
                cacheReason: "Updating"),
            Step(
                name: "UpdateFailed", phase: "Failed", staged: old, subPath: revisionDirectory(old),
                cacheReason: "UpdateFailed"),
            Step(name: "Switched", phase: "Ready", staged: new, subPath: revisionDirectory(new), cacheReason: "Ready"),
        ])
    func steps(_ step: Step) throws {
        let r = run(step.phase, staged: step.staged)
        #expect(!r.isFatal)
        #expect(cond(r, "CacheReady")?.reason == step.cacheReason)
        guard let want = step.subPath else {
            #expect(r.desired.resources.isEmpty, "nothing is composed before something is staged: no pods, no Usage")
            #expect(cond(r, "CacheReady")?.status == .false)
            #expect(cond(r, "WorkloadReady")?.reason == "WaitingForCache")
            return
        }
        #expect(r.desired.resources.keys.sorted() == ["service", "usage-modelcache", "workload"])
        #expect(subPath(r) == .string(want))
        #expect(cond(r, "CacheReady")?.status == .true, "the pods have a complete revision to read")
        #expect(r.desired.composite?.object[path: "status", "cache", "revision"] == .string(want))
        #expect(r.desired.composite?.object[path: "status", "cache", "phase"] == .string(step.phase))
        #expect(r.desired.composite?.object[path: "status", "cache", "staged"] == step.staged.map(Value.string))
        #expect(manifest(r, "usage-modelcache") == nil, "a Usage is a control-plane resource, not an Object")
        #expect(
            r.desired.resources["usage-modelcache"]?.object[path: "metadata", "labels", "modelplane.ai/cache-revision"]
                == .string(want))
    }

    @Test("A switch changes only the revision in the pod template, so Kubernetes rolls the pods")
    func switchRolls() throws {
        let before = run("Updating", staged: Self.old)
        let after = run("Ready", staged: Self.new, observed: ["workload": observedWorkload(before)])
        var a = try #require(manifest(before, "workload"))
        let b = try #require(manifest(after, "workload"))
        #expect(a != b)
        var containers = a[path: "spec", "template", "spec", "containers"]!.listValue!
        var mounts = containers[0]["volumeMounts"]!.listValue!
        mounts[1]["subPath"] = .string(revisionDirectory(Self.new))
        containers[0]["volumeMounts"] = .list(mounts)
        a["spec"]?["template"]?["spec"]?["containers"] = .list(containers)
        #expect(a == b, "nothing else differs")
    }

    @Test(
        "A running workload keeps its revision when the cache's status lost what is staged, and says CacheReady=False"
    )
    func stagedLost() throws {
        let running = run("Ready", staged: Self.old)
        let r = run("Pending", staged: nil, observed: ["workload": observedWorkload(running)])
        #expect(subPath(r) == .string(revisionDirectory(Self.old)))
        #expect(r.desired.resources.keys.sorted() == ["service", "usage-modelcache", "workload"])
        // lifecycle.md §7 rule 3: no staged revision, no CacheReady=True; the workload is kept unchanged.
        #expect(cond(r, "CacheReady")?.status == .false)
        #expect(manifest(r, "workload") == manifest(running, "workload"))
    }

    @Test("The Usage: exact shape of lifecycle.md §4, in the replica's namespace, labels from labelValue")
    func usageShape() throws {
        let r = run("Ready", staged: Self.old)
        let usage = try #require(r.desired.resources["usage-modelcache"]?.object)
        #expect(
            usage == [
                "apiVersion": "protection.crossplane.io/v1beta1", "kind": "Usage",
                "metadata": [
                    "namespace": "ml-team",
                    "labels": [
                        "modelplane.ai/modelcache": "qwen-2-5", "modelplane.ai/cluster": "gpu-east",
                        "modelplane.ai/cache-revision": .string(revisionDirectory(Self.old)),
                    ],
                    "annotations": ["modelplane.ai/cache-revisions": .string(revisionDirectory(Self.old))],
                ],
                "spec": [
                    "of": [
                        "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
                        "resourceRef": ["name": "qwen-2-5"],
                    ],
                    "by": [
                        "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelReplica",
                        "resourceRef": ["name": "qwen-gpu-east"],
                    ],
                    "replayDeletion": true,
                ],
            ])
        #expect(r.desired.resources["usage-modelcache"]?.ready == .notReady)
        let observed = run(
            "Ready", staged: Self.old,
            observed: [
                "usage-modelcache": [
                    "apiVersion": "protection.crossplane.io/v1beta1", "kind": "Usage",
                    "status": ["conditions": [["type": "Ready", "status": "True"]]],
                ]
            ])
        #expect(observed.desired.resources["usage-modelcache"]?.ready == .ready)

        let long = "team-a." + String(repeating: "c", count: 60) + ".cache"  // a valid name, too long for a label
        let cache = Workloads.cache(phases: [("gpu-east", "Ready")], name: long)
        let l = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: long), required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]])
        )
        let labels = l.desired.resources["usage-modelcache"]?.object[path: "metadata", "labels"]
        #expect(labels?["modelplane.ai/modelcache"] == .string(labelValue(long)))
        #expect(labelValue(long).count <= 63)
        #expect(
            l.desired.resources["usage-modelcache"]?.object[path: "spec", "of", "resourceRef", "name"] == .string(long),
            "the reference keeps the real name")
    }

    @Test("No Usage without a shared cache: single-node without one, and the automatic cache")
    func noUsage() throws {
        let plain = Composer().run(
            Fixtures.request(Workloads.replica(), required: ["cluster": [Fixtures.cluster("gpu-east")]]))
        #expect(plain.desired.resources.keys.sorted() == ["service", "workload"])
        let automatic = WorkloadShape.all.first { $0.name == "MultiNodeAutomaticCache" }!.compose()
        #expect(automatic.desired.resources["workload"] != nil)
        #expect(automatic.desired.resources["usage-modelcache"] == nil)
    }

    @Test("A missing cache answer with a running workload is FATAL, so neither the workload nor the Usage is deleted")
    func usageNeverDropped() throws {
        let running = run("Ready", staged: Self.old)
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5"),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": []],
                observed: [
                    "workload": observedWorkload(running),
                    "usage-modelcache": running.desired.resources["usage-modelcache"]!.object,
                ]))
        #expect(r.isFatal)
    }
}
