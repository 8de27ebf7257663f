/// The phase of a cache on one cluster.
public enum CachePhase: String, Sendable, Hashable {
    case pending = "Pending"
    case hydrating = "Hydrating"
    case ready = "Ready"
    case failed = "Failed"
}

/// A phase and, when not Ready, why.
public struct PhaseReport: Sendable, Hashable {
    /// The phase.
    public var phase: CachePhase
    /// Why the cache is in this phase; nil when Ready.
    public var message: String?

    /// Creates a report.
    public init(_ phase: CachePhase, _ message: String? = nil) {
        self.phase = phase
        self.message = message
    }
}

/// Where a hydration Job gets a HuggingFace token: a copy of a control-plane
/// Secret that provider-kubernetes fills on the workload cluster.
public struct TokenSource: Sendable, Hashable {
    /// The control-plane Secret's name.
    public var secretName: String
    /// The control-plane Secret's namespace.
    public var namespace: String
    /// The data key holding the token.
    public var key: String

    /// Creates a token source.
    public init(secretName: String, namespace: String, key: String) {
        self.secretName = secretName
        self.namespace = namespace
        self.key = key
    }
}

/// One cache on one cluster: the claim, the hydration Job and the token copy,
/// named and labelled the same way whoever owns the cache (a ModelCache, or a
/// ModelReplica's automatic cache).
public struct CacheStaging: Sendable, Hashable {
    /// The owner's kind, lower case: the first part of every remote name.
    public var ownerKind: String
    /// The owner's namespace on the control plane.
    public var namespace: String
    /// The owner's name.
    public var name: String
    /// The provider config that reaches the cluster.
    public var providerConfig: String
    /// The ReadWriteMany storage class, from the cluster's rwxCache.
    public var storageClass: String
    /// The claim's size in GiB.
    public var sizeGiB: Int64
    /// What to download.
    public var source: ArtifactSource
    /// Where the token comes from, for gated models.
    public var token: TokenSource?
    /// Labels for every remote object.
    public var labels: [String: String]
    /// Namespace, image and Job settings.
    public var settings: Settings

    /// Creates a staging plan.
    public init(ownerKind: String, namespace: String, name: String, providerConfig: String, storageClass: String,
                sizeGiB: Int64, source: ArtifactSource, token: TokenSource?, labels: [String: String],
                settings: Settings)
    {
        self.ownerKind = ownerKind
        self.namespace = namespace
        self.name = name
        self.providerConfig = providerConfig
        self.storageClass = storageClass
        self.sizeGiB = sizeGiB
        self.source = source
        self.token = token
        self.labels = labels
        self.settings = settings
    }

    /// The claim's name: `childName(ownerKind, namespace, name)`.
    public static func claimName(ownerKind: String, namespace: String, name: String) -> String {
        childName(ownerKind, namespace, name)
    }

    /// The claim's name on the workload cluster.
    public var claimName: String { Self.claimName(ownerKind: ownerKind, namespace: namespace, name: name) }

    /// The Job's name; it carries a digest of the source, so a new source gets a new Job
    /// (a Job's pod template is immutable).
    public var jobName: String { childName(ownerKind, namespace, name, "hydrate", shortDigest(source.identity, length: 6)) }

    /// The token copy's name on the workload cluster.
    public var tokenName: String { childName(ownerKind, namespace, name, "token") }

    private func metadata(_ name: String) -> Value {
        ["name": .string(name), "namespace": .string(settings.remoteNamespace),
         "labels": .object(labels.mapValues(Value.string))]
    }

