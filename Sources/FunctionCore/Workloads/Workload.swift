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
        /// The referenced ModelCache's `spec.mount.loader`, if any (sources.md §2).
        var loader: LoaderSpec? = nil
        /// Whether the claim is a `volume` source's (sources.md §1): someone else's, without
        /// revision directories; its pod volume is read-only too.
        var isVolume = false
        /// A `volume` source's directory on its claim (nil: the claim's root).
        var volumeSubPath: String? = nil

        /// The `subPath` the pods mount: the revision directory, else a volume source's directory.
        var subPath: String? { revision ?? volumeSubPath }
        /// What the pods read, for messages: the revision directory, or a volume source's
        /// directory or root; nil when nothing is known.
        var served: String? {
            revision ?? (isVolume ? volumeSubPath.map { "directory \($0)" } ?? "the claim's root" : nil)
        }

        /// The mount of what is staged on a cluster: `claim`'s revision directory of
        /// `staged`, or, when `staged` is a `volume` source's identity, that claim and its
        /// subPath (so a cache that changed kind never mounts one claim's path on the other).
        static func staged(_ staged: String, claim: String, path: String) -> Mount {
            guard let volume = VolumeSource(identity: staged) else {
                var mount = Mount(claimName: claim, path: path)
                mount.revision = revisionDirectory(staged)
                return mount
            }
            var mount = Mount(claimName: volume.claimName, path: path)
            (mount.isVolume, mount.volumeSubPath) = (true, volume.subPath)
            return mount
        }
    }

    /// The volume name of the cache in every pod.
    static let cacheVolume = "model-cache"
    /// Label that selects a replica's pods.
    static let replicaLabel = "modelplane.ai/replica"
    /// The port the Service exposes: the serving containers' port.
    static let servicePort = ServingProbes.port

    /// The replica's workers.
    let workers: WorkersSpec
    /// The remote name of the Deployment/LWS and the Service.
    let name: String
    /// Labels on the workload and the Service.
    let labels: [String: String]
    /// The function's settings (the remote namespace).
    let settings: Settings
    /// The cache the pods mount, if any.
    let mount: Mount?
    /// The loader the serving engine hands the weights to, if any (sources.md §2;
    /// only with a mounted cache).
    var loader: LoaderSpec? = nil

    /// The workload manifest, the `--model` value that bypasses a mounted cache, if
    /// any, and what became of the loader, if one is set.
    func workload() -> (manifest: Value, modelElsewhere: String?, loaderUse: LoaderUse?) {
        let leader = podTemplate(role: workers.isMultiNode ? .leader : .single)
        let metadata: Value = [
            "name": .string(name), "namespace": .string(settings.remoteNamespace),
            "labels": .object(Fields(labels)),
        ]
        if workers.isMultiNode {
            let worker = podTemplate(role: .worker)
            let lws: Value = [
                "apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": metadata,
                "spec": [
                    "replicas": .int(workers.count),
                    // Workers start with the leader (the leader waits for them before it
                    // serves, so LeaderReady would deadlock); a pod that fails takes its
                    // whole group down and back, so a gang never runs short of a node.
                    "startupPolicy": "LeaderCreated",
                    "leaderWorkerTemplate": [
                        "size": .int(workers.pipeline),
                        "restartPolicy": "RecreateGroupOnPodRestart",
                        "leaderTemplate": leader.template,
                        "workerTemplate": worker.template,
                    ],
                ],
            ]
            return (lws, leader.modelElsewhere, leader.loaderUse)
        }
        let deployment: Value = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": [
                "replicas": .int(workers.count),
                "selector": ["matchLabels": [Self.replicaLabel: .string(labelValue(name))]],
                "template": leader.template,
            ],
        ]
        return (deployment, leader.modelElsewhere, leader.loaderUse)
    }

    /// The Service in front of the serving pods (LWS: the leaders only).
    func service() -> Value {
        var selector: Value = [Self.replicaLabel: .string(labelValue(name))]
        if workers.isMultiNode { selector["leaderworkerset.sigs.k8s.io/worker-index"] = "0" }
        return [
            "apiVersion": "v1", "kind": "Service",
            "metadata": [
                "name": .string(name), "namespace": .string(settings.remoteNamespace),
                "labels": .object(Fields(labels)),
            ],
            "spec": [
                "selector": selector,
                "ports": [
                    [
                        "name": "http", "port": .int(Self.servicePort), "targetPort": .int(Self.servicePort),
                        "protocol": "TCP",
                    ]
                ],
            ],
        ]
    }

    /// What a pod does: serve alone (Deployment), lead a gang, or work in one.
    enum Role {
        /// A Deployment pod: serves on its own.
        case single
        /// A LeaderWorkerSet leader: serves for its gang.
        case leader
        /// A LeaderWorkerSet worker: lends its GPUs to the leader's engine.
        case worker

        /// Whether the pod answers HTTP (and so gets the port, probes and `--model`).
        var serves: Bool { self != .worker }
    }

    /// The pod template (Deployment `spec.template`, LeaderWorkerSet
    /// `spec.leaderWorkerTemplate`) of a workload manifest: what a rollout compares.
    static func podTemplate(of manifest: Value?) -> Value? {
        manifest?[path: "spec", "template"] ?? manifest?[path: "spec", "leaderWorkerTemplate"]
    }

    /// One pod template.
    private func podTemplate(role: Role) -> (template: Value, modelElsewhere: String?, loaderUse: LoaderUse?) {
        var podLabels = workers.labels
        podLabels[Self.replicaLabel] = .string(labelValue(name))
        var metadata: Value = ["labels": .object(podLabels)]
        if !workers.annotations.isEmpty { metadata["annotations"] = .object(workers.annotations) }

        var modelElsewhere: String?
        var loaderUse: LoaderUse?
        let containers: [Value] = workers.containers.map { c in
            guard c["name"]?.stringValue == "engine" else { return withCacheMountsServed(c) }
            let (engine, elsewhere, use) = self.engine(c, role: role)
            modelElsewhere = elsewhere
            loaderUse = use
            return engine
        }
        var volumes: [Value] = [["name": "dshm", "emptyDir": ["medium": "Memory"]]]
        if let mount {
            var claim: Value = ["claimName": .string(mount.claimName)]
            if mount.isVolume { claim["readOnly"] = true }
            volumes.append(["name": .string(Self.cacheVolume), "persistentVolumeClaim": claim])
        }
        var spec: Value = ["containers": .list(containers), "volumes": .list(volumes)]
        if let secrets = workers.imagePullSecrets { spec["imagePullSecrets"] = secrets }
        return (["metadata": metadata, "spec": spec], modelElsewhere, loaderUse)
    }

    /// `container` with every mount of the cache volume the user wrote (a sidecar
    /// reading the model, say) read-only and on the served revision's `subPath`
    /// (lifecycle.md §7 rule 9): no container ever writes to the cache or sees
    /// another revision.
    private func withCacheMountsServed(_ container: Value) -> Value {
        guard let mount, let mounts = container["volumeMounts"]?.listValue,
            mounts.contains(where: { $0["name"]?.stringValue == Self.cacheVolume })
        else { return container }
        var c = container
        c["volumeMounts"] = .list(
            mounts.map { m in
                guard m["name"]?.stringValue == Self.cacheVolume else { return m }
                var served = m
                served["readOnly"] = true
                served["subPath"] = mount.subPath.map(Value.string)
                // subPathExpr and subPath are mutually exclusive (the API server rejects both).
                served["subPathExpr"] = nil
                return served
            })
        return c
    }

    /// The first container that mounts another volume where the cache goes
    /// (`path`), as `(container, volume)`: the pod would have two mounts at one
    /// path, which the API server rejects (lifecycle.md §7 rule 9).
    static func mountConflict(_ workers: WorkersSpec, path: String) -> (container: String, volume: String)? {
        let mounts = workers.engine["volumeMounts"]?.listValue ?? []
        guard
            let m = mounts.first(where: {
                $0["mountPath"]?.stringValue.map(directory) == path && $0["name"]?.stringValue != cacheVolume
            })
        else { return nil }
        return ("engine", m["name"]?.stringValue ?? "")
    }

    /// `container` with the GPUs of one node, shared memory (unless it mounts its
    /// own at `/dev/shm`, as vLLM manifests do) and the cache mount (unless it
    /// already mounts the cache volume there).
    private func withGPUsAndMounts(_ container: Value) -> Value {
        var c = withCacheMountsServed(container)
        var resources = c["resources"]?.objectValue ?? [:]
        var limits = resources["limits"]?.objectValue ?? [:]
        limits["nvidia.com/gpu"] = .int(workers.tensor)
        resources["limits"] = .object(limits)
        c["resources"] = .object(resources)

        var mounts = c["volumeMounts"]?.listValue ?? []
        let paths = Set(mounts.compactMap { $0["mountPath"]?.stringValue.map(Self.directory) })
        if !paths.contains(Self.sharedMemoryPath) { mounts.append(["name": "dshm", "mountPath": "/dev/shm"]) }
        if let mount, !paths.contains(mount.path) {
            // Read-only, and with a staged revision only that revision's directory: pods
            // never see another revision's files or a partial download, and never write.
            var m: Value = ["name": .string(Self.cacheVolume), "mountPath": .string(mount.path), "readOnly": true]
            if let subPath = mount.subPath { m["subPath"] = .string(subPath) }
            mounts.append(m)
        }
        c["volumeMounts"] = .list(mounts)
        return c
    }

    /// The directory a user's `mountPath` names: without trailing slashes, so that
    /// `/dev/shm/` is `/dev/shm` (the cache path is normalised already).
    static func directory(_ path: String) -> String {
        guard path.utf8.count > 1, path.utf8.last == UInt8(ascii: "/") else { return path }
        var p = Substring(path)
        while p.count > 1, p.last == "/" { p.removeLast() }
        return String(p)
    }

    /// Where pods get memory-backed shared memory.
    static let sharedMemoryPath = "/dev/shm"

    /// The engine container with GPUs, shared memory, the cache mount, its model
    /// and loader arguments and, per role, the gang wiring and the serving port and probes.
    private func engine(_ container: Value, role: Role) -> (Value, String?, LoaderUse?) {
        var c = withGPUsAndMounts(container)

        // A gang engine without its own command is started by the constant bootstrap.
        let bootstrap = role != .single && c["command"] == nil
        if role != .single {
            let own = Set((c["env"]?.listValue ?? []).compactMap { $0["name"]?.stringValue })
            let gang = GangBootstrap.environment.filter { !own.contains($0["name"]?.stringValue ?? "") }
            let env = gang + (c["env"]?.listValue ?? [])
            c["env"] = .list(env)
        }

        var args = ModelArguments(c["args"]?.listValue?.compactMap(\.stringValue) ?? [])
        let elsewhere = mount.flatMap { args.point(at: $0, serving: role.serves, ownCommand: c["command"] != nil) }
        // The loader reaches the engine that loads the weights: the serving one (a gang's workers run Ray).
        let loaderUse =
            role.serves && mount != nil
            ? loader.map { args.hand(to: $0, tensor: workers.tensor, ownCommand: c["command"] != nil) } : nil
        if bootstrap && role == .leader {
            args.addParallelism(tensor: workers.tensor, pipeline: workers.pipeline)
        }

        switch (role, bootstrap) {
        case (.leader, true):
            c["command"] = .list(GangBootstrap.leaderCommand.map(Value.string))
            c["args"] = .list(args.items.map(Value.string))
        case (.worker, true):
            // A worker only joins the leader's Ray head; the engine runs on the leader.
            c["command"] = .list(GangBootstrap.workerCommand.map(Value.string))
            c["args"] = nil
        default:
            if !args.items.isEmpty || c["args"] != nil { c["args"] = .list(args.items.map(Value.string)) }
        }
        c = role.serves ? ServingProbes.serving(c) : ServingProbes.withoutHTTPProbes(c)
        return (c, elsewhere, loaderUse)
    }
}
