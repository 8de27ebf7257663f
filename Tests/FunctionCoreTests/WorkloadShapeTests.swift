import Testing

@testable import FunctionCore

/// One way to write a replica: single- or multi-node, with or without a cache,
/// with or without the engine's own `command`.
struct WorkloadShape: CustomTestStringConvertible, Sendable {
    let name: String
    let pipeline: Int64
    let cache: Bool
    let command: Bool
    var testDescription: String { name }

    static let all: [WorkloadShape] = [
        .init(name: "SingleNodeNoCache", pipeline: 1, cache: false, command: false),
        .init(name: "SingleNodeNoCacheOwnCommand", pipeline: 1, cache: false, command: true),
        .init(name: "SingleNodeSharedCache", pipeline: 1, cache: true, command: false),
        .init(name: "SingleNodeSharedCacheOwnCommand", pipeline: 1, cache: true, command: true),
        .init(name: "MultiNodeAutomaticCache", pipeline: 2, cache: false, command: false),
        .init(name: "MultiNodeAutomaticCacheOwnCommand", pipeline: 2, cache: false, command: true),
        .init(name: "MultiNodeSharedCache", pipeline: 2, cache: true, command: false),
        .init(name: "MultiNodeSharedCacheOwnCommand", pipeline: 2, cache: true, command: true),
    ]

    static let userEnv: [Value] = [
        ["name": "VLLM_LOGGING_LEVEL", "value": "INFO"],
        ["name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": "hf", "key": "token"]]],
    ]
    static let userCommand: Value = ["/opt/engine/serve.sh", "--rank-from-env"]
    /// The user's args: with a shared cache no `--model` (the function points it at the
    /// cache); without one the HuggingFace id the engine (or the automatic cache) loads.
    var userArgs: [String] {
        cache ? ["--max-model-len=8192"] : ["--model=Qwen/Qwen2.5-7B-Instruct", "--max-model-len=8192"]
    }

    var workers: Value {
        Workloads.workers(
            pipeline: pipeline, args: userArgs.map(Value.string), command: command ? Self.userCommand : nil,
            env: Self.userEnv)
    }

    /// The response once the cache (if any) has a staged revision on gpu-east.
    func compose() -> RunResponse {
        var required: [String: [Value]] = ["cluster": [Fixtures.cluster("gpu-east")]]
        var observed: [String: Value] = [:]
        if cache {
            required["cache"] = [Workloads.cache(phases: [("gpu-east", "Ready")])]
        } else if pipeline > 1 {
            // The automatic cache: the Job the first reconcile composes, observed complete.
            let first = Composer().run(
                Fixtures.request(
                    Workloads.replica(workers: workers), required: required,
                    observed: ["cache-hydrate-sa": Lifecycle.readyAccount]))
            var job = manifest(first, "cache-hydrate") ?? [:]
            let report = Lifecycle.completeReport(job)
            job["status"] = ["conditions": [["type": "Complete", "status": "True", "reason": "Done", "message": ""]]]
            observed = [
                "cache-pvc": Fixtures.claim(phase: "Bound"), "cache-hydrate": Fixtures.observedObject(job, ready: true),
                "cache-report": report,
            ]
        }
        return Composer().run(
            Fixtures.request(
                Workloads.replica(cache: cache ? "qwen-2-5" : nil, workers: workers), required: required,
                observed: observed))
    }
}

@Suite struct WorkloadShapeTests {
    /// The pod templates of a workload: (role, template).
    func templates(_ w: Value) -> [(String, Value?)] {
        w["kind"] == "Deployment"
            ? [("serving", w[path: "spec", "template"])]
            : [
                ("leader", w[path: "spec", "leaderWorkerTemplate", "leaderTemplate"]),
                ("worker", w[path: "spec", "leaderWorkerTemplate", "workerTemplate"]),
            ]
    }

