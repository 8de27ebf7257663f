import Testing

@testable import FunctionCore

func engineOf(_ template: Value?) -> Value? {
    template?[path: "spec", "containers"]?.listValue?.first { $0["name"] == "engine" }
}

@Suite struct ModelDeploymentTests {
    let compose = Composer()

    @Test(
        "modelCacheRef is copied verbatim; the cache is required in the deployment's namespace; its selector is merged")
    func cacheRef() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(cache: "qwen-2-5", selector: ["region": "us"]),
                required: [
                    "cache": [
                        Workloads.cache(
                            phases: [("gpu-a", "Ready"), ("gpu-b", "Hydrating")], selector: ["gpu": "h100"])
                    ],
                    "clusters": [Fixtures.cluster("gpu-a"), Fixtures.cluster("gpu-b"), Fixtures.cluster("gpu-c")],
                ]))
        #expect(
            r.requirements?.resources["cache"]
                == ResourceSelector(
                    apiVersion: "modelplane.ai/v1alpha1", kind: "ModelCache",
                    match: .name("qwen-2-5"), namespace: "ml-team"))
        #expect(r.requirements?.resources["clusters"]?.match == .labels(["region": "us", "gpu": "h100"]))
        #expect(
            r.desired.resources.keys.sorted() == ["replica-gpu-a", "replica-gpu-b"], "gpu-c is not listed by the cache")
        let replica = r.desired.resources["replica-gpu-a"]?.object
        #expect(replica?[path: "spec", "modelCacheRef"] == ["name": "qwen-2-5"])
        #expect(replica?[path: "spec", "workers"] == Workloads.workers())
        #expect(
            replica?[path: "metadata", "labels"] == [
                "modelplane.ai/deployment": "qwen", "modelplane.ai/cluster": "gpu-a",
                "modelplane.ai/modelcache": "qwen-2-5",
            ])
        #expect(cond(r, "ModelCacheResolved")?.reason == "Resolved")
    }

    @Test("Conflicting selectors: no new placement, SelectorConflict names the key")
    func conflict() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(cache: "qwen-2-5", selector: ["gpu": "a100"]),
                required: [
                    "cache": [Workloads.cache(phases: [("gpu-a", "Ready")], selector: ["gpu": "h100"])],
                    "clusters": [Fixtures.cluster("gpu-a")],
                ],
                observed: ["replica-old": Workloads.observedReplica("old")]))
        #expect(cond(r, "ReplicasScheduled")?.reason == "SelectorConflict")
        #expect(cond(r, "ReplicasScheduled")?.message?.contains(#""gpu""#) == true)
        #expect(r.desired.resources.keys.sorted() == ["replica-old"], "existing replica kept, nothing new")
        #expect(r.requirements?.resources["clusters"]?.match == .labels(["gpu": "a100"]), "never silently overridden")
    }

    @Test("Cache not yet answered: Unresolved, nothing new placed, existing kept")
    func unresolved() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(cache: "qwen-2-5"), observed: ["replica-gpu-a": Workloads.observedReplica("gpu-a")]
            ))
        #expect(cond(r, "ModelCacheResolved")?.reason == "Unresolved")
        #expect(r.desired.resources.keys.sorted() == ["replica-gpu-a"])
    }

    @Test("Cache absent: NotFound, existing replicas kept, Warning once")
    func notFound() {
        let req = Fixtures.request(
            Workloads.deployment(cache: "qwen-2-5"),
            required: ["cache": [], "clusters": [Fixtures.cluster("gpu-a"), Fixtures.cluster("gpu-b")]],
            observed: ["replica-gpu-a": Workloads.observedReplica("gpu-a")])
        let r = compose.run(req)
        #expect(cond(r, "ModelCacheResolved")?.reason == "NotFound")
        #expect(r.desired.resources.keys.sorted() == ["replica-gpu-a"])
        #expect(r.results.map(\.severity) == [.warning])
        let again = compose.run(
            Fixtures.request(
                Workloads.deployment(
                    cache: "qwen-2-5",
                    status: ["conditions": [["type": "ModelCacheResolved", "status": "False", "reason": "NotFound"]]]),
                required: ["cache": [], "clusters": [Fixtures.cluster("gpu-a")]],
                observed: ["replica-gpu-a": Workloads.observedReplica("gpu-a")]))
        #expect(again.results.isEmpty, "no second warning")
    }

    @Test("A cluster the cache lists as Failed, or does not list, is not eligible")
    func cacheEligibility() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 3, cache: "qwen-2-5"),
                required: [
                    "cache": [Workloads.cache(phases: [("a", "Failed"), ("b", "Pending")])],
                    "clusters": [Fixtures.cluster("a"), Fixtures.cluster("b"), Fixtures.cluster("c")],
                ]))
        #expect(r.desired.resources.keys.sorted() == ["replica-b"])
        #expect(cond(r, "ReplicasScheduled")?.reason == "PartiallyScheduled")
    }

    @Test("Multi-node without a cache only goes to clusters with rwxCache; none qualifying says so")
    func multiNodeRWX() {
        let multi = Workloads.workers(pipeline: 2)
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(workers: multi),
                required: ["clusters": [Fixtures.cluster("a", rwx: nil), Fixtures.cluster("b")]]))
        #expect(r.desired.resources.keys.sorted() == ["replica-b"])
        let none = compose.run(
            Fixtures.request(
                Workloads.deployment(workers: multi), required: ["clusters": [Fixtures.cluster("a", rwx: nil)]]))
        #expect(none.desired.resources.isEmpty)
        #expect(cond(none, "ReplicasScheduled")?.message?.contains("declares spec.storage.rwxCache") == true)
    }

    @Test("Placement is stable: existing first, then by name, one per cluster, up to replicas; status counts ready")
    func placement() {
        let r = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 2),
                required: ["clusters": [Fixtures.cluster("a"), Fixtures.cluster("b"), Fixtures.cluster("z")]],
                observed: ["replica-z": Workloads.observedReplica("z", ready: true)]))
        #expect(r.desired.resources.keys.sorted() == ["replica-a", "replica-z"])
        #expect(r.desired.composite?.object[path: "status", "replicas"] == ["total": 2, "ready": 1])
        #expect(r.desired.composite?.ready == .notReady)
        #expect(r.desired.resources["replica-z"]?.ready == .ready)
        let allReady = compose.run(
            Fixtures.request(
                Workloads.deployment(replicas: 1), required: ["clusters": [Fixtures.cluster("a")]],
                observed: ["replica-a": Workloads.observedReplica("a", ready: true)]))
        #expect(allReady.desired.composite?.ready == .ready)
        #expect(cond(allReady, "ReplicasReady")?.status == .true)
    }

    @Test(
        "Invalid deployments are FATAL naming the field",
        arguments: [
            ("spec.replicas", Workloads.deployment(replicas: 11)),
            (
                "spec.workers.topology.tensor",
                Workloads.deployment(workers: [
                    "topology": [:], "template": ["spec": ["containers": [["name": "engine", "image": "x"]]]],
                ])
            ),
            (
                "spec.workers.template.spec.containers",
                Workloads.deployment(workers: [
                    "topology": ["tensor": 1],
                    "template": ["spec": ["containers": [["name": "sidecar", "image": "x"]]]],
                ])
            ),
        ])
    func invalid(_ field: String, _ xr: Value) {
        let r = compose.run(Fixtures.request(xr))
        #expect(r.isFatal)
        #expect(r.results.first?.message.contains(field) == true, "\(r.results.map(\.message))")
    }
}

