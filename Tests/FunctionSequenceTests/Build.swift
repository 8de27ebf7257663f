import FunctionCore

/// Small builders for the objects a sequence starts from: InferenceClusters and
/// the specs of ModelCaches, ModelDeployments and ModelReplicas. Written here,
/// on purpose, rather than shared with FunctionCoreTests: only the public shape
/// of the API (apis/*/definition.yaml) is assumed.
enum Build {
    /// The namespace every XR of a sequence lives in.
    static let namespace = "ml-team"
    /// The default model.
    static let repo = "Qwen/Qwen2.5-0.5B-Instruct"
    /// The default mount path of a ModelCache.
    static let mountPath = "/models/qwen"

    /// The provider config name of cluster `name` (the world reaches the cluster through it).
    static func providerConfig(_ name: String) -> String { "pc-\(name)" }

    /// An InferenceCluster that is Ready with a provider config and, unless `rwx`
    /// is false, a ReadWriteMany cache class of `sizeGiB`, with its own remote `namespace` if given.
    static func cluster(
        _ name: String, labels: [String: String] = [:], rwx: Bool = true, sizeGiB: Int64 = 300,
        namespace: String? = nil
    ) -> Value {
        var spec: Value = ["cluster": ["source": "Existing"]]
        if rwx { spec["storage"] = ["rwxCache": ["storageClassName": "fast-rwx", "defaultSizeGiB": .int(sizeGiB)]] }
        if let namespace { spec["storage"]?["rwxCache"]?["hydration"] = ["namespace": .string(namespace)] }
        return [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster",
            "metadata": ["name": .string(name), "labels": .object(Fields(labels))],
            "spec": spec,
            "status": [
                "providerConfigRef": ["name": .string(providerConfig(name))],
                "conditions": [["type": "Ready", "status": "True", "reason": "Available"]],
            ],
        ]
    }

    /// A ModelCache spec.
    static func cacheSpec(
        repo: String = repo, revision: String? = nil, selector: [String: String] = [:], sizeGiB: Int64? = nil,
        mountPath: String = mountPath
    ) -> Value {
        var hf: Value = ["repo": .string(repo)]
        if let revision { hf["revision"] = .string(revision) }
        var spec: Value = [
            "artifact": ["source": ["huggingFace": hf]],
            "mount": ["path": .string(mountPath)],
            "clusterSelector": ["matchLabels": .object(Fields(selector))],
        ]
        if let sizeGiB { spec["storage"] = ["sizeGiB": .int(sizeGiB)] }
        return spec
    }

    /// `spec.workers`: one serving instance of `pipeline` nodes whose engine serves `model`.
    static func workers(pipeline: Int64 = 1, model: String = repo) -> Value {
        [
            "count": 1,
            "topology": ["tensor": 1, "pipeline": .int(pipeline)],
            "template": [
                "spec": [
                    "containers": [
                        ["name": "engine", "image": "vllm/vllm-openai:v0.6.3", "args": [.string("--model=\(model)")]]
                    ]
                ]
            ],
        ]
    }

    /// A ModelDeployment spec.
    static func deploymentSpec(
        replicas: Int64 = 1, cache: String? = nil, selector: [String: String] = [:], workers: Value = workers()
    ) -> Value {
        var spec: Value = [
            "replicas": .int(replicas), "workers": workers,
            "clusterSelector": ["matchLabels": .object(Fields(selector))],
        ]
        if let cache { spec["modelCacheRef"] = ["name": .string(cache)] }
        return spec
    }

    /// A ModelReplica spec.
    static func replicaSpec(cluster: String, cache: String? = nil, workers: Value = workers()) -> Value {
        var spec: Value = ["inferenceClusterRef": ["name": .string(cluster)], "workers": workers]
        if let cache { spec["modelCacheRef"] = ["name": .string(cache)] }
        return spec
    }
}