    @Test(
        "Every shape: serving port and probes, gang wiring, read-only cache mount, sidecars and pod metadata kept",
        arguments: WorkloadShape.all)
    func shape(_ s: WorkloadShape) throws {
        let r = s.compose()
        #expect(!r.isFatal, "\(r.results)")
        let w = try #require(manifest(r, "workload"))
        #expect(w["kind"] == (s.pipeline > 1 ? "LeaderWorkerSet" : "Deployment"))
        let service = try #require(manifest(r, "service"))
        var selector: Value = ["modelplane.ai/replica": .string(childName("modelreplica", "ml-team", "qwen-gpu-east"))]
        if s.pipeline > 1 {
            selector["leaderworkerset.sigs.k8s.io/worker-index"] = "0"
            #expect(w[path: "spec", "leaderWorkerTemplate", "restartPolicy"] == "RecreateGroupOnPodRestart")
            #expect(
                w[path: "spec", "startupPolicy"] == "LeaderCreated",
                "LeaderReady would deadlock: the leader waits for its workers")
        }
        #expect(service[path: "spec", "selector"] == selector, "the Service selects serving pods only")

        for (role, template) in templates(w) {
            let engine = try #require(engineOf(template), "\(role)")
            let serves = role != "worker"
            let gang = s.pipeline > 1

            // Port and probes: serving containers answer /health on 8000; workers get no HTTP probes.
            if serves {
                #expect(engine["ports"] == [["name": "http", "containerPort": 8000, "protocol": "TCP"]])
                #expect(engine[path: "readinessProbe", "httpGet"] == ["path": "/health", "port": 8000])
                let startup = try #require(engine["startupProbe"])
                #expect(startup["httpGet"] == ["path": "/health", "port": 8000])
                let total = (startup["periodSeconds"]?.intValue ?? 0) * (startup["failureThreshold"]?.intValue ?? 0)
                #expect(total >= 20 * 60, "startup allows at least 20 minutes, got \(total)s")
            } else {
                for key in ["readinessProbe", "startupProbe", "livenessProbe", "ports"] {
                    #expect(engine[key] == nil, "\(key)")
                }
            }

            // Command and args: the user's command verbatim; else the gang bootstrap; else the image's entrypoint.
            let args = engine["args"]?.listValue?.compactMap(\.stringValue)
            switch (s.command, gang, role) {
            case (true, _, _):
                #expect(engine["command"] == WorkloadShape.userCommand)
                if gang && !s.cache {
                    // The automatic cache always points --model at itself; clients keep the HuggingFace id.
                    var want = ["--model=/mnt/models", "--max-model-len=8192"]
                    if serves { want.append("--served-model-name=Qwen/Qwen2.5-7B-Instruct") }
                    #expect(args == want)
                } else {
                    #expect(args == s.userArgs, "an own command gets the args as written")
                }
            case (false, true, "leader"):
                #expect(engine["command"] == .list(GangBootstrap.leaderCommand.map(Value.string)))
                let want =
                    s.cache
                    ? ["--max-model-len=8192", "--model=/models/qwen"]
                    : ["--model=/mnt/models", "--max-model-len=8192", "--served-model-name=Qwen/Qwen2.5-7B-Instruct"]
                #expect(args == want + ["--tensor-parallel-size=4", "--pipeline-parallel-size=2"])
            case (false, true, _):
                #expect(engine["command"] == .list(GangBootstrap.workerCommand.map(Value.string)))
                #expect(args == nil)
            default:
                #expect(engine["command"] == nil)
                #expect(
                    args == s.userArgs + (s.cache ? ["--model=/models/qwen"] : []), "--model added only for a cache")
            }

            // Env: the gang's address and rank ahead of the user's env; single-node pods unchanged.
            let env = engine["env"]?.listValue ?? []
            if gang {
                #expect(env == GangBootstrap.environment + WorkloadShape.userEnv)
            } else {
                #expect(env == WorkloadShape.userEnv)
            }

