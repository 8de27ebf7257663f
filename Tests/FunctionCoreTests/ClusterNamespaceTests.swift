import Testing

@testable import FunctionCore

/// An InferenceCluster's own remote namespace (`spec.storage.rwxCache.hydration.namespace`,
/// hydrator.md §5): everything composed on the cluster goes there, for caches and replicas
/// created after the change; an existing claim, and all that goes with it, stays where it is.
@Suite struct ClusterNamespaceTests {
    /// A cluster whose rwxCache carries `hydration: {namespace: <namespace>}`.
    static func cluster(_ name: String, namespace: String) -> Value {
        Fixtures.cluster(
            name,
            rwx: [
                "storageClassName": "fast-rwx", "defaultSizeGiB": 300, "hydration": ["namespace": .string(namespace)],
            ])
    }

    /// An observed claim Object as it was sent, in `namespace`, Bound.
    static func claim(in namespace: String, name: String = Lifecycle.staging().claimName) -> Value {
        var o = Fixtures.claim(phase: "Bound")
        o["spec"] = [
            "providerConfigRef": ["name": "pc-gpu-east"],
            "forProvider": [
                "manifest": [
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": .string(name), "namespace": .string(namespace)],
                    "spec": [
                        "accessModes": ["ReadWriteMany"], "storageClassName": "fast-rwx",
                        "resources": ["requests": ["storage": "300Gi"]],
                    ],
                ]
            ],
        ]
        return o
    }

    /// The remote namespace of every composed Object whose key ends in `suffix`, by key.
    static func namespaces(_ r: RunResponse, suffix: String) -> [String: String] {
        var out: [String: String] = [:]
        for (key, resource) in r.desired.resources where key.hasSuffix(suffix) {
            out[key] = resource.object[path: "spec", "forProvider", "manifest", "metadata", "namespace"]?.stringValue
        }
        return out
    }

    /// The ModelCache's status entry for `cluster`.
    static func entry(_ r: RunResponse, _ cluster: String) -> Value? {
        statusClusters(r).first { $0["name"]?.stringValue == cluster }
    }