@Suite struct ModelReplicaTests {
    let compose = Composer()
    let cacheReady = Workloads.cache(phases: [("gpu-east", "Ready")])

    func workload(_ r: RunResponse) -> Value? { manifest(r, "workload") }

    @Test(
        "Shared cache: the claim is mounted at the cache's path in the engine, --model added, GPUs, /dev/shm, sidecars kept"
    )
    func sharedSingleNode() throws {
        let r = compose.run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(args: ["--port=8000"])),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cacheReady]]))
        let w = try #require(workload(r))
        #expect(w["kind"] == "Deployment")
        #expect(w[path: "spec", "replicas"] == 2)
        let template = w[path: "spec", "template"]
        let engine = try #require(engineOf(template))
        #expect(engine["args"] == ["--port=8000", "--model=/models/qwen"])
        #expect(engine[path: "resources", "limits", "nvidia.com/gpu"] == 4)
        #expect(
            engine["volumeMounts"] == [
                ["name": "dshm", "mountPath": "/dev/shm"],
                [
                    "name": "model-cache", "mountPath": "/models/qwen", "readOnly": true,
                    "subPath": .string(revisionDirectory(Workloads.source)),
                ],
            ])
        #expect(
            template?[path: "spec", "volumes"] == [
                ["name": "dshm", "emptyDir": ["medium": "Memory"]],
                ["name": "model-cache", "persistentVolumeClaim": ["claimName": "modelcache-ml-team-qwen-2-5-b6b9a"]],
            ])
        #expect(template?[path: "spec", "containers"]?.listValue?.count == 2)
        #expect(
            template?[path: "spec", "containers"]?.listValue?.last == [
                "name": "metrics", "image": "prom/exporter:1", "env": [["name": "X", "value": "1"]],
            ])
        #expect(template?[path: "spec", "imagePullSecrets"] == [["name": "regcred"]])
        #expect(template?[path: "metadata", "labels", "team"] == "ml")
        #expect(template?[path: "metadata", "annotations"] == ["note": "keep"])
        #expect(manifest(r, "service")?[path: "spec", "ports"]?.listValue?.first?["port"] == 8000)
        #expect(
            r.desired.composite?.object[path: "status", "cache"] == [
                "volume": "modelcache-ml-team-qwen-2-5-b6b9a", "mountPath": "/models/qwen",
                "phase": "Ready", "revision": .string(revisionDirectory(Workloads.source)),
                "staged": .string(Workloads.source), "revisions": [.string(revisionDirectory(Workloads.source))],
            ])
        #expect(cond(r, "CacheReady")?.status == .true)
    }

    @Test("--model is not added when the engine has a command; a --model elsewhere warns once")
    func modelArguments() throws {
        let withCommand = compose.run(
            Fixtures.request(
                Workloads.replica(
                    cache: "qwen-2-5", workers: Workloads.workers(args: [], command: ["python3", "serve.py"])),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cacheReady]]))
        #expect(engineOf(workload(withCommand)?[path: "spec", "template"])?["args"] == [])
        let elsewhere = compose.run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(args: ["--model", "/other"])),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cacheReady]]))
        #expect(engineOf(workload(elsewhere)?[path: "spec", "template"])?["args"] == ["--model", "/other"])
        #expect(elsewhere.results.map(\.reason) == ["CacheUnused"])
        let again = compose.run(
            Fixtures.request(
                Workloads.replica(
                    cache: "qwen-2-5", workers: Workloads.workers(args: ["--model", "/other"]),
                    status: ["conditions": [["type": "CacheUsed", "status": "False", "reason": "ModelElsewhere"]]]),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cacheReady]]))
        #expect(again.results.isEmpty)
    }

    @Test(
        "Multi-node shared cache: both LeaderWorkerSet templates mount the staged revision read-only; only the leader gets --model"
    )
    func sharedMultiNode() throws {
        let r = compose.run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(pipeline: 2, args: [])),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cacheReady]]))
        let w = try #require(workload(r))
        #expect(w["apiVersion"] == "leaderworkerset.x-k8s.io/v1")
        #expect(w[path: "spec", "leaderWorkerTemplate", "size"] == 2)
        #expect(w[path: "spec", "replicas"] == 2)
        let leader = engineOf(w[path: "spec", "leaderWorkerTemplate", "leaderTemplate"])
        let worker = engineOf(w[path: "spec", "leaderWorkerTemplate", "workerTemplate"])
        for e in [leader, worker] {
            #expect(
                e?["volumeMounts"]?.listValue?.contains([
                    "name": "model-cache", "mountPath": "/models/qwen", "readOnly": true,
                    "subPath": .string(revisionDirectory(Workloads.source)),
                ]) == true)
        }
        #expect(leader?["args"] == ["--model=/models/qwen", "--tensor-parallel-size=4", "--pipeline-parallel-size=2"])
        #expect(worker?["args"] == nil, "workers only join the Ray head")
    }

    @Test("The workload waits until the cache is Ready on this cluster, then stays composed if the phase drops")
    func gating() {
        let hydrating = Workloads.cache(phases: [("gpu-east", "Hydrating")])
        let waiting = compose.run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5"),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [hydrating]]))
        #expect(waiting.desired.resources.isEmpty)
        #expect(cond(waiting, "CacheReady")?.reason == "Hydrating")
        #expect(cond(waiting, "WorkloadReady")?.reason == "WaitingForCache")
        let running = compose.run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5"),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [hydrating]],
                observed: ["workload": Fixtures.observedObject(["kind": "Deployment"], ready: true)]))
        #expect(running.desired.resources.keys.sorted() == ["service", "usage-modelcache", "workload"])
        #expect(cond(running, "CacheReady")?.reason == "Hydrating")
        #expect(running.desired.composite?.ready == .ready)
    }

    @Test(
        "Automatic cache: own claim and Job from the cluster's rwxCache, then --model=/mnt/models and --served-model-name"
    )
    func automatic() throws {
        let workers = Workloads.workers(
            pipeline: 2, args: ["--model", "Qwen/Qwen2.5-7B-Instruct", "--tensor-parallel-size=4"],
            env: [["name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": "hf", "key": "token"]]]])
        let first = compose.run(
            Fixtures.request(
                Workloads.replica(workers: workers), required: ["cluster": [Fixtures.cluster("gpu-east")]],
                observed: ["cache-hydrate-sa": Lifecycle.readyAccount])
        )
        #expect(
            first.desired.resources.keys.sorted()
                == (["cache-hydrate", "cache-pvc"] + Lifecycle.automaticReportKeys).sorted(),
            "workload waits for the cache")
        let claim = manifest(first, "cache-pvc")
        #expect(claim?[path: "spec", "storageClassName"] == "fast-rwx")
        #expect(claim?[path: "spec", "resources", "requests", "storage"] == "300Gi")
        #expect(claim?[path: "metadata", "name"] == .string(childName("modelreplica", "ml-team", "qwen-gpu-east")))
        let job = manifest(first, "cache-hydrate")
        let env = job?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]
        #expect(env?.listValue?.first == ["name": "MODELCACHE_SOURCE", "value": "hf://Qwen/Qwen2.5-7B-Instruct"])
        #expect(
            env?.listValue?.last == [
                "name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": "hf", "key": "token"]],
            ])
        #expect(cond(first, "CacheReady")?.reason == "Pending")

        let ready = compose.run(
            Fixtures.request(
                Workloads.replica(workers: workers), required: ["cluster": [Fixtures.cluster("gpu-east")]],
                observed: [
                    "cache-pvc": Fixtures.claim(phase: "Bound"),
                    "cache-hydrate": Lifecycle.observedJob(job!, ("Complete", "Done", "")),
                    "cache-report": Lifecycle.completeReport(job!),
                ]))
        #expect(ready.desired.resources.keys.sorted() == ["cache-pvc", "service", "workload"])
        let leader = engineOf(manifest(ready, "workload")?[path: "spec", "leaderWorkerTemplate", "leaderTemplate"])
        #expect(
            leader?["args"] == [
                "--model=/mnt/models", "--tensor-parallel-size=4", "--served-model-name=Qwen/Qwen2.5-7B-Instruct",
                "--pipeline-parallel-size=2",
            ])
        #expect(ready.desired.composite?.object[path: "status", "cache", "source"] == "hf://Qwen/Qwen2.5-7B-Instruct")
        #expect(
            ready.desired.composite?.object[path: "status", "cache", "staged"]
                == .string(Lifecycle.pinned(ArtifactSource(repo: "Qwen/Qwen2.5-7B-Instruct", revision: nil))))
        #expect(
            ready.desired.composite?.object[path: "status", "cache", "resolved", "commit"]
                == .string(Lifecycle.commit(for: "hf://Qwen/Qwen2.5-7B-Instruct")))
    }

    @Test(
        "Automatic cache on a cluster without rwxCache: FATAL and CacheReady=False NoRWXStorage naming the cluster and the fix"
    )
    func noRWX() {
        let r = compose.run(
            Fixtures.request(
                Workloads.replica(workers: Workloads.workers(pipeline: 2)),
                required: ["cluster": [Fixtures.cluster("gpu-east", rwx: nil)]])
        )
        #expect(r.isFatal)
        #expect(cond(r, "CacheReady")?.reason == "NoRWXStorage")
        let m = r.results.first?.message ?? ""
        #expect(m.contains("gpu-east") && m.contains("spec.storage.rwxCache") && m.contains("spec.modelCacheRef"))
    }

    @Test("Automatic cache without a model id is FATAL saying so")
    func noModelID() {
        let r = compose.run(
            Fixtures.request(
                Workloads.replica(workers: Workloads.workers(pipeline: 2, args: ["--port=8000"])),
                required: ["cluster": [Fixtures.cluster("gpu-east")]]))
        #expect(r.isFatal)
        #expect(r.results.first?.message.contains("no --model=<HuggingFace id>") == true)
    }

    @Test("Cluster not resolved on a first reconcile waits; a missing input never drops an existing workload")
    func missingInputs() {
        let first = compose.run(Fixtures.request(Workloads.replica()))
        #expect(!first.isFatal)
        #expect(cond(first, "WorkloadReady")?.reason == "WaitingForCluster")
        #expect(first.desired.resources.isEmpty)

        let goneFirstTime = compose.run(Fixtures.request(Workloads.replica(), required: ["cluster": []]))
        #expect(!goneFirstTime.isFatal)
        #expect(cond(goneFirstTime, "WorkloadReady")?.reason == "ClusterNotFound")

        let running = ["workload": Fixtures.observedObject(["kind": "Deployment"], ready: true)]
        let gone = compose.run(Fixtures.request(Workloads.replica(), required: ["cluster": []], observed: running))
        #expect(gone.isFatal, "FATAL: Crossplane then deletes nothing")
        #expect(gone.results.first?.message.contains("keeping the running workload") == true)
        let cacheGone = compose.run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5"),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": []],
                observed: running))
        #expect(cacheGone.isFatal)
    }

    @Test("No cache: single-node without a reference runs the engine as written")
    func noCache() {
        let r = compose.run(
            Fixtures.request(Workloads.replica(), required: ["cluster": [Fixtures.cluster("gpu-east")]]))
        let engine = engineOf(manifest(r, "workload")?[path: "spec", "template"])
        #expect(engine?["args"] == ["--model=Qwen/Qwen2.5-0.5B-Instruct"])
        #expect(engine?["volumeMounts"] == [["name": "dshm", "mountPath": "/dev/shm"]])
        #expect(cond(r, "CacheReady") == nil)
    }

    // A ModelReplica's cluster reference is validated like its cache reference.

    @Test(
        "An invalid spec.inferenceClusterRef.name is a FATAL naming the field, with the value quoted and no raw newline",
        arguments: ["gpu\neast", "", "GPU_East", String(repeating: "a", count: 300)])
    func invalidClusterRef(_ name: String) {
        let r = Composer().run(Fixtures.request(Workloads.replica(cluster: name), required: ["cluster": []]))
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
