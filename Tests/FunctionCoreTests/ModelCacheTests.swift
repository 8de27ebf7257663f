import Testing

@testable import FunctionCore

/// A named table case: a request, a one-sentence reason, the whole response
/// compared with its golden file, and the assertions that say what matters.
struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: String
    let request: RunRequest
    let check: @Sendable (RunResponse) -> Void
    var testDescription: String { name }
}

/// The first Job's manifest for the default source on a 300 GiB cluster.
let firstJob = Lifecycle.firstJob()
let jobName = firstJob[path: "metadata", "name"]!.stringValue!

func manifest(_ r: RunResponse, _ key: String) -> Value? {
    r.desired.resources[key]?.object[path: "spec", "forProvider", "manifest"]
}

func statusClusters(_ r: RunResponse) -> [Value] {
    r.desired.composite?.object[path: "status", "clusters"]?.listValue ?? []
}

func cond(_ r: RunResponse, _ type: String) -> Condition? { r.conditions.first { $0.type == type } }

let gpuEast = Fixtures.cluster("gpu-east")
let gpuWest = Fixtures.cluster("gpu-west", rwx: ["storageClassName": "nfs-west"])

let modelCacheCases: [Case] = [
    Case(
        name: "FirstCallAsksForClusters",
        reason: "Before anything is answered the function only asks for clusters and passes desired state through.",
        request: Fixtures.request(Fixtures.modelCache(), desired: ["other": ["kind": "Keep"]]),
        check: { r in
            #expect(
                r.requirements?.resources["clusters"]
                    == ResourceSelector(
                        apiVersion: "modelplane.ai/v1alpha1", kind: "InferenceCluster", match: .labels([:])))
            #expect(
                r.requirements?.resources["consumers"]
                    == ResourceSelector(
                        apiVersion: "protection.crossplane.io/v1beta1", kind: "Usage",
                        match: .labels(["modelplane.ai/modelcache": "qwen-2-5"]), namespace: "ml-team"))
            #expect(r.requirements?.resources.count == 2)
            #expect(r.desired.resources.keys.sorted() == ["other"])
            #expect(r.desired.composite == nil)
            #expect(r.results.isEmpty)
        }),
    Case(
        name: "FirstCallWithTokenAsksForSecret",
        reason: "A gated model also needs its token Secret, by name, in the cache's namespace.",
        request: Fixtures.request(Fixtures.modelCache(spec: tokenSpec())),
        check: { r in
            #expect(
                r.requirements?.resources["token-secret"]
                    == ResourceSelector(
                        apiVersion: "v1", kind: "Secret", match: .name("hf-token"), namespace: "ml-team"))
            #expect(r.desired.resources.isEmpty)
        }),
    Case(
        name: "OneClusterNothingObserved",
        reason:
            "A matched cluster gets a claim with its storage class and default size, and its hydration Job's "
            + "ServiceAccount; the Job (with its Role, RoleBinding and report ConfigMap) waits for it.",
        request: Fixtures.request(Fixtures.modelCache(), clusters: [gpuEast]),
        check: { r in
            #expect(r.requirements?.resources["clusters"] != nil, "requirements stay once answered")
            #expect(r.desired.resources.keys.sorted() == ["hydrate-sa-gpu-east", "pvc-gpu-east"])
            let pvc = manifest(r, "pvc-gpu-east")
            #expect(pvc?[path: "spec", "storageClassName"] == "fast-rwx")
            #expect(pvc?[path: "spec", "resources", "requests", "storage"] == "300Gi")
            #expect(pvc?[path: "spec", "accessModes"] == ["ReadWriteMany"])
            #expect(pvc?[path: "metadata", "name"] == "modelcache-ml-team-qwen-2-5-b6b9a")
            #expect(
                r.desired.resources["pvc-gpu-east"]?.object[path: "spec", "providerConfigRef"]
                    == ["kind": "ClusterProviderConfig", "name": "pc-gpu-east"])
            #expect(r.desired.composite?.object[path: "status", "summary", "ready"] == "0/1")
            #expect(statusClusters(r).first?["phase"] == "Pending")
            #expect(cond(r, "ArtifactReady")?.reason == "Hydrating")
            #expect(cond(r, "ArtifactReady")?.status == .false)
            #expect(r.results.map(\.reason) == ["Staging"])
            #expect(r.results.first?.message == "Staging Qwen/Qwen2.5-0.5B-Instruct to 1 cluster: gpu-east")
            #expect(r.desired.composite?.ready == .notReady)
        }),
    Case(
        name: "DefaultSizeWhenClusterGivesNone",
        reason: "A cluster without defaultSizeGiB gets 200Gi claims.",
        request: Fixtures.request(Fixtures.modelCache(), clusters: [gpuWest]),
        check: { r in
            #expect(manifest(r, "pvc-gpu-west")?[path: "spec", "resources", "requests", "storage"] == "200Gi")
            #expect(manifest(r, "pvc-gpu-west")?[path: "spec", "storageClassName"] == "nfs-west")
        }),
    Case(
        name: "SizeOverrideAndTwoClusters",
        reason: "spec.storage.sizeGiB overrides every cluster's default; each cluster keeps its own class.",
        request: Fixtures.request(
            Fixtures.modelCache(spec: with(Fixtures.defaultSpec, "storage", ["sizeGiB": 50])),
            clusters: [gpuWest, gpuEast]),
        check: { r in
            #expect(manifest(r, "pvc-gpu-east")?[path: "spec", "resources", "requests", "storage"] == "50Gi")
            #expect(manifest(r, "pvc-gpu-west")?[path: "spec", "resources", "requests", "storage"] == "50Gi")
            #expect(manifest(r, "pvc-gpu-east")?[path: "spec", "storageClassName"] == "fast-rwx")
            #expect(manifest(r, "pvc-gpu-west")?[path: "spec", "storageClassName"] == "nfs-west")
            #expect(statusClusters(r).map { $0["name"] } == ["gpu-east", "gpu-west"])
            #expect(r.results.first?.message == "Staging Qwen/Qwen2.5-0.5B-Instruct to 2 clusters: gpu-east, gpu-west")
        }),
    Case(
        name: "MatchLabelsBecomeRequirement",
        reason: "The cluster selector is passed to Crossplane as the requirement's labels.",
        request: Fixtures.request(
            Fixtures.modelCache(
                spec: with(
                    Fixtures.defaultSpec, "clusterSelector",
                    ["matchLabels": ["gpu": "h100", "region": "eu"]]))),
        check: { r in
            #expect(r.requirements?.resources["clusters"]?.match == .labels(["gpu": "h100", "region": "eu"]))
        }),
    Case(
        name: "ClusterWithoutRWXFails",
        reason: "A cluster that offers no ReadWriteMany storage is Failed and gets nothing.",
        request: Fixtures.request(Fixtures.modelCache(), clusters: [Fixtures.cluster("cpu-only", rwx: nil), gpuEast]),
        check: { r in
            #expect(!r.desired.resources.keys.contains { $0.hasSuffix("cpu-only") })
            #expect(statusClusters(r).first?["phase"] == "Failed")
            #expect(
                statusClusters(r).first?["message"]
                    == "Cannot stage Qwen/Qwen2.5-0.5B-Instruct on cpu-only: InferenceCluster cpu-only declares no spec.storage.rwxCache"
            )
            #expect(cond(r, "ArtifactReady")?.reason == "Failed")
            #expect(r.results.map(\.severity) == [.normal, .warning])
        }),
    Case(
        name: "ClusterWithoutProviderConfigPends",
        reason: "A cluster whose provider config is not ready yet is Pending and gets nothing.",
        request: Fixtures.request(Fixtures.modelCache(), clusters: [noProviderConfig()]),
        check: { r in
            #expect(r.desired.resources.isEmpty)
            #expect(statusClusters(r).first?["phase"] == "Pending")
            #expect(
                statusClusters(r).first?["message"]
                    == "Waiting for InferenceCluster gpu-new to report status.providerConfigRef.name")
        }),
    Case(
        name: "BoundAndRunningIsHydrating",
        reason: "A bound claim with a running Job is Hydrating.",
        request: Fixtures.request(
            Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Pending")])), clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-gpu-east": Lifecycle.observedJob(firstJob),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Hydrating")
            #expect(r.desired.resources["pvc-gpu-east"]?.ready == .ready)
            #expect(r.desired.resources["hydrate-gpu-east"]?.ready == .notReady)
            #expect(r.results.isEmpty, "no event on a steady state")
        }),
    Case(
        name: "BoundAndDownloadingShowsProgress",
        reason:
            "The running Job's report reaches status: progress in numbers, and a message with GiB done, rate and time "
            + "left; the in-flight bytes in the summary.",
        request: Fixtures.request(
            Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])), clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-gpu-east": Lifecycle.observedJob(firstJob),
                "report-gpu-east": Lifecycle.observedReport(
                    Lifecycle.report(
                        job: jobName, source: Lifecycle.qwen.identity, commit: Lifecycle.commit, phase: "Downloading")),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Hydrating")
            #expect(
                statusClusters(r).first?["message"]
                    == "Downloading Qwen/Qwen2.5-0.5B-Instruct@3f1c2a7: 35.5 of 142.0 GiB (25 %), 210 MiB/s, about 8 min left"
            )
            #expect(
                statusClusters(r).first?["progress"] == [
                    "doneBytes": 38_117_834_752, "totalBytes": 152_471_339_008, "filesDone": 3, "files": 12,
                    "bytesPerSecond": 220_200_960,
                ])
            #expect(r.desired.composite?.object[path: "status", "summary", "inFlightBytes"] == 114_353_504_256)
            #expect(r.desired.composite?.object[path: "status", "resolved", "commit"] == .string(Lifecycle.commit))
            #expect(r.results.isEmpty)
        }),
    Case(
        name: "ServiceAccountReadyJobComposed",
        reason: "Once the hydration ServiceAccount's Object is Ready, the Job is composed beside the report objects.",
        request: Fixtures.request(
            Fixtures.modelCache(), clusters: [gpuEast], observed: ["hydrate-sa-gpu-east": Lifecycle.readyAccount]),
        check: { r in
            #expect(
                r.desired.resources.keys.sorted()
                    == (["hydrate-gpu-east", "pvc-gpu-east"] + Lifecycle.reportKeys("gpu-east")).sorted())
            #expect(manifest(r, "hydrate-gpu-east")?[path: "metadata", "name"] == .string(jobName))
            #expect(r.desired.resources["hydrate-sa-gpu-east"]?.ready == .ready)
        }),
    Case(
        name: "JobCompleteReportNotArrived",
        reason:
            "Complete=True on the Job alone is not Ready: the cluster waits for the hydrator's report, and the Job and "
            + "its report objects stay in desired state.",
        request: Fixtures.request(
            Fixtures.modelCache(
                status: Fixtures.status([("gpu-east", "Hydrating")], artifactReady: ("False", "Hydrating"))),
            clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                "hydrate-gpu-east": Lifecycle.observedJob(firstJob, ("Complete", "Completed", "done")),
                "report-gpu-east": Lifecycle.observedReport(nil),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Hydrating")
            #expect(
                statusClusters(r).first?["message"]
                    == .string("Job \(jobName) on gpu-east completed; waiting for the hydrator's report"))
            #expect(statusClusters(r).first?["staged"] == nil)
            #expect(
                r.desired.resources.keys.sorted()
                    == (["hydrate-gpu-east", "pvc-gpu-east"] + Lifecycle.reportKeys("gpu-east")).sorted())
            #expect(r.desired.composite?.ready == .notReady)
        }),
    Case(
        name: "LegacyJobCompleteIsReady",
        reason:
            "A Job of the previous release (labelled by revision only) writes no report: its completion stages the "
            + "source as before, so upgrading never re-downloads.",
        request: Fixtures.request(
            Fixtures.modelCache(
                status: Fixtures.status([("gpu-east", "Hydrating")], artifactReady: ("False", "Hydrating"))),
            clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                "hydrate-gpu-east": Lifecycle.observedJob(Lifecycle.legacyJob(), ("Complete", "Completed", "done")),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Ready")
            #expect(statusClusters(r).first?["staged"] == .string(Lifecycle.qwen.identity))
            #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
        }),
    Case(
        name: "BoundAndCompleteIsReady",
        reason:
            "The current Job's Complete report naming a commit makes the cluster Ready at that commit, pins the "
            + "source, and the Job and its report objects leave desired state.",
        request: Fixtures.request(
            Fixtures.modelCache(
                status: Fixtures.status([("gpu-east", "Hydrating")], artifactReady: ("False", "Hydrating"))),
            clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                "hydrate-gpu-east": Lifecycle.observedJob(firstJob, ("Complete", "Completed", "done")),
                "report-gpu-east": Lifecycle.completeReport(firstJob),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["staged"] == .string(Lifecycle.pinned()))
            #expect(statusClusters(r).first?["stagedAt"] == "2026-12-06T08:20:00Z")
            #expect(r.desired.composite?.object[path: "status", "resolved", "commit"] == .string(Lifecycle.commit))
            #expect(r.desired.composite?.object[path: "status", "summary", "stagedBytes"] == 152_471_339_008)
            #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
            #expect(r.desired.resources["pvc-gpu-east"]?.ready == .ready)
            #expect(statusClusters(r).first?["phase"] == "Ready")
            #expect(statusClusters(r).first?["message"] == nil)
            #expect(r.desired.composite?.object[path: "status", "summary", "ready"] == "1/1")
            #expect(r.desired.composite?.ready == .ready)
            #expect(
                cond(r, "ArtifactReady")
                    == Condition(
                        type: "ArtifactReady", status: .true, reason: "Staged",
                        message: "Staged on all 1 cluster"))
            #expect(r.results.map(\.message) == ["Artifact staged on all 1 cluster"])
        }),
    Case(
        name: "ReadyLatchedAfterJobGone",
        reason: "Once this source is staged, the cluster stays Ready after the Job is gone, without a new event.",
        request: Fixtures.request(
            Fixtures.modelCache(
                status: Lifecycle.status(
                    [("gpu-east", "Ready", Lifecycle.qwen.identity)],
                    artifactReady: ("True", "Staged"))),
            clusters: [gpuEast], observed: ["pvc-gpu-east": Fixtures.claim(phase: "Bound")]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Ready")
            #expect(statusClusters(r).first?["staged"] == .string(Lifecycle.qwen.identity))
            #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
            #expect(r.results.isEmpty)
            #expect(r.desired.composite?.ready == .ready)
        }),
    Case(
        name: "RevisionChangeStartsUpdate",
        reason: "A new revision after Ready gets a new Job; the old revision stays staged and the phase is Updating.",
        request: Fixtures.request(
            Fixtures.modelCache(
                spec: with(
                    Fixtures.defaultSpec, "artifact",
                    ["source": ["huggingFace": ["repo": "Qwen/Qwen2.5-0.5B-Instruct", "revision": "v2"]]]),
                status: Lifecycle.status(
                    [("gpu-east", "Ready", Lifecycle.qwen.identity)], artifactReady: ("True", "Staged"))),
            clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                "hydrate-gpu-east": Lifecycle.observedJob(firstJob, ("Complete", "Completed", "old")),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Updating")
            #expect(statusClusters(r).first?["source"] == "hf://Qwen/Qwen2.5-0.5B-Instruct@v2")
            #expect(statusClusters(r).first?["staged"] == "hf://Qwen/Qwen2.5-0.5B-Instruct")
            let job = manifest(r, "hydrate-gpu-east")
            let name = job?[path: "metadata", "name"]?.stringValue
            #expect(name != nil && name != jobName)
            let env = job?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?.listValue ?? []
            #expect(job?[path: "metadata", "labels", CacheStaging.revisionLabel] == nil, "not pinned yet")
            #expect(env.first { $0["name"] == "MODELCACHE_SOURCE" }?["value"] == .string(Lifecycle.qwenV2.identity))
            #expect(env.first { $0["name"] == "MODELCACHE_KEEP" }?["value"] == .string(Lifecycle.qwen.directory))
            #expect(cond(r, "ArtifactReady")?.reason == "Updating")
            #expect(
                r.results.map(\.message) == [
                    "Updating hf://Qwen/Qwen2.5-0.5B-Instruct → hf://Qwen/Qwen2.5-0.5B-Instruct@v2 on 1 cluster: gpu-east"
                ])
            #expect(r.desired.composite?.ready == .notReady)
        }),
    Case(
        name: "JobFailedWarnsOnce",
        reason: "A failed Job makes the cluster Failed with the Job's reason and one Warning.",
        request: Fixtures.request(
            Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])), clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                "hydrate-gpu-east": Lifecycle.observedJob(
                    firstJob, ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")),
            ]),
        check: { r in
            #expect(statusClusters(r).first?["phase"] == "Failed")
            #expect(
                statusClusters(r).first?["message"]?.stringValue?.contains(
                    #"BackoffLimitExceeded: "Job has reached the specified backoff limit""#) == true)
            #expect(r.results.map(\.severity) == [.warning])
            #expect(cond(r, "ArtifactReady")?.reason == "Failed")
            #expect(cond(r, "ArtifactReady")?.message == "Staging failed on gpu-east")
        }),
    Case(
        name: "JobStillFailedNoNewWarning",
        reason: "A cluster that was already Failed does not warn again.",
        request: Fixtures.request(
            Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Failed")], artifactReady: ("False", "Failed"))),
            clusters: [gpuEast],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                "hydrate-gpu-east": Lifecycle.observedJob(firstJob, ("Failed", "BackoffLimitExceeded", "x")),
            ]),
        check: { r in #expect(r.results.isEmpty) }),
    Case(
        name: "OneOfTwoReadyIsPartial",
        reason: "With one of two clusters Ready the artifact is Partial and the XR not ready.",
        request: Fixtures.request(
            Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating"), ("gpu-west", "Hydrating")])),
            clusters: [gpuEast, gpuWest],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"), "pvc-gpu-west": Fixtures.claim(phase: "Bound"),
                "hydrate-gpu-east": Lifecycle.observedJob(firstJob, ("Complete", "Completed", "ok")),
                "report-gpu-east": Lifecycle.completeReport(firstJob),
                "hydrate-gpu-west": Lifecycle.observedJob(firstJob),
            ]),
        check: { r in
            #expect(cond(r, "ArtifactReady")?.reason == "Partial")
            #expect(r.desired.composite?.object[path: "status", "summary", "ready"] == "1/2")
            #expect(r.desired.composite?.ready == .notReady)
            #expect(
                r.desired.resources.keys.sorted()
                    == (["hydrate-gpu-west", "pvc-gpu-east", "pvc-gpu-west"] + Lifecycle.reportKeys("gpu-west"))
                    .sorted())
        }),
    Case(
        name: "TokenCopiedByReference",
        reason: "A gated model's token reaches the Job through a provider-side copy; its value never appears.",
        request: Fixtures.request(
            Fixtures.modelCache(spec: tokenSpec()), clusters: [gpuEast],
            required: ["token-secret": [tokenSecret(["HF_TOKEN": .string(secretValue)])]],
            observed: ["hydrate-sa-gpu-east": Lifecycle.readyAccount]),
        check: { r in
            #expect(
                r.desired.resources.keys.sorted()
                    == (["hydrate-gpu-east", "pvc-gpu-east", "token-gpu-east"] + Lifecycle.reportKeys("gpu-east"))
                    .sorted())
            let token = r.desired.resources["token-gpu-east"]?.object
            #expect(
                token?[path: "spec", "references"] == [
                    [
                        "patchesFrom": [
                            "apiVersion": "v1", "kind": "Secret", "name": "hf-token", "namespace": "ml-team",
                            "fieldPath": "data.HF_TOKEN",
                        ],
                        "toFieldPath": "data.HF_TOKEN",
                    ]
                ])
            let env = manifest(r, "hydrate-gpu-east")?[path: "spec", "template", "spec", "containers"]?.listValue?
                .first?["env"]
            let hf = env?.listValue?.first { $0["name"] == "HF_TOKEN" }
            #expect(
                hf?[path: "valueFrom", "secretKeyRef", "name"]
                    == manifest(r, "token-gpu-east")?[path: "metadata", "name"])
            #expect(!r.canonicalValue.canonicalJSON().contains(secretValue))
            #expect(cond(r, "ArtifactReady")?.reason == "Hydrating")
        }),
    Case(
        name: "TokenSecretAbsent",
        reason:
            "Without the Secret on the control plane, the Job reads it on the workload cluster (the proposal's convention).",
        request: Fixtures.request(
            Fixtures.modelCache(spec: tokenSpec()), clusters: [gpuEast], required: ["token-secret": []],
            observed: ["hydrate-sa-gpu-east": Lifecycle.readyAccount]),
        check: { r in
            #expect(
                r.desired.resources.keys.sorted()
                    == (["hydrate-gpu-east", "pvc-gpu-east"] + Lifecycle.reportKeys("gpu-east")).sorted())
            #expect(cond(r, "ArtifactReady")?.reason == "Hydrating")
            #expect(!r.results.contains { $0.reason == "TokenSecretMissing" })
        }),
    Case(
        name: "TokenKeyAbsent",
        reason: "A Secret without the key counts as missing.",
        request: Fixtures.request(
            Fixtures.modelCache(spec: tokenSpec()), clusters: [gpuEast],
            required: ["token-secret": [tokenSecret(["OTHER": "eA=="])]]),
        check: { r in
            #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
            #expect(
                cond(r, "ArtifactReady")?.message
                    == "Secret ml-team/hf-token named by spec.artifact.source.huggingFace.tokenSecretRef "
                    + "has no non-empty key HF_TOKEN: hydration waits for it")
        }),
    Case(
        name: "TokenValueEmpty",
        reason: "An empty token counts as missing.",
        request: Fixtures.request(
            Fixtures.modelCache(spec: tokenSpec()), clusters: [gpuEast],
            required: ["token-secret": [tokenSecret(["HF_TOKEN": ""])]]),
        check: { r in
            #expect(cond(r, "ArtifactReady")?.reason == "TokenSecretMissing")
            #expect(r.desired.resources["hydrate-gpu-east"] == nil)
        }),
    Case(
        name: "NoClusters",
        reason: "When no cluster matches, the XR says so and is not ready.",
        request: Fixtures.request(Fixtures.modelCache(), clusters: []),
        check: { r in
            #expect(cond(r, "ClustersMatched")?.reason == "NoClusters")
            #expect(cond(r, "ArtifactReady")?.reason == "NoClusters")
            #expect(r.desired.composite?.ready == .notReady)
            #expect(r.desired.composite?.object[path: "status", "summary", "ready"] == "0/0")
            #expect(r.desired.resources.isEmpty)
        }),
    Case(
        name: "PassThroughUntouched",
        reason: "Other steps' desired resources and the context come back unchanged.",
        request: Fixtures.request(
            Fixtures.modelCache(), clusters: [gpuEast],
            desired: ["from-earlier-step": ["apiVersion": "v1", "kind": "ConfigMap", "data": ["k": "v"]]],
            context: ["apiextensions.crossplane.io/environment": ["region": "eu"]]),
        check: { r in
            #expect(
                r.desired.resources["from-earlier-step"]?.object
                    == ["apiVersion": "v1", "kind": "ConfigMap", "data": ["k": "v"]])
            #expect(r.context == ["apiextensions.crossplane.io/environment": ["region": "eu"]])
            #expect(r.tag == "t1")
        }),
]

