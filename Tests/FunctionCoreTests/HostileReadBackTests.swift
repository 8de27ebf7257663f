import Testing

@testable import FunctionCore

/// Hostile or garbage input read back from a cluster or from status never makes a
/// result, a status or a pod unbounded or invalid (lifecycle.md §7 rules 1, 8, 9).
@Suite struct HostileReadBackTests {
    static let v1 = "hf://Qwen/Qwen2.5-0.5B-Instruct@v1"
    static let claim = CacheStaging.claimName(ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5")

    /// A replica of the shared cache (Ready on gpu-east with `v1`) whose XR status is `status`.
    func run(status: Value?, observed: [String: Value] = [:], workers: Value = Workloads.workers()) -> RunResponse {
        let cache = Workloads.cache(phases: [("gpu-east", "Ready")], staged: ["gpu-east": Self.v1])
        return Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: workers, status: status),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]], observed: observed))
    }

    /// The workload `r` composed, observed mid-rollout (old pods may still run).
    func rolling(_ r: RunResponse) -> Value {
        var o = r.desired.resources["workload"]!.object
        var remote = o[path: "spec", "forProvider", "manifest"]!
        remote["metadata"]?["generation"] = 2
        remote["status"] = ["observedGeneration": 2, "replicas": 4, "updatedReplicas": 2]
        o["status"] = ["atProvider": ["manifest": remote]]
        return o
    }

    /// `n` distinct well-formed revision directory names.
    static func revisions(_ n: Int) -> [Value] {
        (0..<n).map { i in
            let hex = String(i, radix: 16)
            return .string("rev-" + String(repeating: "0", count: 12 - hex.count) + hex)
        }
    }

    @Test("100,000 revisions in status.cache.revisions read back reach neither the Usage nor status unbounded")
    func hugeRevisionsList() throws {
        let first = run(status: nil)
        let status: Value = [
            "cache": ["volume": .string(Self.claim), "revisions": .list(Self.revisions(100_000))]
        ]
        let r = run(status: status, observed: ["workload": rolling(first)])
        #expect(!r.isFatal, "\(r.results.map(\.message))")
        let annotation =
            r.desired.resources["usage-modelcache"]?.object[
                path: "metadata", "annotations", "modelplane.ai/cache-revisions"]?.stringValue ?? ""
        #expect(annotation.split(separator: " ").count <= CacheUsage.revisionsLimit + 1)
        let written = r.desired.composite?.object[path: "status", "cache", "revisions"]?.listValue ?? []
        #expect(written.count <= CacheUsage.revisionsLimit + 1)
    }

    /// A status read back whose fields have the wrong types.
    struct Garbage: Sendable, CustomTestStringConvertible {
        let name: String
        let status: Value
        let reason: String
        var testDescription: String { name }
    }

    @Test(
        "A status of the wrong shape read back composes as if absent: no crash, no FATAL",
        arguments: [
            Garbage(name: "CacheIsString", status: ["cache": "x"], reason: "status.cache not an object"),
            Garbage(
                name: "RevisionsNotStrings",
                status: ["cache": ["volume": .string(claim), "revisions": [1, ["a": 1], .list([]), "rev-zz"]]],
                reason: "revisions items of every wrong type"),
            Garbage(
                name: "RevisionsIsString",
                status: ["cache": ["volume": .string(claim), "revisions": "rev-000000000001"]],
                reason: "revisions not a list"),
            Garbage(
                name: "FailureWrongShape",
                status: ["cache": ["phase": "Failed", "failure": [["job": "j"]], "staged": 7, "source": ["x": 1]]],
                reason: "failure a list, staged a number, source an object"),
            Garbage(
                name: "VolumeIsList", status: ["cache": ["volume": ["a"], "revisions": .list(revisions(3))]],
                reason: "volume not a string"),
        ])
    func garbageStatus(_ c: Garbage) throws {
        let first = run(status: nil)
        let r = run(status: c.status, observed: ["workload": rolling(first)])
        #expect(!r.isFatal, "\(c.reason): \(r.results.map(\.message))")
        #expect(r.desired.resources["workload"] != nil, "\(c.reason)")
    }

    /// A user mount of the cache volume and what the function must make of it.
    @Test("A user's cache mount with subPathExpr gets the served subPath alone (the two are mutually exclusive)")
    func subPathExprOnCacheMount() throws {
        var workers = Workloads.workers()
        workers["template"]?["spec"]?["containers"] = [
            ["name": "engine", "image": "vllm/vllm-openai:v0.6.3"],
            [
                "name": "loader", "image": "busybox",
                "volumeMounts": [["name": "model-cache", "mountPath": "/data", "subPathExpr": "$(REV)"]],
            ],
        ]
        let r = run(status: nil, workers: workers)
        #expect(!r.isFatal, "\(r.results.map(\.message))")
        let containers = manifest(r, "workload")?[path: "spec", "template", "spec", "containers"]?.listValue ?? []
        let loader = containers.first { $0["name"] == "loader" }
        let mount = loader?["volumeMounts"]?.listValue?.first
        #expect(mount?["subPath"] == .string(revisionDirectory(Self.v1)))
        #expect(mount?["subPathExpr"] == nil, "the API server rejects subPath together with subPathExpr")
    }

    @Test("A switch whose observed remote workload is garbage keeps the last applied claim and revision")
    func switchWithGarbageRemote() throws {
        let onA = run(status: nil)
        var workload = onA.desired.resources["workload"]!.object
        workload["status"] = ["atProvider": ["manifest": ["kind": "Deployment", "status": ["replicas": 1]]]]
        var usage = onA.desired.resources["usage-modelcache"]!.object
        usage["status"] = ["conditions": [["type": "Ready", "status": "True"]]]
        let cacheB = Workloads.cache(phases: [("gpu-east", "Hydrating")], name: "cache-b")
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "cache-b"),
                required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cacheB]],
                observed: ["workload": workload, "usage-modelcache": usage]))
        let spec = manifest(r, "workload")?[path: "spec", "template", "spec"]
        let volume = spec?["volumes"]?.listValue?.first { $0["name"] == "model-cache" }
        #expect(volume?[path: "persistentVolumeClaim", "claimName"] == .string(Self.claim), "still cache A's claim")
        let engine = spec?["containers"]?.listValue?.first { $0["name"] == "engine" }
        let mount = engine?["volumeMounts"]?.listValue?.first { $0["name"] == "model-cache" }
        #expect(mount?["subPath"] == .string(revisionDirectory(Self.v1)), "never cache B's claim without a subPath")
    }

    /// The engine's mounts composed for a user engine that mounts `mounts` itself.
    func engineMounts(_ mounts: Value) -> (RunResponse, [Value]) {
        var workers = Workloads.workers()
        workers["template"]?["spec"]?["containers"] = [
            ["name": "engine", "image": "vllm/vllm-openai:v0.6.3", "volumeMounts": mounts]
        ]
        let r = run(status: nil, workers: workers)
        let containers = manifest(r, "workload")?[path: "spec", "template", "spec", "containers"]?.listValue ?? []
        return (r, containers.first { $0["name"] == "engine" }?["volumeMounts"]?.listValue ?? [])
    }

    @Test("A user's /dev/shm/ mount (trailing slash) gets no second shared-memory mount at the same directory")
    func sharedMemoryTrailingSlash() throws {
        let (_, mounts) = engineMounts([["name": "dshm", "mountPath": "/dev/shm/"]])
        #expect(mounts.filter { $0["name"] == "dshm" }.count == 1, "\(mounts)")
    }

    @Test("Another volume at the cache path spelled with a trailing slash is FATAL like the exact spelling")
    func conflictTrailingSlash() throws {
        let (r, _) = engineMounts([["name": "weights", "mountPath": "/models/qwen/"]])
        #expect(r.isFatal, "two mounts at /models/qwen in one container")
    }

    @Test(
        "An automatic cache's status of the wrong shape read back: no crash, a valid Job, bounded revisions",
        arguments: [
            ["cache": ["phase": "Failed", "failure": ["job": 1, "attempt": ["x"]]]],
            ["cache": ["phase": "Failed", "failure": ["job": "j", "attempt": "a", "reason": 7]]],
            ["cache": ["phase": ["Ready"], "staged": ["x"], "source": 1, "revisions": "rev-000000000001"]],
            ["cache": ["phase": "Updating", "staged": .string(String(repeating: "x\n", count: 60_000))]],
        ] as [Value])
    func automaticGarbage(_ status: Value) throws {
        let workers = Workloads.workers(pipeline: 2, args: ["--model", "Qwen/Qwen2.5-7B-Instruct"])
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(workers: workers, status: status),
                required: ["cluster": [Fixtures.cluster("gpu-east")]]))
        #expect(!r.isFatal, "\(r.results.map(\.message))")
        let written = r.desired.composite?.object[path: "status", "cache"]
        for key in ["staged", "source", "phase"] {
            #expect((written?[key]?.stringValue?.unicodeScalars.count ?? 0) <= echoLimit, "\(key)")
        }
        #expect(r.desired.resources["cache-pvc"] != nil)
    }
}
