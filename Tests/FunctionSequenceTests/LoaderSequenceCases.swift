import FunctionCore
import Testing

/// Sequences of the hand-off to a fast loader (sources.md §2): a change of a
/// cache's `spec.mount.loader` reaches a serving replica at its next rollout for
/// another reason, or when its `modelplane.ai/apply-loader` annotation changes;
/// never by itself.
@Suite struct LoaderSequenceCases {
    /// The arguments the streamer adds for a one-GPU engine at `concurrency`.
    static func streamerArgs(_ concurrency: Int) -> [String] {
        ["--load-format=runai_streamer", #"--model-loader-extra-config={"concurrency":\#(concurrency)}"#]
    }

    @Test("A loader added while serving waits; an image change rolls it out; a removal waits for the annotation")
    func addedThenRolledOutThenRemoved() {
        var w = World.servingReplica()
        let first = w.templates("solo")
        w.setSpec(.cache("qwen"), World.cacheSpec(loader: ["format": "Streamer"]))
        w.step(3)
        #expect(w.templates("solo") == first, "the cache edit alone restarts nothing")
        #expect(w.engineArgs("solo").filter { $0.hasPrefix("--load-format") }.isEmpty)
        #expect(w.loaderCondition("solo")?["reason"] == "Pending")
        #expect(w.xrs[.replica("solo")]?.status["loader"] == nil, "nothing applied yet")

        // An unrelated change rolls the pods out: the loader goes with it.
        w.setSpec(.replica("solo"), World.replicaSpec(image: "vllm/vllm-openai:v0.6.4"))
        w.step()
        #expect(w.templates("solo") == first + 1, "one rollout, for the image")
        #expect(Array(w.engineArgs("solo").suffix(2)) == Self.streamerArgs(16))
        #expect(w.xrs[.replica("solo")]?.status["loader"] == ["format": "Streamer", "concurrency": 16])
        #expect(w.loaderCondition("solo")?["reason"] == "Applied")
        w.run(until: "the replica serves the new image") { $0.xrs[.replica("solo")]?.isReady == true }

        // Removed: the pods keep the loader until the annotation asks for the change.
        let withLoader = w.templates("solo")
        w.setSpec(.cache("qwen"), World.cacheSpec())
        w.step(3)
        #expect(w.templates("solo") == withLoader)
        #expect(w.loaderCondition("solo")?["reason"] == "Pending")
        w.xrs[.replica("solo")]?.annotations[LoaderSequenceCases.applyAnnotation] = "1"
        w.step()
        #expect(w.templates("solo") == withLoader + 1, "the annotation rolls the removal out")
        #expect(w.engineArgs("solo").filter { $0.hasPrefix("--load-format") }.isEmpty)
        #expect(w.xrs[.replica("solo")]?.status["loader"] == ["annotation": "1"])
        #expect(w.loaderCondition("solo")?["reason"] == "NoLoader")
        w.step(2)
        #expect(w.templates("solo") == withLoader + 1, "and nothing more")
        w.expectNoViolations()
    }

    @Test("A new value of the apply annotation takes a changed loader at once; the same value again does nothing")
    func annotationBump() {
        var w = World.servingReplica(loader: ["format": "Streamer"])
        #expect(Array(w.engineArgs("solo").suffix(2)) == Self.streamerArgs(16), "a new replica gets it at creation")
        let first = w.templates("solo")
        w.setSpec(.cache("qwen"), World.cacheSpec(loader: ["format": "Streamer", "concurrency": 32]))
        w.step(2)
        #expect(w.templates("solo") == first)
        #expect(w.xrs[.replica("solo")]?.status[path: "loader", "concurrency"] == 16)
        w.xrs[.replica("solo")]?.annotations[LoaderSequenceCases.applyAnnotation] = "2026-12-06"
        w.step()
        #expect(Array(w.engineArgs("solo").suffix(2)) == Self.streamerArgs(32))
        #expect(w.xrs[.replica("solo")]?.status[path: "loader", "annotation"] == "2026-12-06")
        w.run(until: "the replica serves again") { $0.xrs[.replica("solo")]?.isReady == true }
        let applied = w.templates("solo")
        w.step(3)
        #expect(w.templates("solo") == applied, "the annotation, unchanged, applies nothing more")
        #expect(w.loaderCondition("solo")?["reason"] == "Applied")
        w.expectNoViolations()
    }

    @Test("A loader that flaps (changed and changed back, removed and added back) never restarts the pods")
    func flapping() {
        var w = World.servingReplica(loader: ["format": "Streamer"])
        let first = w.templates("solo")
        for loader: Value? in [
            ["format": "Streamer", "concurrency": 8], ["format": "Streamer"], nil, ["format": "Streamer"],
            ["format": "Streamer", "concurrency": 64], nil, ["format": "Streamer", "concurrency": 16],
        ] {
            w.setSpec(.cache("qwen"), World.cacheSpec(loader: loader))
            w.step()
            #expect(w.templates("solo") == first)
        }
        #expect(w.xrs[.replica("solo")]?.status["loader"] == ["format": "Streamer", "concurrency": 16])
        #expect(w.loaderCondition("solo")?["reason"] == "Applied")
        #expect(w.xrs[.replica("solo")]?.isReady == true)
        w.expectNoViolations()
    }

    @Test("A cache update's rollout takes the loader added while serving with it, in the same rollout")
    func cacheUpdateTakesIt() {
        var w = World.servingReplica()
        w.setSpec(.cache("qwen"), World.cacheSpec(loader: ["format": "Streamer", "concurrency": 4]))
        w.step(2)
        let first = w.templates("solo")
        w.setSpec(.cache("qwen"), World.cacheSpec(revision: "v2", loader: ["format": "Streamer", "concurrency": 4]))
        w.run(until: "the pods roll out to v2") { $0.templates("solo") > first }
        #expect(w.templates("solo") == first + 1, "one rollout, the revision's")
        #expect(Array(w.engineArgs("solo").suffix(2)) == Self.streamerArgs(4))
        w.run(until: "the replica serves v2") { $0.xrs[.replica("solo")]?.isReady == true }
        w.expectNoViolations()
    }

    @Test("An engine with its own command ignores the loader, with one Warning at the transition, and never restarts")
    func ownCommandWarnsOnce() {
        var w = World.servingReplica(command: ["python3", "-m", "my_server"])
        let first = w.templates("solo")
        w.setSpec(.cache("qwen"), World.cacheSpec(loader: ["format": "Streamer"]))
        w.step(3)
        #expect(w.templates("solo") == first)
        #expect(w.loaderCondition("solo")?["reason"] == "NotVLLM")
        let warnings = w.events.filter { $0.xr == .replica("solo") && $0.result.reason == "LoaderIgnored" }
        #expect(warnings.count == 1, "one Warning, at the transition")
        #expect(w.xrs[.replica("solo")]?.status[path: "loader", "format"] == "Streamer")
        w.expectNoViolations()
    }

    @Test("The apply annotation on a ModelDeployment reaches its replicas, which take the changed loader")
    func deploymentAnnotation() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(.cache("qwen"), spec: World.cacheSpec())
        w.add(.deployment("chat"), spec: Build.deploymentSpec(cache: "qwen", workers: World.workers()))
        w.run(until: "the deployment serves") { $0.readyClusters(of: "chat") == ["gpu-east"] }
        w.setSpec(.cache("qwen"), World.cacheSpec(loader: ["format": "Streamer"]))
        w.step(2)
        let replica = "chat-gpu-east"
        #expect(w.engineArgs(replica).filter { $0.hasPrefix("--load-format") }.isEmpty)
        w.xrs[.deployment("chat")]?.annotations[LoaderSequenceCases.applyAnnotation] = "now"
        w.step(2)
        #expect(w.xrs[.replica(replica)]?.annotations[LoaderSequenceCases.applyAnnotation] == "now")
        #expect(Array(w.engineArgs(replica).suffix(2)) == Self.streamerArgs(16))
        w.run(until: "the deployment serves again") { $0.readyClusters(of: "chat") == ["gpu-east"] }
        w.expectNoViolations()
    }

