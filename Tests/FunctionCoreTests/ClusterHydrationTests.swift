import Testing

@testable import FunctionCore

/// An InferenceCluster's own `spec.storage.rwxCache.hydration` (hydrator.md §5).
@Suite struct ClusterHydrationTests {
    /// A cluster whose rwxCache carries `hydration`.
    func cluster(_ name: String, hydration: Value) -> Value {
        Fixtures.cluster(name, rwx: ["storageClassName": "fast-rwx", "defaultSizeGiB": 300, "hydration": hydration])
    }

    /// Every named cluster's hydration ServiceAccount observed Ready, so the Job is composed (hydrator.md §4).
    func accountsReady(_ names: String...) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: names.map { ("hydrate-sa-\($0)", Lifecycle.readyAccount) })
    }

    func env(_ r: RunResponse, _ key: String) -> [Value] {
        manifest(r, key)?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?.listValue ?? []
    }

    @Test("A cluster's settings override the input's on that cluster only; clusters without share the input's Job")
    func overridesPerCluster() throws {
        let mirror = cluster(
            "gpu-air", hydration: ["endpoint": "https://hub.air.internal", "image": "registry.air/hydrator:1"])
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [mirror, gpuEast, Fixtures.cluster("gpu-west")],
                observed: accountsReady("gpu-air", "gpu-east", "gpu-west"),
                input: [
                    "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input",
                    "hydration": ["httpsProxy": "http://proxy:3128", "deadline": "3h"],
                ]))
        let air = try #require(manifest(r, "hydrate-gpu-air"))
        let east = try #require(manifest(r, "hydrate-gpu-east"))
        #expect(
            air[path: "spec", "template", "spec", "containers"]?.listValue?.first?["image"] == "registry.air/hydrator:1"
        )
        #expect(env(r, "hydrate-gpu-air").contains(["name": "HF_ENDPOINT", "value": "https://hub.air.internal"]))
        #expect(env(r, "hydrate-gpu-air").contains(["name": "HTTPS_PROXY", "value": "http://proxy:3128"]), "input's")
        #expect(air[path: "spec", "activeDeadlineSeconds"] == 10_800)
        #expect(!env(r, "hydrate-gpu-east").contains { $0["name"] == "HF_ENDPOINT" })
        #expect(
            east[path: "spec", "template", "spec", "containers"]?.listValue?.first?["image"]
                == .string(FunctionVersion.hydratorImage))
        #expect(manifest(r, "hydrate-gpu-west") == east, "clusters without settings share one manifest")
    }

    @Test(
        "A bad cluster block starts no Job there (Pending, naming the field), the others stage, the cluster is refused",
        arguments: [
            (
                ["deadline": "1m"] as Value,
                #"InferenceCluster gpu-bad spec.storage.rwxCache.hydration.deadline "1m" \#(HydrationRules.deadlineRule)"#
            )
        ])
    func badClusterBlock(_ block: Value, _ error: String) {
        let bad = cluster("gpu-bad", hydration: block)
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [bad, gpuEast], observed: accountsReady("gpu-bad", "gpu-east")))
        #expect(!r.isFatal, "one cluster's settings never take down the others")
        #expect(manifest(r, "hydrate-gpu-bad") == nil)
        #expect(manifest(r, "pvc-gpu-bad") != nil, "the claim is still composed")
        #expect(manifest(r, "hydrate-gpu-east") != nil)
        let line = statusClusters(r).first { $0["name"] == "gpu-bad" }
        #expect(line?["phase"] == "Pending")
        #expect(line?["message"] == .string("\(error); no hydration Job starts on this cluster until it is fixed"))
        // Its owner sees it on the InferenceCluster itself.
        let own = Composer().run(Fixtures.request(bad))
        #expect(own.isFatal)
        #expect(own.results.first?.message.contains(error) == true)
    }

    @Test("A Ready cluster with a bad block stays Ready and composes nothing new")
    func readyStaysReady() {
        let bad = cluster("gpu-east", hydration: ["endpoint": "nope"])
        let ready = Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Ready")]))
        var status = ready
        status["status"]?["clusters"] = [
            [
                "name": "gpu-east", "phase": "Ready", "source": "hf://Qwen/Qwen2.5-0.5B-Instruct",
                "staged": "hf://Qwen/Qwen2.5-0.5B-Instruct",
            ]
        ]
        let r = Composer().run(
            Fixtures.request(status, clusters: [bad], observed: ["pvc-gpu-east": Fixtures.claim(phase: "Bound")]))
        #expect(statusClusters(r).first?["phase"] == "Ready")
        #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
    }

    @Test("A running Job on a cluster whose block turned bad goes on exactly as it was sent")
    func runningJobKept() throws {
        let s = Lifecycle.staging()
        let sent = s.jobManifest(
            s.newJob(
                named: s.newJobName(staged: nil, replacing: nil), keep: [], attempt: s.attempt(sizeGiB: 300),
                claimBytes: HydrationJob.claimBytes(sizeGiB: 300)))
        var observed = Lifecycle.observedJob(sent)
        observed["spec"] = ["forProvider": ["manifest": sent]]
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])),
                clusters: [cluster("gpu-east", hydration: ["endpoint": "nope"])],
                observed: ["pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-gpu-east": observed]))
        #expect(manifest(r, "hydrate-gpu-east") == sent)
        #expect(statusClusters(r).first?["phase"] == "Hydrating")
    }
}

