import Testing

@testable import FunctionCore

/// The `volume` source (sources.md §1): a claim someone else fills becomes a cache. The
/// claim is observed, never composed; the check Job reads it; workloads mount it read-only.
@Suite struct VolumeSourceTests {
    static let identity = "pvc://shared-weights/llama/3.1-8b"
    static let volumeSpec = sourced(["volume": ["claimName": "shared-weights", "subPath": "llama/3.1-8b"]])

    /// One reconcile of the volume cache on `clusters`, observing `observed`.
    func run(
        spec: Value = volumeSpec, status: Value? = nil, clusters: [Value] = [Fixtures.cluster("gpu-east")],
        observed: [String: Value] = [:], usages: [Value] = []
    ) -> RunResponse {
        Composer().run(
            Fixtures.request(
                Fixtures.modelCache(spec: spec, status: status), clusters: clusters, required: ["consumers": usages],
                observed: observed))
    }

    /// The cluster's `status.clusters[]` entry written by `r`.
    func entry(_ r: RunResponse, _ cluster: String = "gpu-east") -> Value? {
        r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first {
            $0["name"]?.stringValue == cluster
        }
    }

    /// The observed claim Object as the provider reports the user's claim: `phase`, or absent.
    func observedClaim(_ phase: String?) -> Value {
        let staging = CacheStaging(
            ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5",
            source: .volume(VolumeSource(claimName: "shared-weights", subPath: "llama/3.1-8b")), token: nil,
            labels: [:], settings: Settings())
        var object = staging.claimObject(
            providerConfig: "pc-gpu-east", claim: staging.claimManifest(storageClass: "", size: ""))
        object["status"] = [
            "atProvider": phase.map { ["manifest": ["status": ["phase": .string($0)]]] } ?? [:],
            "conditions": [["type": "Ready", "status": phase == "Bound" ? "True" : "False", "reason": "Available"]],
        ]
        return object
    }

