import FunctionCore

/// Requests shaped like the benchmark's (`../shared/bench`): a ModelCache over
/// N InferenceClusters, optionally with every claim observed Bound and Ready.
enum BenchmarkShape {
    static func cluster(_ i: Int) -> Value {
        let name = "ic-\(i)"
        return [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster",
            "metadata": ["name": .string(name), "labels": ["modelplane.ai/gpu": "h100"], "uid": .string("u-\(i)")],
            "spec": ["storage": ["rwxCache": ["storageClassName": "rwx", "defaultSizeGiB": 200]]],
            "status": [
                "providerConfigRef": ["name": .string("\(name)-pc")],
                "conditions": [["type": "Synced", "status": "True"], ["type": "Ready", "status": "True"]],
            ],
        ]
    }

    static func observedClaim(_ i: Int) -> Value {
        let ready: Value = [
            "conditions": [
                ["type": "Synced", "status": "True", "reason": "ReconcileSuccess"],
                ["type": "Ready", "status": "True", "reason": "Available"],
            ]
        ]
        var status = ready
        status["atProvider"] = [
            "manifest": [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": .string("claim-\(i)"), "namespace": "default"],
                "status": ["phase": "Bound", "capacity": ["storage": "20Gi"]],
            ]
        ]
        return [
            "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "Object",
            "metadata": ["name": .string("o-\(i)"), "generation": 1], "status": status,
        ]
    }

    static func request(clusters n: Int, observed: Bool) -> RunRequest {
        let xr: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
            "metadata": ["name": "qwen", "namespace": "ml-team", "uid": "x"],
            "spec": [
                "artifact": ["source": ["huggingFace": ["repo": "Qwen/Qwen3-0.6B"]]], "mount": ["path": "/models/qwen"],
                "clusterSelector": ["matchLabels": ["modelplane.ai/gpu": "h100"]],
            ],
        ]
        var resources: [String: Resource] = [:]
        if observed {
            for i in 0..<n { resources["pvc-ic-\(i)"] = Resource(object: observedClaim(i)) }
        }
        return RunRequest(
            tag: "bench", capabilities: [.capabilities, .requiredResources],
            observed: State(composite: Resource(object: xr), resources: resources),
            requiredResources: [
                "clusters": (0..<n).map { Resource(object: cluster($0)) },
                // The steady state: Crossplane has answered every requirement.
                "consumers": [],
            ])
    }
}