/// Reading the Jobs of this release and of the previous one (hydrator.md §2, upgrade).
@Suite struct ObservedJobUpgradeTests {
    /// The previous release's Job for the fixture's source, as it was sent.
    static func legacyManifest(_ s: CacheStaging) -> Value {
        [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": [
                "name": "modelcache-ml-team-qwen-2-5-hydrate-0a1b2c-12345", "namespace": "default",
                "labels": [CacheStaging.revisionLabel: .string(s.directory)],
            ],
            "spec": [
                "template": [
                    "spec": [
                        "restartPolicy": "Never",
                        "containers": [
                            [
                                "name": "hydrate", "image": "docker.io/library/python:3.12-slim-bookworm",
                                "command": ["/bin/sh", "-c", "…"],
                                "env": [
                                    ["name": "MODEL_REPO", "value": "Qwen/Qwen2.5-0.5B-Instruct"],
                                    ["name": "MODEL_DIR", "value": .string(s.directory)],
                                    ["name": "KEEP_DIRS", "value": "rev-0123456789ab"],
                                    ["name": "MODEL_GENERATION", "value": "7"],
                                ],
                            ]
                        ],
                    ]
                ]
            ],
        ]
    }

    /// An observed Object holding `manifest`, sent and observed, running.
    static func observed(_ manifest: Value) -> Value {
        var o = Lifecycle.observedJob(manifest)
        o["spec"] = ["forProvider": ["manifest": manifest]]
        return o
    }

    @Test("A running Job of the previous release is adopted and composed again exactly as it was sent")
    func legacyAdopted() throws {
        let s = Lifecycle.staging()
        let legacy = Self.legacyManifest(s)
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])), clusters: [gpuEast],
                observed: ["pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-gpu-east": Self.observed(legacy)]))
        #expect(manifest(r, "hydrate-gpu-east") == legacy, "never replaced because its environment uses the old names")
        #expect(statusClusters(r).first?["phase"] == "Hydrating")
        let o = try #require(ObservedJob.Identity(Resource(object: Self.observed(legacy))).map(ObservedJob.init))
        #expect(o.isLegacy)
        #expect(o.keep == ["rev-0123456789ab"])
        #expect(o.generation == 7)
        #expect(o.commit == nil && o.epoch == nil)
    }

    @Test("This release's names are read back and carried into the adopted Job: commit, epoch, keep, claim bytes")
    func currentNamesCarried() throws {
        let s = Lifecycle.staging()
        let attempt = s.attempt(sizeGiB: 300)
        var job = s.newJob(named: "j", keep: ["rev-0123456789ab"], attempt: attempt, claimBytes: 42)
        job.commit = HydrationJobManifestTests.commit
        job.epoch = "9.3"
        let observed = Resource(object: Self.observed(s.jobManifest(job)))
        let o = try #require(ObservedJob.Identity(observed).map(ObservedJob.init))
        #expect(!o.isLegacy)
        #expect(o.generation == 9)
        // Adopted the one way a cluster adopts: through the stager, pinned at the Job's commit and epoch.
        let pin = ResolvedPin(source: s.identity, commit: HydrationJobManifestTests.commit, refresh: nil, epoch: 3)
        let stager = ClusterStager(s, hints: .modelCache, pin: StagingPin(pin: pin, staging: s))
        #expect(stager.adopt(ObservedJob.Identity(observed), attempt: attempt)?.commit == pin.commit)
        let stage = stager.stage(
            cluster: "gpu-east", storageClass: "fast-rwx", sizeGiB: 300,
            claim: Resource(object: Fixtures.claim(phase: "Bound")), job: observed, report: nil, previous: nil,
            keep: { [] })
        let adopted = try #require(stage.job)
        #expect(stage.jobObserved)
        #expect(adopted.name == "j")
        #expect(adopted.commit == HydrationJobManifestTests.commit)
        #expect(adopted.epoch == "9.3")
        #expect(adopted.keep == ["rev-0123456789ab"])
        #expect(adopted.claimBytes == 42, "the running Job's own value, not the cluster's now")
        #expect(adopted.sentManifest == nil, "rebuilt from its frozen values")
        #expect(s.jobManifest(adopted) == s.jobManifest(job))
    }

    @Test(
        "Malformed values are not carried: a short commit, a garbled epoch",
        arguments: [("abc", "1.2.3"), ("3F1C2A7E9B0D4C6F8A1B2C3D4E5F60718293A4B5", "x.1")])
    func malformed(_ commit: String, _ epoch: String) throws {
        let env: Value = [
            ["name": "MODELCACHE_SOURCE", "value": "hf://a/b"],
            ["name": "MODELCACHE_COMMIT", "value": .string(commit)],
            ["name": "MODELCACHE_EPOCH", "value": .string(epoch)],
        ]
        let read = JobEnvironment(env)
        #expect(read.commit == nil && read.epoch == nil && read.generation == nil && !read.isLegacy)
    }
}
