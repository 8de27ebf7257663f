import Testing

@testable import FunctionCore

/// Pod templates stay valid and expand nothing the function wrote (lifecycle.md §7 rule 9).
@Suite struct PodTemplateValidityTests {
    /// A mount path with a `$`, and why it must be refused.
    struct DollarPath: Sendable, CustomTestStringConvertible {
        let name: String
        let path: String
        let reason: String
        var testDescription: String { name }
    }

    @Test(
        "A mount path containing '$' is FATAL naming spec.mount.path",
        arguments: [
            DollarPath(
                name: "VariableReference", path: "/models/$(HF_TOKEN)",
                reason: "Kubernetes would put the consumer's token into the engine's --model"),
            DollarPath(name: "BareDollar", path: "/models/$x", reason: "A lone '$' is refused too: one simple rule"),
            DollarPath(
                name: "EscapedReference", path: "/models/$$(X)", reason: "An escaped reference still holds a '$'"),
        ])
    func dollarInMountPath(_ c: DollarPath) throws {
        let spec = with(Fixtures.defaultSpec, "mount", ["path": .string(c.path)])
        let r = Composer().run(
            Fixtures.request(Fixtures.modelCache(spec: spec), clusters: [Fixtures.cluster("gpu-east")]))
        let fatal = try #require(r.results.first { $0.severity == .fatal }, "\(c.reason)")
        #expect(fatal.message.contains("spec.mount.path \(quote(c.path)) must not contain '$'"), "\(fatal.message)")
        #expect(r.desired.resources.isEmpty)
    }

    /// A value the function writes into args, and how it must read.
    struct Literal: Sendable, CustomTestStringConvertible {
        let name: String
        let value: String
        let written: String
        let reason: String
        var testDescription: String { name }
    }

    @Test(
        "Every value the function writes into args is one Kubernetes expands nothing in",
        arguments: [
            Literal(name: "Plain", value: "/models/qwen", written: "/models/qwen", reason: "Nothing to escape"),
            Literal(
                name: "Reference", value: "/m/$(HF_TOKEN)", written: "/m/$$(HF_TOKEN)",
                reason: "A $(VAR) reference is doubled so Kubernetes writes it as is"),
            Literal(
                name: "Escaped", value: "/m/$$(X)", written: "/m/$$$$(X)",
                reason: "An already doubled '$' stays two '$' after Kubernetes halves it"),
            Literal(name: "Lone", value: "a$", written: "a$$", reason: "Every '$' is doubled, whatever follows"),
        ])
    func literalArguments(_ c: Literal) {
        #expect(ModelArguments.literal(c.value) == c.written, "\(c.reason)")
        var args = ModelArguments(["--port=8000"])
        let mount = WorkloadBuilder.Mount(claimName: "c", path: c.value)
        _ = args.point(at: mount, serving: true, ownCommand: false)
        #expect(args.items == ["--port=8000", "--model=\(c.written)"], "\(c.reason)")
        var automatic = ModelArguments(["--model=a/b"])
        _ = automatic.point(
            at: WorkloadBuilder.Mount(claimName: "c", path: c.value, automaticModelID: c.value), serving: true,
            ownCommand: false)
        #expect(automatic.items == ["--model=\(c.written)", "--served-model-name=\(c.written)"], "\(c.reason)")
    }

    /// An engine or sidecar as the user wrote it, and the mounts it must end with.
    struct MountCase: Sendable, CustomTestStringConvertible {
        let name: String
        let container: Value
        let mounts: Value
        let reason: String
        var testDescription: String { name }
    }

    static let served: Value = [
        "name": "model-cache", "mountPath": "/models/qwen", "readOnly": true,
        "subPath": .string(revisionDirectory(Workloads.source)),
    ]

    @Test(
        "Every container's mounts are valid: one /dev/shm, the cache read-only on the served subPath",
        arguments: [
            MountCase(
                name: "EngineOwnShm",
                container: ["name": "engine", "volumeMounts": [["name": "dshm", "mountPath": "/dev/shm"]]],
                mounts: [["name": "dshm", "mountPath": "/dev/shm"], served],
                reason: "vLLM manifests mount /dev/shm themselves: a second mount there is rejected"),
            MountCase(
                name: "EngineNoMounts", container: ["name": "engine"],
                mounts: [["name": "dshm", "mountPath": "/dev/shm"], served],
                reason: "The function adds shared memory and the cache"),
            MountCase(
                name: "EngineCacheWritable",
                container: [
                    "name": "engine", "volumeMounts": [["name": "model-cache", "mountPath": "/models/qwen"]],
                ],
                mounts: [served, ["name": "dshm", "mountPath": "/dev/shm"]],
                reason: "The engine's own mount of the cache is made read-only on the served revision, not doubled"),
            MountCase(
                name: "SidecarCacheWritable",
                container: [
                    "name": "loader",
                    "volumeMounts": [["name": "model-cache", "mountPath": "/data", "subPath": "x", "readOnly": false]],
                ],
                mounts: [
                    [
                        "name": "model-cache", "mountPath": "/data", "readOnly": true,
                        "subPath": .string(revisionDirectory(Workloads.source)),
                    ]
                ],
                reason: "A sidecar reading the cache never writes it nor sees another revision"),
            MountCase(
                name: "SidecarOtherVolume",
                container: ["name": "loader", "volumeMounts": [["name": "scratch", "mountPath": "/scratch"]]],
                mounts: [["name": "scratch", "mountPath": "/scratch"]],
                reason: "Other sidecar mounts pass through untouched"),
        ])
    func containerMounts(_ c: MountCase) throws {
        let own = c.container["name"] == "engine"
        var engine: Value = own ? c.container : ["name": "engine"]
        engine["image"] = "vllm/vllm-openai:v0.6.3"
        var containers: [Value] = [engine]
        if !own {
            var sidecar = c.container
            sidecar["image"] = "busybox"
            containers.append(sidecar)
        }
        var workers = Workloads.workers()
        workers["template"]?["spec"]?["containers"] = .list(containers)
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: workers),
                required: [
                    "cluster": [Fixtures.cluster("gpu-east")],
                    "cache": [Workloads.cache(phases: [("gpu-east", "Ready")])],
                ]))
        #expect(!r.isFatal, "\(r.results.map(\.message))")
        let template = manifest(r, "workload")?[path: "spec", "template"]
        let container = template?[path: "spec", "containers"]?.listValue?.first { $0["name"] == c.container["name"] }
        #expect(container?["volumeMounts"] == c.mounts, "\(c.reason)")
    }

    @Test("A user mount of another volume at the cache path is FATAL naming the container; nothing is applied")
    func conflictAtCachePath() throws {
        var workers = Workloads.workers()
        workers["template"]?["spec"]?["containers"] = [
            [
                "name": "engine", "image": "vllm/vllm-openai:v0.6.3",
                "volumeMounts": [["name": "weights", "mountPath": "/models/qwen"]],
            ]
        ]
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: workers),
                required: [
                    "cluster": [Fixtures.cluster("gpu-east")],
                    "cache": [Workloads.cache(phases: [("gpu-east", "Ready")])],
                ]))
        let fatal = try #require(r.results.first { $0.severity == .fatal })
        #expect(
            fatal.message
                == #"Cannot compose replica ml-team/qwen-gpu-east: container engine already mounts volume "weights" at /models/qwen, where the cache is mounted; remove that mount or mount the cache elsewhere"#
        )
        #expect(r.desired.resources["workload"] == nil)
    }
}