let secretValue = "hf_SuperSecretTokenValue123"

func tokenSpec() -> Value {
    with(
        Fixtures.defaultSpec, "artifact",
        [
            "source": [
                "huggingFace": [
                    "repo": "meta-llama/Llama-3.1-8B-Instruct", "tokenSecretRef": ["name": "hf-token"],
                ]
            ]
        ])
}

func tokenSecret(_ data: Fields) -> Value {
    [
        "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "hf-token", "namespace": "ml-team"],
        "data": .object(data),
    ]
}

func noProviderConfig() -> Value {
    var c = Fixtures.cluster("gpu-new")
    c["status"] = ["conditions": []]
    return c
}

func with(_ v: Value, _ key: String, _ field: Value) -> Value {
    var out = v
    out[key] = field
    return out
}

@Suite struct ModelCacheTests {
    @Test(arguments: modelCacheCases)
    func compose(_ c: Case) {
        let response = Composer().run(c.request)
        c.check(response)
        Golden.check(response, suite: "ModelCache", name: c.name)
        // Determinism: the same request, composed again, gives the same response.
        #expect(Composer().run(c.request) == response, "\(c.name): \(c.reason)")
    }

    @Test("ModelCache: the same request with clusters and Usages in another order gives the same response")
    func cachePermutation() {
        let clusters = ["gpu-west", "gpu-east", "gpu-north"].map { Fixtures.cluster($0) }
        let usages = [
            Lifecycle.usage("b", cluster: "gpu-west", revision: Lifecycle.qwenV2.directory),
            Lifecycle.usage("a", cluster: "gpu-east", revision: Lifecycle.qwen.directory),
            Lifecycle.usage("c", cluster: "gpu-gone", revision: Lifecycle.qwen.directory),
        ]
        let observed: [String: Value] = [
            "pvc-gpu-gone": Lifecycle.observedClaim(providerConfig: "gpu-gone"),
            "pvc-gpu-east": Lifecycle.observedClaim(providerConfig: "gpu-east"),
        ]
        let xr = Fixtures.modelCache(
            status: Lifecycle.status([
                ("gpu-east", "Ready", Lifecycle.qwen.identity), ("gpu-gone", "Ready", Lifecycle.qwen.identity),
            ]))
        let a = Composer().run(
            Fixtures.request(xr, clusters: clusters, required: ["consumers": usages], observed: observed))
        let b = Composer().run(
            Fixtures.request(
                xr, clusters: clusters.reversed(), required: ["consumers": usages.reversed()],
                observed: observed))
        #expect(a == b)
        #expect(
            a.desired.resources["pvc-gpu-gone"] != nil, "a deselected cluster's claim is kept while a replica uses it")
    }
}
