/// Where a hydration Job gets a HuggingFace token.
public enum TokenSource: Sendable, Hashable {
    /// A Secret on the control plane: provider-kubernetes copies the key to each
    /// workload cluster (a ModelCache's tokenSecretRef).
    case controlPlane(secretName: String, namespace: String, key: String)
    /// A Secret already on the workload cluster, in the remote namespace (the
    /// engine container's own HF_TOKEN reference, for an automatic cache).
    case workloadCluster(secretName: String, key: String)

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

/// One cache: the claim, the hydration Jobs and the token copy it puts on each
/// cluster, named and labelled the same way whoever owns it (a ModelCache, or a
/// ModelReplica's automatic cache).
///
/// Names and the cluster-independent parts are built once in `init` and shared
/// (copy-on-write) by every cluster's Object: a 1,000-cluster cache hashes its
/// names once, not 3,000 times. A class, immutable: everything that plans a
/// cluster shares the one instance (a struct of a dozen strings was copied per
/// cluster, measured).
public final class CacheStaging: Sendable {
    /// What to stage.
    public let source: CacheSource
    /// `source.identity`, computed once.
    public let identity: String
    /// `source.directory`, hashed once rather than per cluster.
    public let directory: String
    /// The `volume` source, when that is the kind: its claim is observed, never composed (sources.md §1).
    public let volume: VolumeSource?
    /// Where the token comes from, for gated models.
    public let token: TokenSource?
    /// The claim's name on every cluster.
    public let claimName: String
    /// The token copy's name on every cluster.
    public let tokenName: String
    /// The hydration report ConfigMap's name on every cluster (hydrator.md §4).
    public let reportName: String
    /// The name of the hydration Job's ServiceAccount, and of its Role and RoleBinding, on every cluster.
    public let accountName: String
    /// The value of the owner's `modelplane.ai/retry-hydration` annotation, if any.
    public let retry: String?
    /// The owner's `metadata.generation`: orders Jobs, so an older one never prunes a newer one's revision.
    public let generation: Int64
    let owner: [String]
    /// `newJobName(staged: nil, replacing: nil)`, named once for every cluster.
    private let firstJobName: String
    /// `newJobName(staged: identity, replacing: nil)`, named once for every cluster.
    private let restagedJobName: String
    /// The function's settings.
    let settings: Settings
    /// The labels of everything composed for this cache.
    let labels: Value
    private let tokenManifest: Value?
    /// ` with HF_TOKEN from …` for messages about a gated download; empty without a token.
    let tokenReading: String
    /// The Hydrating message, the same on every cluster: `Downloading <identity> into claim <name>…`.
    let downloading: String

    /// The annotation that retries Failed clusters when its value changes (lifecycle.md §4).
    public static let retryAnnotation = "modelplane.ai/retry-hydration"
    /// The Job label naming the revision directory it writes.
    public static let revisionLabel = "modelplane.ai/cache-revision"
    /// The Job label recording its attempt (`HydrationJob.attempt`).
    public static let attemptLabel = "modelplane.ai/hydration-attempt"

    /// Plans the cache owned by `ownerKind` `namespace`/`name`.
    public init(
        ownerKind: String, namespace: String, name: String, source: CacheSource, token: TokenSource?,
        labels: [String: String], settings: Settings, retry: String? = nil, generation: Int64 = 0
    ) {
        self.source = source
        self.identity = source.identity
        self.directory = revisionDirectory(identity)
        if case .volume(let v) = source { self.volume = v } else { self.volume = nil }
        self.token = token
        self.settings = settings
        self.retry = retry
        self.generation = generation
        self.labels = .object(Fields(labels))
        self.owner = [ownerKind, namespace, name]
        self.firstJobName = Self.jobName(
            owner: owner, identity: identity, staged: nil, retry: retry, replacing: nil,
            generation: generation)
        self.restagedJobName = Self.jobName(
            owner: owner, identity: identity, staged: identity, retry: retry,
            replacing: nil, generation: generation)
        self.claimName = volume?.claimName ?? Self.claimName(ownerKind: ownerKind, namespace: namespace, name: name)
        self.tokenName = childName(ownerKind, namespace, name, "token")
        self.reportName = childName(ownerKind, namespace, name, "report")
        self.accountName = childName(ownerKind, namespace, name, "hydrate")
        self.tokenReading =
            token.map { [tokenName] t in
                " with HF_TOKEN from " + t.location(copy: tokenName, remoteNamespace: settings.remoteNamespace)
            } ?? ""
        self.downloading =
            volume == nil
            ? "Downloading \(identity) into claim \(claimName)\(tokenReading)"
            : "Checking the files of \(identity) (claim \(claimName), read-only)"
        let tokenMetadata = Self.metadata(tokenName, settings, self.labels)
        if case .controlPlane = token {
            self.tokenManifest = ["apiVersion": "v1", "kind": "Secret", "metadata": tokenMetadata, "type": "Opaque"]
        } else {
            self.tokenManifest = nil
        }
    }