    @Test("A cluster with its own namespace gets every manifest there: claim, Job, report objects, token copy")
    func everyManifestInOwnNamespace() throws {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(spec: tokenSpec()),
                clusters: [Self.cluster("gpu-ns", namespace: "models"), gpuEast],
                required: ["token-secret": [tokenSecret(["HF_TOKEN": "eA=="])]],
                observed: ["hydrate-sa-gpu-ns": Lifecycle.readyAccount, "hydrate-sa-gpu-east": Lifecycle.readyAccount]))
        #expect(!r.isFatal)
        let own = Self.namespaces(r, suffix: "-gpu-ns")
        #expect(
            own.keys.sorted()
                == (["hydrate-gpu-ns", "pvc-gpu-ns", "token-gpu-ns"] + Lifecycle.reportKeys("gpu-ns")).sorted())
        #expect(Set(own.values) == ["models"], "\(own)")
        let binding = try #require(manifest(r, "hydrate-rolebinding-gpu-ns"))
        #expect(binding[path: "subjects"]?.listValue?.first?["namespace"] == "models")
        let others = Self.namespaces(r, suffix: "-gpu-east")
        #expect(others.count == own.count)
        #expect(Set(others.values) == ["default"], "a cluster without its own keeps the input's")
        #expect(Self.entry(r, "gpu-ns")?["namespace"] == "models", "replicas read where the claim is")
        #expect(Self.entry(r, "gpu-east")?["namespace"] == nil, "the input's namespace is not written")
        // The Job is the one of the cluster's namespace, otherwise the same.
        var moved = try #require(manifest(r, "hydrate-gpu-ns"))
        moved["metadata"]?["namespace"] = "default"
        #expect(moved == manifest(r, "hydrate-gpu-east"))
    }

    @Test("Waiting for its ServiceAccount, the cluster composes it in its own namespace")
    func waitingAccountInOwnNamespace() {
        let r = Composer().run(
            Fixtures.request(Fixtures.modelCache(), clusters: [Self.cluster("gpu-ns", namespace: "models")]))
        #expect(
            Self.namespaces(r, suffix: "-gpu-ns") == ["pvc-gpu-ns": "models", "hydrate-sa-gpu-ns": "models"])
    }

    @Test("An existing claim keeps the namespace its Object recorded, with its Job and report objects, saying so")
    func existingClaimKeepsNamespace() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])),
                clusters: [Self.cluster("gpu-east", namespace: "models")],
                observed: ["pvc-gpu-east": Self.claim(in: "default"), "hydrate-sa-gpu-east": Lifecycle.readyAccount]))
        let all = Self.namespaces(r, suffix: "-gpu-east")
        #expect(all.count == 6, "\(all)")
        #expect(Set(all.values) == ["default"], "\(all)")
        let note =
            "Claim \(Lifecycle.staging().claimName) on gpu-east stays in namespace default: a claim cannot move; "
            + "its spec.storage.rwxCache.hydration.namespace \"models\" applies to caches and replicas created later"
        let line = Self.entry(r, "gpu-east")
        #expect(line?["message"]?.stringValue?.hasSuffix(note) == true, "\(line ?? .null)")
        #expect(line?["namespace"] == nil)
        #expect(r.results.filter { $0.reason == "ClaimUnchanged" }.map(\.message) == [note])
        // The next reconcile, with that message in status, warns no more.
        var status = Lifecycle.statusWritten(by: r)
        status["clusters"] = .list(statusClusters(r))
        let again = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: status), clusters: [Self.cluster("gpu-east", namespace: "models")],
                observed: ["pvc-gpu-east": Self.claim(in: "default"), "hydrate-sa-gpu-east": Lifecycle.readyAccount]))
        #expect(!again.results.contains { $0.reason == "ClaimUnchanged" })
    }

    @Test("A gated model's token copy goes where the kept claim and its Job are, not to the cluster's new namespace")
    func tokenCopyBesideKeptClaim() {
        let request = Fixtures.request(
            Fixtures.modelCache(spec: tokenSpec(), status: Fixtures.status([("gpu-east", "Hydrating")])),
            clusters: [Self.cluster("gpu-east", namespace: "models"), Self.cluster("gpu-ns", namespace: "models")],
            required: ["token-secret": [tokenSecret(["HF_TOKEN": "eA=="])]],
            observed: [
                "pvc-gpu-east": Self.claim(in: "default"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                "hydrate-sa-gpu-ns": Lifecycle.readyAccount,
            ])
        let r = Composer().run(request)
        #expect(Self.namespaces(r, suffix: "-gpu-east")["token-gpu-east"] == "default")
        #expect(Self.namespaces(r, suffix: "-gpu-east")["hydrate-gpu-east"] == "default")
        #expect(Self.namespaces(r, suffix: "-gpu-ns")["token-gpu-ns"] == "models")
        // The same request composes the same response (the per-namespace manifests are built once each).
        #expect(Composer().run(request) == r)
    }

    @Test("A changed input namespace keeps existing claims too, and status names where they are")
    func inputNamespaceChangeKeepsClaims() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])),
                clusters: [gpuEast, Fixtures.cluster("gpu-west")],
                observed: ["pvc-gpu-east": Self.claim(in: "default")],
                input: ["apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "hydration": ["namespace": "serving"]]))
        #expect(Self.namespaces(r, suffix: "-gpu-east")["pvc-gpu-east"] == "default")
        #expect(Self.namespaces(r, suffix: "-gpu-west")["pvc-gpu-west"] == "serving")
        #expect(Self.entry(r, "gpu-east")?["namespace"] == "default")
        #expect(Self.entry(r, "gpu-west")?["namespace"] == nil)
        #expect(
            Self.entry(r, "gpu-east")?["message"]?.stringValue?.hasSuffix(
                #"a claim cannot move; input.hydration.namespace "serving" applies to caches and replicas created later"#
            ) == true, "the note names the field the namespace asked for comes from")
    }

    @Test("An invalid namespace creates no claim on the cluster (Pending, naming the rule); an existing one stays")
    func invalidNamespace() {
        let bad = Self.cluster("gpu-east", namespace: "Models")
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(), clusters: [bad, Fixtures.cluster("gpu-west")]))
        #expect(!r.isFatal)
        #expect(Self.namespaces(r, suffix: "-gpu-east").isEmpty)
        #expect(manifest(r, "pvc-gpu-west") != nil)
        let line = Self.entry(r, "gpu-east")
        #expect(line?["phase"] == "Pending")
        let message = line?["message"]?.stringValue ?? ""
        #expect(message.hasPrefix(#"InferenceCluster gpu-east spec.storage.rwxCache.hydration.namespace "Models""#))
        #expect(message.hasSuffix("; no claim is created on this cluster until it is fixed"))
        #expect(Composer().run(Fixtures.request(bad)).isFatal, "its owner sees it on the InferenceCluster")

        let kept = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])), clusters: [bad],
                observed: ["pvc-gpu-east": Self.claim(in: "default")]))
        #expect(Self.namespaces(kept, suffix: "-gpu-east") == ["pvc-gpu-east": "default"])
        #expect(
            Self.entry(kept, "gpu-east")?["message"]?.stringValue?.hasSuffix(
                "no hydration Job starts on this cluster until it is fixed") == true)
    }

    // MARK: - Replicas

    /// A multi-node replica on `cluster` with an automatic cache.
    static func automaticRequest(cluster: Value, observed: [String: Value] = [:], status: Value? = nil) -> RunRequest {
        var observed = observed
        if observed["cache-hydrate-sa"] == nil { observed["cache-hydrate-sa"] = Lifecycle.readyAccount }
        let workers = Workloads.workers(pipeline: 2, args: ["--model", "Qwen/Qwen2.5-7B-Instruct"])
        return Fixtures.request(
            Workloads.replica(workers: workers, status: status), required: ["cluster": [cluster]], observed: observed)
    }

    @Test("The automatic cache of a replica on a cluster with its own namespace is composed there")
    func automaticCacheInOwnNamespace() {
        let r = Composer().run(Self.automaticRequest(cluster: Self.cluster("gpu-east", namespace: "models")))
        #expect(!r.isFatal)
        var found: [String: String] = [:]
        for (key, resource) in r.desired.resources where key.hasPrefix("cache-") {
            found[key] = resource.object[path: "spec", "forProvider", "manifest", "metadata", "namespace"]?.stringValue
        }
        #expect(found.keys.sorted() == (["cache-hydrate", "cache-pvc"] + Lifecycle.automaticReportKeys).sorted())
        #expect(Set(found.values) == ["models"], "\(found)")
    }

    /// A replica's observed workload Object as it was sent, in `namespace`.
    static func workload(in namespace: String, claim: String) -> Value {
        var o = Fixtures.observedObject(["apiVersion": "apps/v1", "kind": "Deployment"], ready: true)
        o["spec"] = [
            "forProvider": [
                "manifest": [
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": ["name": "modelreplica-ml-team-qwen-gpu-east", "namespace": .string(namespace)],
                    "spec": [
                        "template": [
                            "spec": [
                                "containers": [
                                    [
                                        "name": "engine",
                                        "volumeMounts": [
                                            ["name": "model-cache", "mountPath": "/models/qwen", "subPath": "rev-0"]
                                        ],
                                    ]
                                ],
                                "volumes": [
                                    ["name": "model-cache", "persistentVolumeClaim": ["claimName": .string(claim)]]
                                ],
                            ]
                        ]
                    ],
                ]
            ]
        ]
        return o
    }

    /// A single-node replica of the shared cache whose status entry on gpu-east names `namespace`.
    static func sharedRequest(namespace: String?, cluster: Value, observed: [String: Value] = [:]) -> RunRequest {
        var cache = Workloads.cache(phases: [("gpu-east", "Ready")])
        if let namespace, var entry = cache[path: "status", "clusters"]?.listValue?.first {
            entry["namespace"] = .string(namespace)
            cache["status"]?["clusters"] = [entry]
        }
        return Fixtures.request(
            Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(pipeline: 1)),
            required: ["cluster": [cluster], "cache": [cache]], observed: observed)
    }

    @Test("A replica of a shared cache runs beside the claim, in the namespace the cache's status names")
    func sharedCacheReplicaBesideClaim() {
        // A new replica on a cluster whose namespace changed, of a cache whose claim stayed: beside the claim.
        let old = Composer().run(
            Self.sharedRequest(namespace: nil, cluster: Self.cluster("gpu-east", namespace: "models")))
        #expect(manifest(old, "workload")?[path: "metadata", "namespace"] == "default")
        #expect(manifest(old, "service")?[path: "metadata", "namespace"] == "default")
        let new = Composer().run(Self.sharedRequest(namespace: "models", cluster: gpuEast))
        #expect(manifest(new, "workload")?[path: "metadata", "namespace"] == "models")
        #expect(manifest(new, "service")?[path: "metadata", "namespace"] == "models")
    }

    @Test("A new replica of a cache whose status does not say its namespace (an older release's) waits")
    func cacheNamespaceUnknown() {
        // The replica's own input names another namespace than default; the cache's status names none.
        let input: Value = [
            "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "hydration": ["namespace": "serving"],
        ]
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(pipeline: 1)),
                required: ["cluster": [gpuEast], "cache": [Workloads.cache(phases: [("gpu-east", "Ready")])]],
                input: input))
        #expect(manifest(r, "workload") == nil, "no workload beside no known claim")
        let said = cond(r, "CacheReady")
        #expect(said?.reason == "CacheNamespaceUnknown")
        #expect(
            said?.message?.contains("(status.remoteNamespace is not set; input.hydration.namespace is serving)") == true
        )
    }

    @Test("A running workload never moves: one whose cache's claim is elsewhere is refused, everything kept")
    func runningWorkloadNeverMoves() {
        let claim = "modelcache-ml-team-qwen-2-5"
        let r = Composer().run(
            Self.sharedRequest(
                namespace: "models", cluster: gpuEast,
                observed: ["workload": Self.workload(in: "default", claim: claim)]))
        #expect(r.isFatal)
        #expect(r.results.first?.message.contains("keeping the running workload unchanged") == true)
        #expect(
            r.results.first?.message.contains(
                "is in namespace models (its status.clusters[].namespace) and the running workload in namespace default"
            ) == true, "\(r.results.first?.message ?? "")")
        // The same workload, in the claim's namespace, composes as usual.
        let same = Composer().run(
            Self.sharedRequest(
                namespace: "models", cluster: gpuEast, observed: ["workload": Self.workload(in: "models", claim: claim)]
            ))
        #expect(!same.isFatal)
        #expect(manifest(same, "workload")?[path: "metadata", "namespace"] == "models")
    }

    @Test("A single-node replica without a cache runs in the cluster's namespace, and stays where it runs")
    func noCacheReplica() {
        let single = Workloads.replica(workers: Workloads.workers(pipeline: 1))
        let cluster = Self.cluster("gpu-east", namespace: "models")
        let r = Composer().run(Fixtures.request(single, required: ["cluster": [cluster]]))
        #expect(manifest(r, "workload")?[path: "metadata", "namespace"] == "models")
        let kept = Composer().run(
            Fixtures.request(
                single, required: ["cluster": [cluster]],
                observed: ["workload": Self.workload(in: "default", claim: "x")]))
        #expect(manifest(kept, "workload")?[path: "metadata", "namespace"] == "default")
    }

    @Test("A gang grown from a replica that stays in the old namespace stages beside it, and says so")
    func automaticCacheBesideRunningWorkload() {
        let env: [Value] = [["name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": "hf", "key": "token"]]]]
        let workers = Workloads.workers(pipeline: 2, args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"], env: env)
        func run(_ observed: [String: Value]) -> RunResponse {
            var observed = observed
            observed["cache-hydrate-sa"] = Lifecycle.readyAccount
            observed["workload"] = Self.workload(in: "default", claim: "x")
            return Composer().run(
                Fixtures.request(
                    Workloads.replica(workers: workers),
                    required: ["cluster": [Self.cluster("gpu-east", namespace: "models")]], observed: observed))
        }
        let first = run([:])
        #expect(manifest(first, "cache-pvc")?[path: "metadata", "namespace"] == "default")
        #expect(manifest(first, "cache-hydrate")?[path: "metadata", "namespace"] == "default")
        let claim = CacheStaging.claimName(ownerKind: "modelreplica", namespace: "ml-team", name: "qwen-gpu-east")
        let next = run(["cache-pvc": Self.claim(in: "default", name: claim)])
        #expect(manifest(next, "cache-hydrate")?[path: "metadata", "namespace"] == "default")
        let said = next.conditions.first { $0.type == "CacheReady" }?.message ?? ""
        #expect(
            said.contains(#"stays in namespace default: a claim cannot move; its spec.storage.rwxCache"#), "\(said)")
    }

    @Test("An automatic claim that exists keeps its namespace: CacheReady says so, one Warning")
    func automaticClaimKept() {
        let r = Composer().run(
            Self.automaticRequest(
                cluster: Self.cluster("gpu-east", namespace: "models"),
                observed: [
                    "cache-pvc": Self.claim(
                        in: "default",
                        name: CacheStaging.claimName(
                            ownerKind: "modelreplica", namespace: "ml-team", name: "qwen-gpu-east"))
                ]))
        #expect(manifest(r, "cache-pvc")?[path: "metadata", "namespace"] == "default")
        #expect(manifest(r, "cache-hydrate")?[path: "metadata", "namespace"] == "default")
        let warnings = r.results.filter { $0.reason == "ClaimUnchanged" }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("stays in namespace default") == true)
        #expect(
            warnings.first?.message.contains(#"its spec.storage.rwxCache.hydration.namespace "models""#)
                == true)
    }
}