    @Test(
        "A multi-node gang: the loader added while serving waits, then the annotation gives the leader alone the flags")
    func multiNode() {
        var w = World.servingReplica(tensor: 4, pipeline: 2)
        let first = w.templates("solo")
        w.setSpec(.cache("qwen"), World.cacheSpec(loader: ["format": "Streamer", "concurrency": 24]))
        w.step(3)
        #expect(w.templates("solo") == first)
        #expect(w.loaderCondition("solo")?["reason"] == "Pending")
        w.xrs[.replica("solo")]?.annotations[LoaderSequenceCases.applyAnnotation] = "go"
        w.step()
        #expect(w.templates("solo") == first + 1)
        #expect(
            w.engineArgs("solo").contains(#"--model-loader-extra-config={"concurrency":24,"distributed":true}"#))
        let worker = RemoteWorkload.template(w.remoteWorkload("solo")?.manifest ?? .null)[
            path: "workerTemplate", "spec", "containers"]?.listValue?.first
        #expect(worker?["args"] == nil, "the workers run Ray, not the engine")
        w.run(until: "the gang serves again") { $0.xrs[.replica("solo")]?.isReady == true }
        w.expectNoViolations()
    }

    /// The annotation whose new values apply the cache's loader.
    static let applyAnnotation = "modelplane.ai/apply-loader"
}

extension World {
    /// A cache spec (Build.cacheSpec) with `spec.mount.loader` set to `loader`, if given.
    static func cacheSpec(revision: String? = nil, loader: Value? = nil) -> Value {
        var spec = Build.cacheSpec(revision: revision)
        if let loader { spec["mount"]?["loader"] = loader }
        return spec
    }