            // The cache: read-only, one revision's directory.
            let mount = engine["volumeMounts"]?.listValue?.first { $0["name"] == "model-cache" }
            if s.cache || gang {
                #expect(mount?["readOnly"] == true)
                if s.cache { #expect(mount?["subPath"] == .string(revisionDirectory(Workloads.source))) }
            } else {
                #expect(mount == nil)
            }

            // Everything else as written.
            let containers = template?[path: "spec", "containers"]?.listValue ?? []
            #expect(containers.count == 2)
            #expect(
                containers.last == [
                    "name": "metrics", "image": "prom/exporter:1", "env": [["name": "X", "value": "1"]],
                ],
                "sidecars kept verbatim")
            #expect(engine["image"] == "vllm/vllm-openai:v0.6.3")
            #expect(template?[path: "spec", "imagePullSecrets"] == [["name": "regcred"]])
            #expect(template?[path: "metadata", "labels", "team"] == "ml")
            #expect(template?[path: "metadata", "annotations"] == ["note": "keep"])
        }
    }

    @Test("A gang engine's own MODELPLANE_* env wins: ours is not added twice")
    func ownGangEnv() throws {
        let workers = Workloads.workers(pipeline: 2, args: [], env: [["name": "MODELPLANE_RANK", "value": "7"]])
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: workers),
                required: [
                    "cluster": [Fixtures.cluster("gpu-east")],
                    "cache": [Workloads.cache(phases: [("gpu-east", "Ready")])],
                ]))
        let leader = engineOf(manifest(r, "workload")?[path: "spec", "leaderWorkerTemplate", "leaderTemplate"])
        #expect(
            leader?["env"] == [
                ["name": "MODELPLANE_LEADER_ADDRESS", "value": "$(LWS_LEADER_ADDRESS)"],
                ["name": "MODELPLANE_RANK", "value": "7"],
            ])
    }

    @Test("User probes and ports are kept on serving pods; HTTP probes written for the leader are dropped on workers")
    func userProbes() throws {
        var workers = Workloads.workers(pipeline: 2, args: [])
        let probe: Value = ["httpGet": ["path": "/v1/models", "port": 8000], "periodSeconds": 5]
        let exec: Value = ["exec": ["command": ["true"]]]
        var containers = workers[path: "template", "spec", "containers"]?.listValue ?? []
        containers[0]["readinessProbe"] = probe
        containers[0]["livenessProbe"] = exec
        containers[0]["ports"] = [["containerPort": 8000, "name": "api"]]
        workers["template"]?["spec"]?["containers"] = .list(containers)
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(cache: "qwen-2-5", workers: workers),
                required: [
                    "cluster": [Fixtures.cluster("gpu-east")],
                    "cache": [Workloads.cache(phases: [("gpu-east", "Ready")])],
                ]))
        let lws = manifest(r, "workload")
        let leader = engineOf(lws?[path: "spec", "leaderWorkerTemplate", "leaderTemplate"])
        let worker = engineOf(lws?[path: "spec", "leaderWorkerTemplate", "workerTemplate"])
        #expect(leader?["readinessProbe"] == probe)
        #expect(leader?["livenessProbe"] == exec)
        #expect(leader?["ports"] == [["containerPort": 8000, "name": "api"]])
        #expect(leader?["startupProbe"] == ServingProbes.startupProbe)
        #expect(worker?["readinessProbe"] == nil)
        #expect(worker?["livenessProbe"] == exec, "a non-HTTP probe is the user's to keep")
    }
}

@Suite struct ModelArgumentsTests {
    @Test(
        "The gang's parallelism is added only when the user did not pass it, in either spelling",
        arguments: [
            ([], ["--tensor-parallel-size=8", "--pipeline-parallel-size=2"]),
            (["--tensor-parallel-size", "4"], ["--tensor-parallel-size", "4", "--pipeline-parallel-size=2"]),
            (["-tp", "8", "-pp=2"], ["-tp", "8", "-pp=2"]),
            (["--pipeline-parallel-size=3"], ["--pipeline-parallel-size=3", "--tensor-parallel-size=8"]),
        ])
    func parallelism(_ given: [String], _ want: [String]) {
        var args = ModelArguments(given)
        args.addParallelism(tensor: 8, pipeline: 2)
        #expect(args.items == want)
    }
}