    /// The provider-kubernetes Object holding the PersistentVolumeClaim.
    public func claimObject() -> Value {
        let claim: Value = [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": metadata(claimName),
            "spec": [
                "accessModes": ["ReadWriteMany"],
                "storageClassName": .string(storageClass),
                "resources": ["requests": ["storage": .string("\(sizeGiB)Gi")]],
            ],
        ]
        return ProviderObject.wrap(claim, providerConfig: providerConfig,
                                   readinessQuery: #"object.status.phase == "Bound""#)
    }

    /// The provider-kubernetes Object holding the hydration Job.
    public func jobObject() -> Value {
        var env: [Value] = [
            ["name": "MODEL_REPO", "value": .string(source.repo)],
        ]
        if let revision = source.revision { env.append(["name": "MODEL_REVISION", "value": .string(revision)]) }
        if let token {
            env.append(["name": "HF_TOKEN",
                        "valueFrom": ["secretKeyRef": ["name": .string(tokenName), "key": .string(token.key)]]])
        }
        let container: Value = [
            "name": "hydrate",
            "image": .string(settings.hydrationImage),
            "command": ["/bin/sh", "-c", .string(HydrationScript.text)],
            "env": .list(env),
            "volumeMounts": [["name": "cache", "mountPath": .string(HydrationScript.cacheDir)]],
            "resources": [
                "requests": ["cpu": "500m", "memory": "1Gi"],
                "limits": ["cpu": "2", "memory": "4Gi"],
            ],
            "securityContext": ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]],
        ]
        // Pods carry only what selects them, to keep 1,000-cluster responses small.
        let podLabels = ["modelplane.ai/component": "hydrate", "modelplane.ai/cache": claimName]
        let job: Value = [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": metadata(jobName),
            "spec": [
                "backoffLimit": .int(settings.jobBackoffLimit),
                "ttlSecondsAfterFinished": .int(settings.jobTTLSeconds),
                "template": [
                    "metadata": ["labels": .object(podLabels.mapValues(Value.string))],
                    "spec": [
                        "restartPolicy": "OnFailure",
                        "automountServiceAccountToken": false,
                        "containers": [container],
                        "volumes": [["name": "cache", "persistentVolumeClaim": ["claimName": .string(claimName)]]],
                    ],
                ],
            ],
        ]
        return ProviderObject.wrap(
            job, providerConfig: providerConfig,
            readinessQuery: #"has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Complete" && c.status == "True")"#,
            managementPolicies: ProviderObject.noDelete)
    }

    /// The provider-kubernetes Object holding the token copy, or nil without a token.
    /// Its data is filled by provider-kubernetes from the control-plane Secret: the
    /// token's value never passes through this function.
    public func tokenObject() -> Value? {
        guard let token else { return nil }
        let secret: Value = ["apiVersion": "v1", "kind": "Secret", "metadata": metadata(tokenName), "type": "Opaque"]
        let path = Value.string("data.\(token.key)")
        let reference: Value = [
            "patchesFrom": [
                "apiVersion": "v1", "kind": "Secret",
                "name": .string(token.secretName), "namespace": .string(token.namespace),
                "fieldPath": path,
            ],
            "toFieldPath": path,
        ]
        return ProviderObject.wrap(secret, providerConfig: providerConfig, references: [reference])
    }

    /// The phase on this cluster from the observed claim and Job Objects.
    ///
    /// `latchedReady` says the XR's observed status already reported Ready for this
    /// same source, which keeps Ready once the Job has been dropped.
    public func phase(claim: Resource?, job: Resource?, latchedReady: Bool) -> PhaseReport {
        let remoteClaim = ProviderObject.remote(claim)
        // A Job observed under another name belongs to an older source: ignore it.
        let remoteJob = ProviderObject.remote(job).flatMap {
            $0[path: "metadata", "name"]?.stringValue == jobName ? $0 : nil
        }
        if let failed = condition(remoteJob, "Failed"), failed["status"]?.stringValue == "True" {
            let reason = failed["reason"]?.stringValue ?? "Failed"
            let detail = failed["message"]?.stringValue.map { ": \($0)" } ?? ""
            return PhaseReport(.failed, "Hydration Job \(jobName) failed: \(reason)\(detail)")
        }
        let claimPhase = remoteClaim?[path: "status", "phase"]?.stringValue
        let bound = claimPhase == "Bound"
        if bound && (conditionStatus(remoteJob, "Complete") == "True" || latchedReady) {
            return PhaseReport(.ready)
        }
        if bound { return PhaseReport(.hydrating, "Downloading \(source.repo) into claim \(claimName)") }
        if let claimPhase {
            return PhaseReport(.pending, "Waiting for claim \(claimName) to bind (phase \(claimPhase))")
        }
        return PhaseReport(.pending, "Waiting for claim \(claimName) to be created")
    }
}
