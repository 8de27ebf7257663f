import Testing

@testable import FunctionCore

/// The hand-off to a fast loader (sources.md §2): `spec.mount.loader` on a
/// ModelCache, validated, and the engine arguments a replica's pods get from it.
@Suite struct LoaderTests {
    let compose = Composer()

    /// The default cache spec with `spec.mount.loader` = `loader`.
    static func spec(loader: Value) -> Value {
        with(Fixtures.defaultSpec, "mount", ["path": "/models/qwen", "loader": loader])
    }

    @Test(
        "An invalid loader is FATAL naming the field, the value and the rule",
        arguments: [
            (["format": "Tensorizer"], "spec.mount.loader.format", #""Tensorizer" is not a supported loader format"#),
            ([:], "spec.mount.loader.format", "is required"),
            (
                ["format": "Streamer", "concurrency": 0], "spec.mount.loader.concurrency",
                #""0" must be between 1 and 64"#
            ),
            (
                ["format": "Streamer", "concurrency": 65], "spec.mount.loader.concurrency",
                #""65" must be between 1 and 64"#
            ),
            (["format": "Streamer", "concurrency": "8"], "spec.mount.loader.concurrency", "must be an integer"),
            (["format": "Streamer", "concurrency": 1.5], "spec.mount.loader.concurrency", "must be an integer"),
            ("Streamer", "spec.mount.loader", "must be an object"),
        ] as [(Value, String, String)])
    func invalid(_ loader: Value, _ field: String, _ rule: String) throws {
        let r = compose.run(Fixtures.request(Fixtures.modelCache(spec: Self.spec(loader: loader)), clusters: [gpuEast]))
        let fatal = try #require(r.results.first { $0.severity == .fatal })
        #expect(fatal.message.hasPrefix("Invalid ModelCache ml-team/qwen-2-5: \(field) "), "\(fatal.message)")
        #expect(fatal.message.contains(rule), "\(fatal.message)")
        #expect(r.desired.resources.isEmpty)
    }

    @Test("A valid loader parses, the concurrency defaulting to 16; the cache composes as without it")
    func valid() throws {
        for (loader, concurrency) in [(["format": "Streamer"], 16), (["format": "Streamer", "concurrency": 64], 64)]
            as [(Value, Int64)]
        {
            let spec = try ModelCacheSpec.parse(Self.spec(loader: loader)).get()
            #expect(spec.loader == LoaderSpec(format: .streamer, concurrency: concurrency))
            let r = compose.run(
                Fixtures.request(Fixtures.modelCache(spec: Self.spec(loader: loader)), clusters: [gpuEast]))
            let plain = compose.run(Fixtures.request(Fixtures.modelCache(), clusters: [gpuEast]))
            #expect(!r.isFatal)
            #expect(r.desired.resources == plain.desired.resources, "the loader is the consumers' business")
        }
    }

    /// A Ready cache whose `spec.mount.loader` is `loader`.
    static func cache(loader: Value?) -> Value {
        var cache = Workloads.cache(phases: [("gpu-east", "Ready")])
        if let loader { cache["spec"]?["mount"]?["loader"] = loader }
        return cache
    }

    /// A replica of `workers` (with `status` and `annotations`) mounting a cache whose loader is `loader`.
    func run(
        _ workers: Value, loader: Value? = ["format": "Streamer"], status: Value? = nil, annotations: Value? = nil,
        workload: Value? = nil
    ) -> RunResponse {
        var xr = Workloads.replica(cache: "qwen-2-5", workers: workers, status: status)
        if let annotations { xr["metadata"]?["annotations"] = annotations }
        return compose.run(
            Fixtures.request(
                xr, required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [Self.cache(loader: loader)]],
                observed: workload.map { ["workload": $0] } ?? [:]))
    }

    /// The engine of the composed workload: the Deployment's, or the LeaderWorkerSet's `role` template's.
    func engine(_ r: RunResponse, _ role: String = "leaderTemplate") -> Value? {
        let w = manifest(r, "workload")
        return engineOf(w?[path: "spec", "template"] ?? w?[path: "spec", "leaderWorkerTemplate", role])
    }