    /// Expects `r` to observe the user's claim in `namespace`, never to manage it.
    func expectObserved(_ r: RunResponse, namespace: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let claim = try #require(
            r.desired.resources[ResourceKey.claim(on: "gpu-east")]?.object, sourceLocation: sourceLocation)
        #expect(claim[path: "spec", "managementPolicies"] == ["Observe"], sourceLocation: sourceLocation)
        #expect(
            claim[path: "spec", "forProvider", "manifest"]
                == [
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": "shared-weights", "namespace": .string(namespace)],
                ], sourceLocation: sourceLocation)
    }

    @Test("The identity pins itself, and reads back only when its parts obey the rules")
    func identity() throws {
        let spec = try ModelCacheSpec.parse(Self.volumeSpec).get()
        #expect(spec.source.identity == Self.identity)
        #expect(spec.source.selfPin == Self.identity)
        #expect(
            VolumeSource(identity: Self.identity) == VolumeSource(claimName: "shared-weights", subPath: "llama/3.1-8b"))
        #expect(VolumeSource(identity: "pvc://w") == VolumeSource(claimName: "w", subPath: nil))
        for bad in [
            "pvc://", "pvc://W", "pvc://w/", "pvc://w/../x", "pvc://w//x", "pvc://w/a\nb", "hf://w", "pvc://w/$(X)",
        ] {
            #expect(VolumeSource(identity: bad) == nil, "\(bad)")
        }
    }

    @Test("Adopting the claim: an observe-only Object, no size, no rwxCache needed; Pending until it is Bound")
    func adopt() throws {
        let r = run(clusters: [Fixtures.cluster("gpu-east", rwx: nil)])
        #expect(!r.results.contains { $0.severity == .fatal })
        try expectObserved(r, namespace: "default")
        #expect(r.desired.resources[ResourceKey.job(on: "gpu-east")] == nil)
        let e = try #require(entry(r))
        #expect(e["phase"] == "Pending")
        #expect(e["message"]?.stringValue?.contains("created and filled by someone else") == true)
        #expect(r.desired.composite?.object[path: "status", "resolved", "commit"] == .string(Self.identity))
    }

    @Test("On a cluster with its own remote namespace, the claim is observed there and the wait names it")
    func ownNamespace() throws {
        let r = run(clusters: [ClusterNamespaceTests.cluster("gpu-east", namespace: "models")])
        #expect(!r.results.contains { $0.severity == .fatal })
        try expectObserved(r, namespace: "models")
        let e = try #require(entry(r))
        #expect(e["phase"] == "Pending")
        #expect(e["namespace"] == "models")
        #expect(
            e["message"]?.stringValue?.hasPrefix("Waiting for claim shared-weights in namespace models: ") == true,
            "\(String(describing: e["message"]))")
    }

    @Test("The check Job waits until the claim is seen: a pod of a missing claim would only wait for its deadline")
    func checkWaitsForClaim() throws {
        let account = ["hydrate-sa-gpu-east": Lifecycle.readyAccount]
        let missing = run(observed: account)
        #expect(missing.desired.resources[ResourceKey.job(on: "gpu-east")] == nil)
        #expect(missing.desired.resources[ResourceKey.claim(on: "gpu-east")] != nil)
        let e = try #require(entry(missing))
        #expect(e["phase"] == "Pending")
        #expect(
            e["message"]?.stringValue?.hasPrefix("Waiting for claim shared-weights in namespace default: ") == true,
            "\(String(describing: e["message"]))")
        // A claim not bound yet (a WaitForFirstConsumer class binds for the first pod) gets its check Job.
        let pending = run(observed: account.merging(["pvc-gpu-east": observedClaim("Pending")]) { a, _ in a })
        #expect(pending.desired.resources[ResourceKey.job(on: "gpu-east")] != nil)
    }

    @Test("The check Job: same program and report, the claim read-only at the subPath, nothing that writes")
    func checkJob() throws {
        let r = run(
            observed: [
                "pvc-gpu-east": observedClaim("Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
            ])
        let job = try #require(r.desired.resources[ResourceKey.job(on: "gpu-east")]?.object)
        let manifest = try #require(job[path: "spec", "forProvider", "manifest"])
        let pod = try #require(manifest[path: "spec", "template", "spec"])
        let cache = pod["volumes"]?.listValue?.first { $0["name"] == "cache" }
        #expect(cache?["persistentVolumeClaim"] == ["claimName": "shared-weights", "readOnly": true])
        let container = try #require(pod["containers"]?.listValue?.first)
        let mount = container["volumeMounts"]?.listValue?.first { $0["name"] == "cache" }
        #expect(mount == ["name": "cache", "mountPath": "/cache", "readOnly": true, "subPath": "llama/3.1-8b"])
        let env = container["env"]?.listValue ?? []
        func value(_ name: String) -> Value? { env.first { $0["name"]?.stringValue == name }?["value"] }
        #expect(value("MODELCACHE_SOURCE") == .string(Self.identity))
        #expect(value("MODELCACHE_COMMIT") == .string(Self.identity))
        #expect(value("MODELCACHE_KEEP") == nil)
        #expect(value("MODELCACHE_CLAIM_BYTES") == nil)
        #expect(pod[path: "securityContext", "fsGroup"] == nil)
        #expect(pod[path: "securityContext", "runAsNonRoot"] == true)
        #expect(manifest[path: "spec", "podFailurePolicy"] != nil)
        for key in Lifecycle.reportKeys("gpu-east") { #expect(r.desired.resources[ResourceKey(rawValue: key)] != nil) }
        #expect(entry(r)?["message"]?.stringValue?.hasPrefix("Checking the files of \(Self.identity)") == true)
    }

    @Test("Its Complete report carrying the identity makes the cluster Ready; then the Job leaves")
    func readyFromReport() throws {
        let first = run(
            observed: ["pvc-gpu-east": observedClaim("Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount])
        let job = try #require(first.desired.resources[ResourceKey.job(on: "gpu-east")]?.object)
        let manifest = try #require(job[path: "spec", "forProvider", "manifest"])
        let name = manifest[path: "metadata", "name"]?.stringValue ?? ""
        let report = Lifecycle.observedReport(
            Lifecycle.report(job: name, source: Self.identity, commit: Self.identity, phase: "Complete"))
        let r = run(
            status: Lifecycle.statusWritten(by: first),
            observed: [
                "pvc-gpu-east": observedClaim("Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                "hydrate-gpu-east": Lifecycle.observedJob(manifest, ("Complete", "Completed", "")),
                "report-gpu-east": report,
            ])
        let e = try #require(entry(r))
        #expect(e["phase"] == "Ready")
        #expect(e["staged"] == .string(Self.identity))
        #expect(r.desired.resources[ResourceKey.job(on: "gpu-east")] == nil)
        #expect(
            r.desired.resources[ResourceKey.claim(on: "gpu-east")]?.object[path: "spec", "managementPolicies"] == [
                "Observe"
            ])
        #expect(r.desired.composite?.ready == .ready)
    }

    @Test("Exit 10 and 12 say what to fix on the claim, not on a hub")
    func failures() throws {
        let first = run(
            observed: ["pvc-gpu-east": observedClaim("Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount])
        let manifest = try #require(
            first.desired.resources[ResourceKey.job(on: "gpu-east")]?.object[path: "spec", "forProvider", "manifest"])
        for (code, words) in [
            (10, "no files were found in directory llama/3.1-8b of claim shared-weights"),
            (12, ".modelcache-manifest.json"),
        ] {
            let r = run(
                status: Lifecycle.statusWritten(by: first),
                observed: [
                    "pvc-gpu-east": observedClaim("Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                    "hydrate-gpu-east": Lifecycle.observedJob(manifest, Lifecycle.failedWith(exitCode: code)),
                ])
            let e = try #require(entry(r))
            #expect(e["phase"] == "Failed")
            #expect(e["message"]?.stringValue?.contains(words) == true, "\(e)")
        }
    }

    @Test("Deselected: kept observed while a replica uses it, released (the Object only) otherwise")
    func deselected() throws {
        let staged: Value = [
            "clusters": [
                [
                    "name": "gpu-west", "phase": "Ready", "source": .string(Self.identity),
                    "staged": .string(Self.identity), "consumers": 1,
                ],
                [
                    "name": "gpu-north", "phase": "Ready", "source": .string(Self.identity),
                    "staged": .string(Self.identity), "consumers": 0,
                ],
            ]
        ]
        var west = observedClaim("Bound")
        west["spec"]?["providerConfigRef"]?["name"] = "pc-gpu-west"
        var usage = Lifecycle.usage("r", cluster: "gpu-west", revision: "x", cache: "qwen-2-5")
        usage["metadata"]?["labels"]?["modelplane.ai/cache-revision"] = nil
        let r = run(
            status: staged, clusters: [], observed: ["pvc-gpu-west": west, "pvc-gpu-north": observedClaim("Bound")],
            usages: [usage])
        let kept = try #require(r.desired.resources[ResourceKey.claim(on: "gpu-west")]?.object)
        #expect(kept[path: "spec", "managementPolicies"] == ["Observe"])
        #expect(kept[path: "spec", "providerConfigRef", "name"] == "pc-gpu-west")
        #expect(entry(r, "gpu-west")?["phase"] == "Retained")
        #expect(r.desired.resources[ResourceKey.claim(on: "gpu-north")] == nil)
        #expect(r.results.contains { $0.message.contains("Released cache ml-team/qwen-2-5 on gpu-north") })
    }

    @Test("A replica mounts the claim read-only at the subPath; its Usage names no revision")
    func replicaMounts() throws {
        var cache = Workloads.cache(phases: [("gpu-east", "Ready")], staged: ["gpu-east": Self.identity])
        cache["spec"]?["artifact"] = ["source": ["volume": ["claimName": "shared-weights", "subPath": "llama/3.1-8b"]]]
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(pipeline: 1)),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]]))
        let workload = try #require(r.desired.resources[.workload]?.object[path: "spec", "forProvider", "manifest"])
        let pod = try #require(workload[path: "spec", "template", "spec"])
        let volume = pod["volumes"]?.listValue?.first { $0["name"] == "model-cache" }
        #expect(volume?["persistentVolumeClaim"] == ["claimName": "shared-weights", "readOnly": true])
        let engine = pod["containers"]?.listValue?.first { $0["name"] == "engine" }
        let mount = engine?["volumeMounts"]?.listValue?.first { $0["name"] == "model-cache" }
        #expect(
            mount == ["name": "model-cache", "mountPath": "/models/qwen", "readOnly": true, "subPath": "llama/3.1-8b"])
        let usage = try #require(r.desired.resources[.cacheUsage]?.object)
        #expect(usage[path: "metadata", "labels", "modelplane.ai/cache-revision"] == nil)
        #expect(usage[path: "metadata", "annotations"] == nil)
        let ready = try #require(r.conditions.first { $0.type == "CacheReady" })
        #expect(ready.status == .true)
        #expect(
            ready.message == "The cache is staged on gpu-east; the pods read directory llama/3.1-8b (\(Self.identity))")
        let status = r.desired.composite?.object[path: "status", "cache"]
        #expect(status?["volume"] == "shared-weights")
        #expect(status?["revision"] == nil)
    }

    @Test("A cache whose kind changed mounts what is staged where it is staged, never one claim's path on another")
    func kindChange() throws {
        // The spec says volume now, but the cluster still serves the Hugging Face revision on our claim.
        var cache = Workloads.cache(phases: [("gpu-east", "Updating")], staged: ["gpu-east": Workloads.source])
        cache["spec"]?["artifact"] = ["source": ["volume": ["claimName": "shared-weights"]]]
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: Workloads.workers(pipeline: 1)),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]]))
        let pod = try #require(
            r.desired.resources[.workload]?.object[path: "spec", "forProvider", "manifest", "spec", "template", "spec"])
        let volume = pod["volumes"]?.listValue?.first { $0["name"] == "model-cache" }
        let ours = CacheStaging.claimName(ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5")
        #expect(volume?["persistentVolumeClaim"] == ["claimName": .string(ours)])
        let engine = pod["containers"]?.listValue?.first { $0["name"] == "engine" }
        let mount = engine?["volumeMounts"]?.listValue?.first { $0["name"] == "model-cache" }
        #expect(mount?["subPath"] == .string(revisionDirectory(Workloads.source)))
    }

    @Test("spec.storage.sizeGiB does not apply to someone else's claim")
    func sizeIgnored() throws {
        var spec = Self.volumeSpec
        spec["storage"] = ["sizeGiB": 500]
        let r = run(spec: spec)
        let manifest = r.desired.resources[ResourceKey.claim(on: "gpu-east")]?.object[
            path: "spec", "forProvider", "manifest"]
        #expect(manifest?["spec"] == nil)
    }
}
