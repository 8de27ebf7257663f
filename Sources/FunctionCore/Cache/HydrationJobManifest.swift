extension CacheStaging {
    /// The hydration container's name (the podFailurePolicy rule names it).
    public static let container = "hydrate"

    /// The hydration Job that stages this source on one cluster (hydrator.md §1, §4, §5).
    ///
    /// The container runs the hydration program (`HydrationProgram.command`: the
    /// image's own entrypoint, spelled out so that an image without the program
    /// fails loudly instead of running something else) with its inputs in
    /// `MODELCACHE_*` variables. The pod runs as the cache's ServiceAccount (or the
    /// platform's, `hydration.serviceAccount`) with only a projected token for it
    /// (the report ConfigMap's write), non-root, on a read-only root file system
    /// (it writes the claim and `/tmp`). `restartPolicy: Never` with a
    /// `podFailurePolicy` that fails the Job at once on the program's permanent
    /// exit codes and does not count pod disruptions; other failures are retried up
    /// to the backoff limit; `activeDeadlineSeconds` ends an orphaned Job.
    ///
    /// An adopted Job with a `sentManifest` is composed as it was sent. A `volume`
    /// source's Job is the check Job (`checkJobManifest`).
    public func jobManifest(_ job: HydrationJob) -> Value {
        if let sent = job.sentManifest { return sent }
        let h = job.hydration?.settings.map { $0.over(settings.hydration) } ?? settings.hydration
        var metadata = Self.metadata(job.name, settings, labels)
        for (label, value) in jobLabels(job) { metadata["labels"]?[label] = .string(value) }
        metadata["labels"]?[Self.attemptLabel] = .string(job.attempt)
        // Pods carry only what selects them, to keep 1,000-cluster responses small.
        let podLabels: Value = ["modelplane.ai/component": "hydrate", "modelplane.ai/cache": .string(claimName)]
        let manifest: Value = [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": metadata,
            "spec": [
                "activeDeadlineSeconds": .int(h.effectiveDeadlineSeconds),
                "backoffLimit": .int(settings.jobBackoffLimit),
                "ttlSecondsAfterFinished": .int(settings.jobTTLSeconds),
                "podFailurePolicy": Self.podFailurePolicy,
                "template": ["metadata": ["labels": podLabels], "spec": podSpec(job, h)],
            ],
        ]
        return volume.map { checkJobManifest(manifest, $0) } ?? manifest
    }

    /// The ServiceAccount a Job on a cluster with `hydration` runs as: the
    /// platform's (`hydration.serviceAccount`) when set, else the cache's own
    /// (`accountName`). The report Role is bound to it.
    public func jobAccount(_ hydration: ClusterHydration?) -> String {
        hydration?.settings?.serviceAccount ?? settings.hydration.serviceAccount ?? accountName
    }

    /// The pod spec: one container, the claim, `/tmp`, the projected token, the CA bundle and an OCI
    /// source's Docker config, if any.
    private func podSpec(_ job: HydrationJob, _ h: HydrationSettings) -> Value {
        let docker = dockerConfig
        var mounts = h.caBundle == nil ? Self.mounts : Self.mountsWithCA
        if let docker { mounts = .list((mounts.listValue ?? []) + [docker.mount]) }
        let container: Value = [
            "name": .string(Self.container),
            "image": .string(h.effectiveImage),
            "command": Self.command,
            "env": .list(environment(job, h)),
            "volumeMounts": mounts,
            "resources": h.resources ?? Self.defaultResources,
            "securityContext": Self.containerSecurity,
        ]
        var volumes = [
            ["name": "cache", "persistentVolumeClaim": ["claimName": .string(claimName)]], Self.tmpVolume,
            Self.tokenVolume,
        ]
        if let ca = h.caBundle {
            volumes.append([
                "name": "ca-bundle",
                "configMap": [
                    "name": .string(ca.configMapName), "items": [["key": .string(ca.key), "path": "ca.crt"]],
                ],
            ])
        }
        if let docker { volumes.append(docker.volume) }
        var spec: Value = [
            "restartPolicy": "Never",
            "serviceAccountName": .string(h.serviceAccount ?? accountName),
            "automountServiceAccountToken": false,
            "securityContext": Self.podSecurity,
            "containers": [container],
            "volumes": .list(volumes),
        ]
        if let selector = h.nodeSelector, !selector.isEmpty { spec["nodeSelector"] = .object(Fields(selector)) }
        if let tolerations = h.tolerations, tolerations != .list([]) { spec["tolerations"] = tolerations }
        if let secrets = h.imagePullSecrets, !secrets.isEmpty {
            spec["imagePullSecrets"] = .list(secrets.map { ["name": .string($0)] })
        }
        return spec
    }

    /// The program's environment (hydrator.md §1): what to stage where, what
    /// pruning keeps, the claim size, the epoch, its own names, the report
    /// ConfigMap, the platform's network settings, and the token, if any, as the
    /// Job was created, and what the source's kind adds (`sourceEnvironment`). Nothing here is ever shell text.
    func environment(_ job: HydrationJob, _ h: HydrationSettings) -> [Value] {
        var env: [Value] = [["name": "MODELCACHE_SOURCE", "value": .string(identity)]]
        if let commit = job.commit { env.append(["name": "MODELCACHE_COMMIT", "value": .string(commit)]) }
        env.append(contentsOf: [
            ["name": "MODELCACHE_ROOT", "value": .string(HydrationProgram.root)],
            ["name": "MODELCACHE_KEEP", "value": .string(job.keep.joined(separator: " "))],
            ["name": "MODELCACHE_CLAIM_BYTES", "value": .string(String(job.claimBytes))],
            ["name": "MODELCACHE_EPOCH", "value": .string(job.epoch ?? "\(job.generation).0")],
            Self.jobNameEnv, Self.podNameEnv,
            ["name": "MODELCACHE_REPORT_CONFIGMAP", "value": .string(reportName)],
            // The root file system is read-only: whatever the program's libraries cache goes to /tmp.
            ["name": "HOME", "value": "/tmp"],
        ])
        env.append(contentsOf: Self.networkEnvironment(h))
        env.append(contentsOf: sourceEnvironment(h))
        switch token {
        case _ where job.frozenTokenEnv != nil:
            if let frozen = job.frozenTokenEnv, frozen != .null { env.append(frozen) }
        case .controlPlane(_, _, let key)?:
            env.append([
                "name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": .string(tokenName), "key": .string(key)]],
            ])
        case .workloadCluster(let secret, let key)?:
            env.append([
                "name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": .string(secret), "key": .string(key)]],
            ])
        case nil: break
        }
        return env
    }

    /// The platform's network settings as the program's HTTP clients read them.
    /// With a proxy, `NO_PROXY` also names the API server (the report's write):
    /// `$(KUBERNETES_SERVICE_HOST)` is expanded by the kubelet from the service
    /// variable it injects into every pod, `.svc` and `.cluster.local` cover
    /// in-cluster names. No user value can hold `$(`: the rules refuse `$`.
    static func networkEnvironment(_ h: HydrationSettings) -> [Value] {
        var env: [Value] = []
        if let endpoint = h.endpoint { env.append(["name": "HF_ENDPOINT", "value": .string(endpoint)]) }
        if let proxy = h.httpsProxy {
            let noProxy = (h.noProxy ?? []) + ["$(KUBERNETES_SERVICE_HOST)", ".svc", ".cluster.local"]
            env.append(["name": "HTTPS_PROXY", "value": .string(proxy)])
            env.append(["name": "NO_PROXY", "value": .string(noProxy.joined(separator: ","))])
        }
        if h.caBundle != nil {
            env.append(["name": "MODELCACHE_CA_BUNDLE", "value": .string(HydrationProgram.caBundleFile)])
        }
        return env
    }

    private static let command = Value.list(HydrationProgram.command.map(Value.string))
    private static let jobNameEnv: Value = [
        "name": "MODELCACHE_JOB", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['job-name']"]],
    ]
    private static let podNameEnv: Value = [
        "name": "MODELCACHE_POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]],
    ]
    private static let defaultResources: Value = [
        "requests": ["cpu": "500m", "memory": "1Gi"], "limits": ["cpu": "2", "memory": "4Gi"],
    ]
    private static let containerSecurity: Value = [
        "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]], "readOnlyRootFilesystem": true,
    ]
    private static let podSecurity: Value = [
        "runAsNonRoot": true, "runAsUser": .int(HydrationProgram.uid), "runAsGroup": .int(HydrationProgram.uid),
        "fsGroup": .int(HydrationProgram.uid), "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": ["type": "RuntimeDefault"],
    ]
    private static let mounts: Value = [
        ["name": "cache", "mountPath": .string(HydrationProgram.root)],
        ["name": "tmp", "mountPath": "/tmp"],
        ["name": "serviceaccount", "mountPath": .string(HydrationProgram.serviceAccountDirectory), "readOnly": true],
    ]
    private static let mountsWithCA: Value = .list(
        (mounts.listValue ?? []) + [
            ["name": "ca-bundle", "mountPath": .string(HydrationProgram.caDirectory), "readOnly": true]
        ])
    private static let tmpVolume: Value = ["name": "tmp", "emptyDir": [:]]
    /// The projected token for the pod's ServiceAccount (audience: the API
    /// server's default), the cluster's CA and the namespace, where in-cluster
    /// clients look for them.
    private static let tokenVolume: Value = [
        "name": "serviceaccount",
        "projected": [
            "sources": [
                [
                    "serviceAccountToken": [
                        "path": "token", "expirationSeconds": .int(HydrationProgram.tokenExpirationSeconds),
                    ]
                ],
                ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                [
                    "downwardAPI": [
                        "items": [["path": "namespace", "fieldRef": ["fieldPath": "metadata.namespace"]]]
                    ]
                ],
            ]
        ],
    ]

    private static let podFailurePolicy: Value = [
        "rules": [
            [
                "action": "FailJob",
                "onExitCodes": [
                    "containerName": .string(container), "operator": "In",
                    "values": .list(HydrationProgram.permanentExitCodes.map(Value.int)),
                ],
            ],
            ["action": "Ignore", "onPodConditions": [["type": "DisruptionTarget", "status": "True"]]],
        ]
    ]
}
