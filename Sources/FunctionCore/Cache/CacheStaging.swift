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

/// Where a hydration Job gets a HuggingFace token.
public enum TokenSource: Sendable, Hashable {
    /// A Secret on the control plane: provider-kubernetes copies the key to each
    /// workload cluster (a ModelCache's tokenSecretRef).
    case controlPlane(secretName: String, namespace: String, key: String)
    /// A Secret already on the workload cluster, in the remote namespace (the
    /// engine container's own HF_TOKEN reference, for an automatic cache).
    case workloadCluster(secretName: String, key: String)

    var key: String {
        switch self {
        case .controlPlane(_, _, let key), .workloadCluster(_, let key): return key
        }
    }

    /// Where a Job reads the token, for messages: `copy` is the name of the
    /// copy a control-plane token gets on each workload cluster.
    func location(copy: String, remoteNamespace: String) -> String {
        switch self {
        case .controlPlane(let secret, let namespace, let key):
            return "key \(key) of Secret \(namespace)/\(secret) on the control plane, copied to Secret \(copy)"
        case .workloadCluster(let secret, let key):
            return "key \(key) of Secret \(remoteNamespace)/\(secret) on the workload cluster"
        }
    }

    /// A field path addressing `data` key `key`: the bracket form when the key has
    /// a dot (`data[hf.token]`), which a dotted path would split.
    static func dataPath(_ key: String) -> String {
        key.contains(".") ? "data[\(key)]" : "data.\(key)"
    }
}

/// One cache: the claim, the hydration Job and the token copy it puts on each
/// cluster, named and labelled the same way whoever owns it (a ModelCache, or a
/// ModelReplica's automatic cache).
///
/// Names and the cluster-independent manifests are built once in `init` and
/// shared (copy-on-write) by every cluster's Object: a 1,000-cluster cache
/// hashes its names once, not 3,000 times.
public struct CacheStaging: Sendable, Hashable {
    /// What to download.
    public let source: ArtifactSource
    /// Where the token comes from, for gated models.
    public let token: TokenSource?
    /// The claim's name on every cluster.
    public let claimName: String
    /// The Job's name; it carries a digest of the source, so a new source gets a
    /// new Job (a Job's pod template is immutable).
    public let jobName: String
    /// The token copy's name on every cluster.
    public let tokenName: String
    private let settings: Settings
    private let labels: Value
    private let jobManifest: Value
    private let tokenManifest: Value?
    /// Messages that are the same on every cluster, built once.
    private let downloading: String
    private let waitingForClaim: String

    /// Plans the cache owned by `ownerKind` `namespace`/`name`.
    public init(ownerKind: String, namespace: String, name: String, source: ArtifactSource, token: TokenSource?,
                labels: [String: String], settings: Settings)
    {
        self.source = source
        self.token = token
        self.settings = settings
        self.labels = .object(Fields(labels))
        self.claimName = Self.claimName(ownerKind: ownerKind, namespace: namespace, name: name)
        self.jobName = childName(ownerKind, namespace, name, "hydrate", shortDigest(source.identity, length: 6))
        self.tokenName = childName(ownerKind, namespace, name, "token")
        self.jobManifest = Self.job(name: jobName, claimName: claimName, tokenName: tokenName, source: source,
                                    token: token, metadata: Self.metadata(jobName, settings, self.labels),
                                    settings: settings)
        let readsToken = token.map { [tokenName] t in
            " with HF_TOKEN from " + t.location(copy: tokenName, remoteNamespace: settings.remoteNamespace)
        } ?? ""
        self.downloading = "Downloading \(source.repo) into claim \(claimName)\(readsToken)"
        self.waitingForClaim = "Waiting for claim \(claimName) to be created"
        let tokenMetadata = Self.metadata(tokenName, settings, self.labels)
        if case .controlPlane = token {
            self.tokenManifest = ["apiVersion": "v1", "kind": "Secret", "metadata": tokenMetadata, "type": "Opaque"]
        } else {
            self.tokenManifest = nil
        }
    }

    /// The claim's name: `childName(ownerKind, namespace, name)`.
    public static func claimName(ownerKind: String, namespace: String, name: String) -> String {
        childName(ownerKind, namespace, name)
    }

    private static func metadata(_ name: String, _ settings: Settings, _ labels: Value) -> Value {
        ["name": .string(name), "namespace": .string(settings.remoteNamespace), "labels": labels]
    }

    /// The provider-kubernetes Object holding the PersistentVolumeClaim on one cluster.
    public func claimObject(providerConfig: String, storageClass: String, sizeGiB: Int64) -> Value {
        claimObject(providerConfig: providerConfig, claim: claimManifest(storageClass: storageClass, sizeGiB: sizeGiB))
    }