    @Test("Single-node vLLM: the streamer's flags after the user's, distributed when tensor > 1; status records it")
    func singleNode() {
        let r = run(Workloads.workers(args: ["--port=8000"]))
        #expect(
            engine(r)?["args"] == [
                "--port=8000", "--model=/models/qwen", "--load-format=runai_streamer",
                #"--model-loader-extra-config={"concurrency":16,"distributed":true}"#,
            ])
        #expect(r.desired.composite?.object[path: "status", "loader"] == ["format": "Streamer", "concurrency": 16])
        #expect(cond(r, "LoaderApplied")?.reason == "Applied")
        #expect(r.results.isEmpty)

        var one = Workloads.workers(args: [])
        one["topology"]?["tensor"] = 1
        #expect(
            engine(run(one, loader: ["format": "Streamer", "concurrency": 4]))?["args"]?.listValue?.last
                == #"--model-loader-extra-config={"concurrency":4}"#)
    }

    @Test("Multi-node: the flags go to the leader only; the workers run Ray")
    func multiNode() {
        let r = run(Workloads.workers(pipeline: 2, args: []))
        #expect(
            engine(r)?["args"] == [
                "--model=/models/qwen", "--load-format=runai_streamer",
                #"--model-loader-extra-config={"concurrency":16,"distributed":true}"#, "--tensor-parallel-size=4",
                "--pipeline-parallel-size=2",
            ])
        #expect(engine(r, "workerTemplate")?["args"] == nil)
    }

    @Test("An engine with its own command is left alone, with a Warning only at the transition")
    func ownCommand() {
        let workers = Workloads.workers(args: ["serve"], command: ["python3", "serve.py"])
        let r = run(workers)
        #expect(engine(r)?["args"] == ["serve"])
        #expect(cond(r, "LoaderApplied")?.reason == "NotVLLM")
        #expect(r.results.map(\.reason) == ["LoaderIgnored"])
        #expect(r.results.first?.severity == .warning)
        let again = run(
            workers, status: ["conditions": [["type": "LoaderApplied", "status": "False", "reason": "NotVLLM"]]])
        #expect(again.results.isEmpty, "not every reconcile")
    }

    @Test(
        "A user's own --load-format (or extra config) wins, with a Warning, and nothing of the loader is added",
        arguments: [
            ["--load-format", "safetensors"], ["--load-format=auto"], [#"--model-loader-extra-config={"x":1}"#],
        ] as [[Value]])
    func ownLoadFormat(_ args: [Value]) {
        let r = run(Workloads.workers(args: args))
        #expect(engine(r)?["args"] == .list(args + ["--model=/models/qwen"]))
        #expect(cond(r, "LoaderApplied")?.reason == "EngineOwnLoader")
        #expect(cond(r, "LoaderApplied")?.message?.contains(args[0].stringValue!.prefix(13)) == true)
        #expect(r.results.map(\.reason) == ["LoaderIgnored"])
    }

    @Test("Without a loader nothing changes: no flags, no status.loader, no condition")
    func none() {
        let r = run(Workloads.workers(args: []), loader: nil)
        #expect(engine(r)?["args"] == ["--model=/models/qwen"])
        #expect(r.desired.composite?.object[path: "status", "loader"] == nil)
        #expect(cond(r, "LoaderApplied") == nil)
    }

    @Test("A running workload keeps the loader it has until it rolls out for another reason")
    func pending() throws {
        let workers = Workloads.workers(args: [])
        let running = try #require(manifest(run(workers, loader: nil), "workload"))
        let object: Value = ["spec": ["forProvider": ["manifest": running]]]
        let r = run(workers, workload: object)
        #expect(manifest(r, "workload") == running, "the cache's new loader alone changes nothing")
        #expect(cond(r, "LoaderApplied")?.reason == "Pending")
        #expect(r.desired.composite?.object[path: "status", "loader"] == nil)

        var image = workers
        var containers = image[path: "template", "spec", "containers"]?.listValue ?? []
        containers[0]["image"] = "vllm/vllm-openai:v0.7.0"
        image["template"]?["spec"]?["containers"] = .list(containers)
        let rollout = run(image, workload: object)
        #expect(engine(rollout)?["args"]?.listValue?.contains("--load-format=runai_streamer") == true)
        #expect(cond(rollout, "LoaderApplied")?.reason == "Applied")

        let bumped = run(workers, annotations: ["modelplane.ai/apply-loader": "x"], workload: object)
        #expect(engine(bumped)?["args"]?.listValue?.contains("--load-format=runai_streamer") == true)
        #expect(
            bumped.desired.composite?.object[path: "status", "loader"] == [
                "format": "Streamer", "concurrency": 16, "annotation": "x",
            ])
    }

    @Test(
        "An annotation with a newline or over 1,024 characters is recorded echoed and applies once, not every reconcile"
    )
    func hostileAnnotation() throws {
        let workers = Workloads.workers(args: [])
        let running = try #require(manifest(run(workers, loader: nil), "workload"))
        let object: Value = ["spec": ["forProvider": ["manifest": running]]]
        let hostile: Value = .string("a\n" + String(repeating: "x", count: 5000))
        let first = run(workers, annotations: ["modelplane.ai/apply-loader": hostile], workload: object)
        let recorded = try #require(first.desired.composite?.object[path: "status", "loader"])
        #expect(recorded["annotation"]?.stringValue?.unicodeScalars.count == echoLimit)
        // The next change of the cache's loader waits again: the same annotation is not a new value.
        let next = run(
            workers, loader: ["format": "Streamer", "concurrency": 8], status: ["loader": recorded],
            annotations: ["modelplane.ai/apply-loader": hostile],
            workload: ["spec": ["forProvider": ["manifest": manifest(first, "workload")!]]])
        #expect(cond(next, "LoaderApplied")?.reason == "Pending")
        #expect(manifest(next, "workload") == manifest(first, "workload"))
    }

    @Test(
        "A garbled status.loader reads as none: a workload running the cache's loader keeps it and status is rewritten")
    func garbledStatus() throws {
        let workers = Workloads.workers(args: [])
        let running = try #require(manifest(run(workers), "workload"))
        for garbled: Value in [
            ["format": "Streamer", "concurrency": 1_000_000_000], ["format": "Tensorizer"], "Streamer", ["x": 1],
        ] {
            let r = run(
                workers, status: ["loader": garbled], workload: ["spec": ["forProvider": ["manifest": running]]])
            #expect(manifest(r, "workload") == running)
            #expect(r.desired.composite?.object[path: "status", "loader"] == ["format": "Streamer", "concurrency": 16])
            #expect(cond(r, "LoaderApplied")?.reason == "Applied")
        }
    }

    @Test("A pending loader's message says what the cache sets and what the pods keep")
    func pendingMessages() {
        let l16 = LoaderSpec(format: .streamer)
        let l8 = LoaderSpec(format: .streamer, concurrency: 8)
        func message(_ current: LoaderSpec?, _ kept: LoaderSpec?) -> String? {
            let outcome = LoaderHandOff.Outcome(manifest: .null, applied: kept, pending: true)
            return LoaderHandOff.condition(outcome, current: current)?.message
        }
        let next = "the pods' next rollout, or a new value of annotation modelplane.ai/apply-loader"
        #expect(message(l16, nil) == "The cache's loader Streamer (concurrency 16) waits for \(next)")
        #expect(
            message(l8, l16)
                == "The cache's loader changed to Streamer (concurrency 8); the pods keep Streamer (concurrency 16) until \(next)"
        )
        #expect(
            message(nil, l16)
                == "The cache no longer sets a loader; the pods keep Streamer (concurrency 16) until \(next)")
    }
}
