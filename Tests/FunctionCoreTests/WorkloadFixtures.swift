@testable import FunctionCore

/// Builders for ModelDeployments, ModelReplicas and the ModelCaches and replicas they observe.
enum Workloads {
    static func workers(
        pipeline: Int64 = 1, args: [Value] = ["--model=Qwen/Qwen2.5-0.5B-Instruct"], command: Value? = nil,
        env: [Value] = []
    ) -> Value {
        var engine: Value = ["name": "engine", "image": "vllm/vllm-openai:v0.6.3", "args": .list(args)]
        if let command { engine["command"] = command }
        if !env.isEmpty { engine["env"] = .list(env) }
        return [
            "count": 2,
            "topology": ["tensor": 4, "pipeline": .int(pipeline)],
            "template": [
                "metadata": ["labels": ["team": "ml"], "annotations": ["note": "keep"]],
                "spec": [
                    "containers": [
                        engine, ["name": "metrics", "image": "prom/exporter:1", "env": [["name": "X", "value": "1"]]],
                    ],
                    "imagePullSecrets": [["name": "regcred"]],
                ],
            ],
        ]
    }

    static func deployment(
        replicas: Int64 = 2, cache: String? = nil, selector: Fields = [:],
        workers: Value = Workloads.workers(), status: Value? = nil
    ) -> Value {
        var spec: Value = [
            "replicas": .int(replicas), "workers": workers, "clusterSelector": ["matchLabels": .object(selector)],
        ]
        if let cache { spec["modelCacheRef"] = ["name": .string(cache)] }
        var xr: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": ["name": "qwen", "namespace": "ml-team"], "spec": spec,
        ]
        if let status { xr["status"] = status }
        return xr
    }

    static func replica(
        cluster: String = "gpu-east", cache: String? = nil, workers: Value = Workloads.workers(),
        status: Value? = nil
    ) -> Value {
        var spec: Value = ["inferenceClusterRef": ["name": .string(cluster)], "workers": workers]
        if let cache { spec["modelCacheRef"] = ["name": .string(cache)] }
        var xr: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelReplica",
            "metadata": ["name": "qwen-gpu-east", "namespace": "ml-team"], "spec": spec,
        ]
        if let status { xr["status"] = status }
        return xr
    }

    /// The identity of the cache's default source (what a Ready cluster has staged).
    static let source = "hf://Qwen/Qwen2.5-0.5B-Instruct"

    /// A ModelCache whose `status.clusters` has `phases`; a Ready cluster has `source`
    /// staged unless `staged` says otherwise for it.
    static func cache(
        phases: [(String, String)], staged: [String: String] = [:], selector: Fields = [:],
        name: String = "qwen-2-5"
    ) -> Value {
        [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
            "metadata": ["name": .string(name), "namespace": "ml-team"],
            "spec": [
                "mount": ["path": "/models/qwen"], "clusterSelector": ["matchLabels": .object(selector)],
                "artifact": ["source": ["huggingFace": ["repo": "Qwen/Qwen2.5-0.5B-Instruct"]]],
            ],
            "status": [
                "clusters": .list(
                    phases.map { c in
                        var entry: Value = ["name": .string(c.0), "phase": .string(c.1)]
                        if let s = staged[c.0] ?? (c.1 == "Ready" ? source : nil) { entry["staged"] = .string(s) }
                        return entry
                    })
            ],
        ]
    }

    static func observedReplica(_ cluster: String, ready: Bool = false) -> Value {
        [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelReplica",
            "spec": ["inferenceClusterRef": ["name": .string(cluster)]],
            "status": ["conditions": [["type": "Ready", "status": ready ? "True" : "False"]]],
        ]
    }
}