    /// This cache with everything it puts on a workload cluster in `namespace` (a cluster's own
    /// remote namespace, or the one an existing claim keeps: hydrator.md §5): the same names,
    /// labels and Jobs. `self` when it is the remote namespace already, so the usual cluster
    /// shares the manifests built once per cache; another is built once per namespace.
    public func inNamespace(_ namespace: String) -> CacheStaging {
        guard namespace != remoteNamespace else { return self }
        var settings = self.settings
        settings.remoteNamespace = namespace
        var labels: [String: String] = [:]
        for (key, value) in self.labels.objectValue ?? [:] { labels[key] = value.stringValue }
        return CacheStaging(
            ownerKind: owner[0], namespace: owner[1], name: owner[2], source: source, token: token, labels: labels,
            settings: settings, retry: retry, generation: generation)
    }

    /// The revision directory of a staged `identity` (this source's is hashed once).
    public func directory(of identity: String) -> String {
        identity == self.identity ? directory : revisionDirectory(identity)
    }

    /// The claim's name: `childName(ownerKind, namespace, name)`.
    public static func claimName(ownerKind: String, namespace: String, name: String) -> String {
        childName(ownerKind, namespace, name)
    }

    /// The name of a new Job for this source. It carries a digest of the source
    /// identity, the revision staged when it starts, the retry annotation, the
    /// Job it replaces and the owner's generation, so a Job name never repeats an
    /// earlier attempt (an old completed Job still on the cluster can never pass
    /// for a new one, even when a source comes back after its revision was pruned).
    /// `pin` (the pinned commit and epoch, hydrator.md §2) enters the digest only when given.
    public func newJobName(staged: String?, replacing: String?, pin: String? = nil) -> String {
        // The common cases, a first Job or one after this source was staged, are named once in init.
        if (replacing ?? "").isEmpty, (pin ?? "").isEmpty {
            if (staged ?? "").isEmpty { return firstJobName }
            if staged == identity { return restagedJobName }
        }
        return Self.jobName(
            owner: owner, identity: identity, staged: staged, retry: retry, replacing: replacing,
            generation: generation, pin: pin)
    }

    private static func jobName(
        owner: [String], identity: String, staged: String?, retry: String?,
        replacing: String?, generation: Int64, pin: String? = nil
    ) -> String {
        var parts = [identity, staged ?? "", retry ?? "", replacing ?? "", String(generation)]
        if let pin, !pin.isEmpty { parts.append(pin) }
        return childName(owner + ["hydrate", shortDigest(parts.joined(separator: "\n"), length: 6)])
    }

    /// `metadata` of a remote object named `name`.
    static func metadata(_ name: String, _ settings: Settings, _ labels: Value) -> Value {
        ["name": .string(name), "namespace": .string(settings.remoteNamespace), "labels": labels]
    }

    /// The metadata of an object named `name` on the workload cluster: the remote namespace and the cache's labels.
    func remoteMetadata(_ name: String) -> Value { Self.metadata(name, settings, labels) }

    /// The remote namespace everything of this cache lives in on a workload cluster.
    var remoteNamespace: String { settings.remoteNamespace }

    /// The Object holding `claim` (from `claimManifest`) on one cluster. Clusters
    /// with the same storage class and size can share one claim manifest.
    public func claimObject(providerConfig: String, claim: Value) -> Value {
        ProviderObject.wrap(
            claim, providerConfig: providerConfig, readiness: Self.claimReadiness,
            managementPolicies: volume == nil ? nil : Self.observeOnly)
    }

    /// The PersistentVolumeClaim for a storage class and a size such as `300Gi`; for a
    /// `volume` source, the manifest observing its claim (`observedClaimManifest`).
    public func claimManifest(storageClass: String, size: String) -> Value {
        if let volume { return observedClaimManifest(volume) }
        return [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": Self.metadata(claimName, settings, labels),
            "spec": [
                "accessModes": ["ReadWriteMany"],
                "storageClassName": .string(storageClass),
                "resources": ["requests": ["storage": .string(size)]],
            ],
        ]
    }

    private static let claimReadiness = ProviderObject.celReadiness(#"object.status.phase == "Bound""#)
    private static let jobReadiness = ProviderObject.celReadiness(
        #"has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Complete" && c.status == "True")"#
    )

    /// The provider-kubernetes Object holding a hydration Job manifest (from `jobManifest`) on one cluster.
    public func jobObject(providerConfig: String, manifest: Value) -> Value {
        ProviderObject.wrap(
            manifest, providerConfig: providerConfig, readiness: Self.jobReadiness,
            managementPolicies: ProviderObject.noDelete)
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
}