    /// Workers of `pipeline` nodes of `tensor` GPUs whose vLLM engine (or, with `command`, an
    /// engine of its own) reads the cache's mount path.
    static func workers(
        image: String = "vllm/vllm-openai:v0.6.3", command: [String]? = nil, tensor: Int64 = 1, pipeline: Int64 = 1
    ) -> Value {
        var engine: Value = ["name": "engine", "image": .string(image), "args": ["--port=8000"]]
        if let command { engine["command"] = .list(command.map(Value.string)) }
        return [
            "count": 1, "topology": ["tensor": .int(tensor), "pipeline": .int(pipeline)],
            "template": ["spec": ["containers": [engine]]],
        ]
    }

    /// A replica spec on gpu-east mounting cache `qwen`.
    static func replicaSpec(
        image: String = "vllm/vllm-openai:v0.6.3", command: [String]? = nil, tensor: Int64 = 1, pipeline: Int64 = 1
    ) -> Value {
        Build.replicaSpec(
            cluster: "gpu-east", cache: "qwen",
            workers: workers(image: image, command: command, tensor: tensor, pipeline: pipeline))
    }

    /// A world where replica `solo` serves from cache `qwen` (with `loader`, if given) on gpu-east.
    static func servingReplica(
        loader: Value? = nil, command: [String]? = nil, tensor: Int64 = 1, pipeline: Int64 = 1
    ) -> World {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(.cache("qwen"), spec: cacheSpec(loader: loader))
        w.add(.replica("solo"), spec: replicaSpec(command: command, tensor: tensor, pipeline: pipeline))
        w.run(until: "the replica serves") { $0.xrs[.replica("solo")]?.isReady == true }
        return w
    }

    /// The remote workload of replica `name` on gpu-east.
    func remoteWorkload(_ name: String) -> RemoteWorkload? {
        remotes[Build.providerConfig("gpu-east")]?.workloads.values.first { $0.owner == .replica(name) }
    }

    /// How many pod templates replica `name`'s workload was given so far (one more per rollout).
    func templates(_ name: String) -> Int { remoteWorkload(name)?.templates ?? 0 }

    /// The serving engine's arguments in replica `name`'s workload as last applied.
    func engineArgs(_ name: String) -> [String] {
        let template = RemoteWorkload.template(remoteWorkload(name)?.manifest ?? .null)
        let spec = template[path: "spec"] ?? template[path: "leaderTemplate", "spec"]
        let engine = spec?["containers"]?.listValue?.first { $0["name"] == "engine" }
        return engine?["args"]?.listValue?.compactMap(\.stringValue) ?? []
    }

    /// Replica `name`'s `LoaderApplied` condition.
    func loaderCondition(_ name: String) -> Value? {
        conditionOf(xrs[.replica(name)]?.object, "LoaderApplied")
    }
}
