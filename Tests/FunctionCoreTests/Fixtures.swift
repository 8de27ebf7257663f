@testable import FunctionCore

/// Builders for requests as Crossplane sends them, and for the ModelCaches and
/// InferenceClusters in them.
enum Fixtures {
    static let defaultSpec: Value = [
        "artifact": ["source": ["huggingFace": ["repo": "Qwen/Qwen2.5-0.5B-Instruct"]]],
        "mount": ["path": "/models/qwen"],
    ]

    static func modelCache(spec: Value = defaultSpec, status: Value? = nil, name: String = "qwen-2-5") -> Value {
        var xr: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
            "metadata": ["name": .string(name), "namespace": "ml-team"],
            "spec": spec,
        ]
        if let status { xr["status"] = status }
        return xr
    }

    static let fastRWX: Value = ["storageClassName": "fast-rwx", "defaultSizeGiB": 300]

    static func cluster(
        _ name: String, providerConfig: String? = nil, rwx: Value? = fastRWX,
        labels: [String: String] = [:]
    ) -> Value {
        var spec: Value = ["cluster": ["source": "Existing"]]
        if let rwx { spec["storage"] = ["rwxCache": rwx] }
        var c: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster",
            "metadata": ["name": .string(name), "labels": .object(Fields(labels))],
            "spec": spec,
            "status": ["conditions": [["type": "Ready", "status": "True", "reason": "Available"]]],
        ]
        c["status"]?["providerConfigRef"] = ["name": .string(providerConfig ?? "pc-\(name)")]
        return c
    }

    static func request(
        _ xr: Value, clusters: [Value]? = nil, required extra: [String: [Value]] = [:],
        observed: [String: Value] = [:], desired: [String: Value] = [:],
        context: Value? = nil, input: Value? = nil
    ) -> RunRequest {
        var required: [String: [Resource]] = extra.mapValues { $0.map { Resource(object: $0) } }
        if let clusters {
            required["clusters"] = clusters.map { Resource(object: $0) }
            // A ModelCache also asks for its consumers; none unless a test says otherwise.
            if required["consumers"] == nil { required["consumers"] = [] }
        }
        return RunRequest(
            tag: "t1",
            observed: State(composite: Resource(object: xr), resources: observed.mapValues { Resource(object: $0) }),
            desired: State(resources: desired.mapValues { Resource(object: $0) }),
            input: input, context: context, requiredResources: required)
    }

    /// An observed provider-kubernetes Object whose remote manifest is `remote`.
    static func observedObject(_ remote: Value, ready: Bool) -> Value {
        [
            "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "Object",
            "status": [
                "atProvider": ["manifest": remote],
                "conditions": [
                    ["type": "Ready", "status": ready ? "True" : "False", "reason": ready ? "Available" : "Creating"]
                ],
            ],
        ]
    }

    static func claim(phase: String) -> Value {
        observedObject(
            ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": ["phase": .string(phase)]],
            ready: phase == "Bound")
    }

    static func job(name: String, condition: (type: String, reason: String, message: String)? = nil) -> Value {
        var remote: Value = [
            "apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": .string(name)],
            "status": ["active": 1],
        ]
        if let c = condition {
            remote["status"] = [
                "conditions": [
                    [
                        "type": .string(c.type), "status": "True",
                        "reason": .string(c.reason), "message": .string(c.message),
                    ]
                ]
            ]
        }
        return observedObject(remote, ready: condition?.type == "Complete")
    }

    static func status(
        _ clusters: [(String, String)], source: String = "hf://Qwen/Qwen2.5-0.5B-Instruct@main",
        artifactReady: (String, String)? = nil
    ) -> Value {
        var s: Value = [
            "clusters": .list(
                clusters.map { ["name": .string($0.0), "phase": .string($0.1), "source": .string(source)] })
        ]
        if let a = artifactReady {
            s["conditions"] = [["type": "ArtifactReady", "status": .string(a.0), "reason": .string(a.1)]]
        }
        return s
    }
}