    /// The Object holding `claim` (from `claimManifest`) on one cluster. Clusters
    /// with the same storage class and size can share one claim manifest.
    public func claimObject(providerConfig: String, claim: Value) -> Value {
        ProviderObject.wrap(claim, providerConfig: providerConfig, readiness: Self.claimReadiness)
    }

    /// The PersistentVolumeClaim for a storage class and size.
    public func claimManifest(storageClass: String, sizeGiB: Int64) -> Value {
        [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": Self.metadata(claimName, settings, labels),
            "spec": [
                "accessModes": ["ReadWriteMany"],
                "storageClassName": .string(storageClass),
                "resources": ["requests": ["storage": .string("\(sizeGiB)Gi")]],
            ],
        ]
    }

    private static let claimReadiness = ProviderObject.celReadiness(#"object.status.phase == "Bound""#)
    private static let jobReadiness = ProviderObject.celReadiness(
        #"has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Complete" && c.status == "True")"#)


    /// The provider-kubernetes Object holding the hydration Job on one cluster.
    public func jobObject(providerConfig: String) -> Value {
        ProviderObject.wrap(jobManifest, providerConfig: providerConfig, readiness: Self.jobReadiness,
                            managementPolicies: ProviderObject.noDelete)
    }

    private static func job(name: String, claimName: String, tokenName: String, source: ArtifactSource,
                            token: TokenSource?, metadata: Value, settings: Settings) -> Value
    {
        var env: [Value] = [["name": "MODEL_REPO", "value": .string(source.repo)]]
        if let revision = source.revision { env.append(["name": "MODEL_REVISION", "value": .string(revision)]) }
        switch token {
        case .controlPlane(_, _, let key)?:
            env.append(["name": "HF_TOKEN",
                        "valueFrom": ["secretKeyRef": ["name": .string(tokenName), "key": .string(key)]]])
        case .workloadCluster(let secret, let key)?:
            env.append(["name": "HF_TOKEN",
                        "valueFrom": ["secretKeyRef": ["name": .string(secret), "key": .string(key)]]])
        case nil: break
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
        let podLabels: Value = ["modelplane.ai/component": "hydrate", "modelplane.ai/cache": .string(claimName)]
        return [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": metadata,
            "spec": [
                "backoffLimit": .int(settings.jobBackoffLimit),
                "ttlSecondsAfterFinished": .int(settings.jobTTLSeconds),
                "template": [
                    "metadata": ["labels": podLabels],
                    "spec": [
                        "restartPolicy": "OnFailure",
                        "automountServiceAccountToken": false,
                        "containers": [container],
                        "volumes": [["name": "cache", "persistentVolumeClaim": ["claimName": .string(claimName)]]],
                    ],
                ],
            ],
        ]
    }

    /// The provider-kubernetes Object holding the token copy on one cluster, or nil
    /// without a token. Its data is filled by provider-kubernetes from the
    /// control-plane Secret: the token's value never passes through this function.
    public func tokenObject(providerConfig: String) -> Value? {
        guard case .controlPlane(let secretName, let namespace, let key)? = token, let tokenManifest else { return nil }
        let path = Value.string(TokenSource.dataPath(key))
        let reference: Value = [
            "patchesFrom": [
                "apiVersion": "v1", "kind": "Secret",
                "name": .string(secretName), "namespace": .string(namespace),
                "fieldPath": path,
            ],
            "toFieldPath": path,
        ]
        return ProviderObject.wrap(tokenManifest, providerConfig: providerConfig, references: [reference])
    }

    /// Whether the observed Job Object holds this source's Job.
    public func isCurrentJob(_ job: Resource?) -> Bool {
        ProviderObject.remote(job)?[path: "metadata", "name"]?.stringValue == jobName
    }

    /// The phase on this cluster from the observed claim and Job Objects.
    ///
    /// `latchedReady` says the XR's observed status already reported Ready for this
    /// same source, which keeps Ready once the Job has been dropped.
    public func phase(claim: Resource?, job: Resource?, latchedReady: Bool) -> PhaseReport {
        let remoteClaim = ProviderObject.remote(claim)
        // A Job observed under another name belongs to an older source: ignore it.
        let remoteJob = isCurrentJob(job) ? ProviderObject.remote(job) : nil
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
        if bound { return PhaseReport(.hydrating, downloading) }
        if let claimPhase {
            return PhaseReport(.pending, "Waiting for claim \(claimName) to bind (phase \(claimPhase))")
        }
        return PhaseReport(.pending, waitingForClaim)
    }
}
