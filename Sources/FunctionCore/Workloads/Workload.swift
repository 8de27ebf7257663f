/// The serving workload of one ModelReplica on its cluster: a Deployment
/// (single-node) or a LeaderWorkerSet (multi-node), and a Service.
struct WorkloadBuilder {
    /// The cache the pods mount.
    struct Mount {
        /// The PersistentVolumeClaim's name.
        var claimName: String
        /// Where the engine sees it.
        var path: String
        /// For an automatic cache, the HuggingFace id the engine asked for.
        var automaticModelID: String?
        /// The staged revision's directory on the claim (`revisionDirectory(staged)`),
        /// mounted read-only as the volume's `subPath` (lifecycle.md §1).
        var revision: String? = nil
    }

    /// The volume name of the cache in every pod.
    static let cacheVolume = "model-cache"
    /// Label that selects a replica's pods.
    static let replicaLabel = "modelplane.ai/replica"
    /// The port the Service exposes.
    static let servicePort: Int64 = 8000

    let workers: WorkersSpec
    /// The remote name of the Deployment/LWS and the Service.
    let name: String
    let labels: [String: String]
    let settings: Settings
    let mount: Mount?

    /// The workload manifest, and the `--model` value that bypasses a mounted cache, if any.
    func workload() -> (manifest: Value, modelElsewhere: String?) {
        let leader = podTemplate(leader: true)
        let metadata: Value = ["name": .string(name), "namespace": .string(settings.remoteNamespace),
                               "labels": .object(Fields(labels))]
        if workers.isMultiNode {
            let worker = podTemplate(leader: false)
            let lws: Value = [
                "apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": metadata,
                "spec": [
                    "replicas": .int(workers.count),
                    "leaderWorkerTemplate": [
                        "size": .int(workers.pipeline),
                        "leaderTemplate": leader.template,
                        "workerTemplate": worker.template,
                    ],
                ],
            ]
            return (lws, leader.modelElsewhere)
        }
        let deployment: Value = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": [
                "replicas": .int(workers.count),
                "selector": ["matchLabels": [Self.replicaLabel: .string(name)]],
                "template": leader.template,
            ],
        ]
        return (deployment, leader.modelElsewhere)
    }

    /// The Service in front of the serving pods (LWS: the leaders).
    func service() -> Value {
        var selector: Value = [Self.replicaLabel: .string(name)]
        if workers.isMultiNode { selector["leaderworkerset.sigs.k8s.io/worker-index"] = "0" }
        return [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": .string(settings.remoteNamespace),
                         "labels": .object(Fields(labels))],
            "spec": [
                "selector": selector,
                "ports": [["name": "http", "port": .int(Self.servicePort), "targetPort": .int(Self.servicePort), "protocol": "TCP"]],
            ],
        ]
    }

    /// One pod template; `leader` pods (and Deployment pods) serve, so only they get `--model` added.
    private func podTemplate(leader: Bool) -> (template: Value, modelElsewhere: String?) {
        var podLabels = workers.labels
        podLabels[Self.replicaLabel] = .string(name)
        var metadata: Value = ["labels": .object(podLabels)]
        if !workers.annotations.isEmpty { metadata["annotations"] = .object(workers.annotations) }

        var modelElsewhere: String?
        let containers: [Value] = workers.containers.map { c in
            guard c["name"]?.stringValue == "engine" else { return c }
            let (engine, elsewhere) = self.engine(c, leader: leader)
            modelElsewhere = elsewhere
            return engine
        }
        var volumes: [Value] = [["name": "dshm", "emptyDir": ["medium": "Memory"]]]
        if let mount {
            volumes.append(["name": .string(Self.cacheVolume), "persistentVolumeClaim": ["claimName": .string(mount.claimName)]])
        }
        var spec: Value = ["containers": .list(containers), "volumes": .list(volumes)]
        if let secrets = workers.imagePullSecrets { spec["imagePullSecrets"] = secrets }
        return (["metadata": metadata, "spec": spec], modelElsewhere)
    }

    /// The engine container with GPUs, shared memory, the cache mount and its model arguments.
    private func engine(_ container: Value, leader: Bool) -> (Value, String?) {
        var c = container
        var resources = c["resources"]?.objectValue ?? [:]
        var limits = resources["limits"]?.objectValue ?? [:]
        limits["nvidia.com/gpu"] = .int(workers.tensor)
        resources["limits"] = .object(limits)
        c["resources"] = .object(resources)

        var mounts = c["volumeMounts"]?.listValue ?? []
        mounts.append(["name": "dshm", "mountPath": "/dev/shm"])
        if let mount {
            var m: Value = ["name": .string(Self.cacheVolume), "mountPath": .string(mount.path)]
            if let revision = mount.revision {
                // Read-only, one revision: pods never see another revision's files or a partial download.
                m["readOnly"] = true
                m["subPath"] = .string(revision)
            }
            mounts.append(m)
        }
        c["volumeMounts"] = .list(mounts)

        guard let mount else { return (c, nil) }
        var args = ModelArguments(c["args"]?.listValue?.compactMap(\.stringValue) ?? [])
        var elsewhere: String?
        if let id = mount.automaticModelID {
            args.replaceModel(with: mount.path)
            if leader && !args.has("--served-model-name") { args.append("--served-model-name=\(id)") }
        } else if let model = args.model {
            if model != mount.path { elsewhere = model }
        } else if leader && c["command"] == nil {
            args.append("--model=\(mount.path)")
        }
        if !args.items.isEmpty || c["args"] != nil { c["args"] = .list(args.items.map(Value.string)) }
        return (c, elsewhere)
    }
}

/// An engine's argument list, read and edited as vLLM-style flags
/// (`--flag=value` or `--flag value`).
struct ModelArguments {
    private(set) var items: [String]

    init(_ items: [String]) { self.items = items }

    /// The `--model` value, if any.
    var model: String? { value(of: "--model") }

    /// The value of `flag`, written as `flag=value` or `flag value`.
    func value(of flag: String) -> String? {
        for (i, a) in items.enumerated() {
            if a.hasPrefix(flag + "=") { return String(a.dropFirst(flag.count + 1)) }
            if a == flag, i + 1 < items.count { return items[i + 1] }
        }
        return nil
    }

    /// Whether `flag` is present in either form.
    func has(_ flag: String) -> Bool {
        items.contains { $0 == flag || $0.hasPrefix(flag + "=") }
    }

    /// Replaces every `--model` value with `path`, in place, normalised to `--model=path`.
    mutating func replaceModel(with path: String) {
        var out: [String] = []
        var i = 0
        while i < items.count {
            let a = items[i]
            if a.hasPrefix("--model=") {
                out.append("--model=\(path)")
            } else if a == "--model" {
                out.append("--model=\(path)")
                i += 1
            } else {
                out.append(a)
            }
            i += 1
        }
        items = out
    }

    mutating func append(_ arg: String) { items.append(arg) }
}
