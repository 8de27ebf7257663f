/// The identity of one hydration Job: its name and the values frozen into its
/// pod template (a Job's template is immutable, so a running Job keeps them).
public struct HydrationJob: Sendable, Hashable {
    /// The Job's name.
    public var name: String
    /// The `rev-<d>` directories its pruning keeps, sorted.
    public var keep: [String]
    /// The owner generation it was created under.
    public var generation: Int64
    /// The digest of the retry annotation and claim size it runs under (a label:
    /// a failed Job is retried when either changes).
    public var attempt: String
    /// For a Job already on the cluster: its `HF_TOKEN` env entry exactly as it was
    /// created (`.null` when it had none). A Job's template is immutable, so a change
    /// of where the token is read (the control-plane Secret appearing or going)
    /// applies to the next Job, never to a running one. nil for a new Job.
    public var frozenTokenEnv: Value?
    /// The claim's requested size in bytes (`MODELCACHE_CLAIM_BYTES`: the space check, hydrator.md §3).
    public var claimBytes: Int64
    /// What most Jobs leave unset, in one reference (nil when all are): the
    /// struct stays small, and every plan and stage that carries an optional
    /// Job (nil on a Ready cluster) copies a few words, not a dozen.
    private var extras: HydrationJobExtras?

    /// The pinned 40-hex commit it stages (`MODELCACHE_COMMIT`), nil before a pin (hydrator.md §2).
    public var commit: String? {
        get { extras?.commit }
        set { update { $0.commit = newValue } }
    }
    /// The staging epoch `<generation>.<n>` it runs under (`MODELCACHE_EPOCH`, hydrator.md §3).
    public var epoch: String? {
        get { extras?.epoch }
        set { update { $0.epoch = newValue } }
    }
    /// The cluster's own hydration settings (`spec.storage.rwxCache.hydration`),
    /// laid over the function input's; nil on a cluster without them (the usual
    /// case, whose Job manifest every such cluster shares).
    public var hydration: ClusterHydration? {
        get { extras?.hydration }
        set { update { $0.hydration = newValue } }
    }
    /// The manifest an adopted Job was sent, composed again exactly as it is
    /// until it finishes (a Job's template is immutable): a running Job of the
    /// previous release (its environment uses the old `MODEL_*` names), or one
    /// on a cluster whose hydration settings are now invalid. nil otherwise.
    public var sentManifest: Value? {
        get { extras?.sentManifest }
        set { update { $0.sentManifest = newValue } }
    }

    /// Creates a Job identity.
    public init(
        name: String, keep: [String], generation: Int64, attempt: String, frozenTokenEnv: Value? = nil,
        commit: String? = nil, epoch: String? = nil, claimBytes: Int64 = 0, hydration: ClusterHydration? = nil
    ) {
        self.name = name
        self.keep = keep
        self.generation = generation
        self.attempt = attempt
        self.frozenTokenEnv = frozenTokenEnv
        self.claimBytes = claimBytes
        var extras = HydrationJobExtras.Fields()
        extras.commit = commit
        extras.epoch = epoch
        extras.hydration = hydration
        self.extras = extras.isEmpty ? nil : HydrationJobExtras(extras)
    }

    /// Replaces the extras with `change` applied (they are immutable, shared by copies).
    private mutating func update(_ change: (inout HydrationJobExtras.Fields) -> Void) {
        var fields = extras?.fields ?? HydrationJobExtras.Fields()
        change(&fields)
        extras = fields.isEmpty ? nil : HydrationJobExtras(fields)
    }

    /// Equal when every value is.
    public static func == (a: HydrationJob, b: HydrationJob) -> Bool {
        a.name == b.name && a.keep == b.keep && a.generation == b.generation && a.attempt == b.attempt
            && a.frozenTokenEnv == b.frozenTokenEnv && a.claimBytes == b.claimBytes
            && a.extras?.fields == b.extras?.fields
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(keep)
        hasher.combine(generation)
        hasher.combine(attempt)
        hasher.combine(frozenTokenEnv)
        hasher.combine(claimBytes)
        hasher.combine(extras?.fields)
    }

    /// The claim size in bytes of a claim of `sizeGiB` GiB.
    public static func claimBytes(sizeGiB: Int64) -> Int64 { sizeGiB << 30 }
}

/// The values of a `HydrationJob` that most Jobs leave unset, behind one
/// reference. Immutable: a change makes a new one.
final class HydrationJobExtras: Sendable {
    /// The values.
    struct Fields: Sendable, Hashable {
        var commit: String?
        var epoch: String?
        var hydration: ClusterHydration?
        var sentManifest: Value?

        /// Whether none is set.
        var isEmpty: Bool { commit == nil && epoch == nil && hydration == nil && sentManifest == nil }
    }

    /// The values.
    let fields: Fields

    init(_ fields: Fields) { self.fields = fields }

    var commit: String? { fields.commit }
    var epoch: String? { fields.epoch }
    var hydration: ClusterHydration? { fields.hydration }
    var sentManifest: Value? { fields.sentManifest }
}

/// What the function reads of an observed hydration Job (the remote manifest
/// under the Object's `status.atProvider.manifest`).
public struct ObservedJob: Sendable, Hashable {
    /// The Job's name.
    public var name: String
    /// Its `modelplane.ai/cache-revision` label: the revision directory it writes.
    public var revision: String?
    /// Its attempt label: the digest of the retry annotation and claim size it ran under.
    public var attempt: String?
    /// Its `MODELCACHE_KEEP` (or the previous release's `KEEP_DIRS`), when every entry is a revision directory name.
    public var keep: [String]? { read.keep }
    /// The generation part of its `MODELCACHE_EPOCH` (or the previous release's `MODEL_GENERATION`).
    public var generation: Int64? { read.generation }
    /// Its `HF_TOKEN` env entry, or `.null` when it has none.
    public var tokenEnv: Value { read.tokenEnv }
    /// What the Job's environment says, and the Object, behind one reference
    /// (the struct is copied, as an optional, on every cluster's path, Ready
    /// ones included: a few words, not a dozen).
    private let read: ObservedJobExtras
    /// Its `MODELCACHE_EPOCH`, when it is `<generation>.<n>` or a bare generation.
    public var epoch: String? { read.epoch }
    /// Its `MODELCACHE_COMMIT`, when it is 40 lowercase hex digits.
    public var commit: String? { read.commit }
    /// Its `MODELCACHE_CLAIM_BYTES`.
    public var claimBytes: Int64? { read.claimBytes }
    /// Whether its environment is the previous release's (`MODEL_REPO`, no
    /// `MODELCACHE_SOURCE`): it is adopted as it was sent until it finishes.
    public var isLegacy: Bool { read.isLegacy }
    /// The manifest the Job's Object was sent (`spec.forProvider.manifest`).
    public var sentManifest: Value? { read.object[path: "spec", "forProvider", "manifest"] }
    /// Whether it has `Complete=True`.
    public var complete: Bool
    /// Its `Failed=True` condition, when it failed.
    public var failure: JobFailure?

    /// What names an observed Job and decides whether it can be adopted (its
    /// labels), read before the rest: a Job that writes another revision is only
    /// ever replaced, so its template and conditions are never read.
    public struct Identity: Sendable {
        /// The Job's name.
        public var name: String
        /// Its `modelplane.ai/cache-revision` label.
        public var revision: String?
        /// Its attempt label.
        public var attempt: String?
        /// Its intent label (`CacheStaging.intentLabel`), read with the others.
        public var intent: String?
        /// The remote manifest, for the rest.
        let remote: Value
        /// The observed Object, for the manifest it was sent (read only for a previous release's Job).
        let object: Value

        /// Reads the observed Job Object's name and labels; nil when nothing (or nothing named) is observed.
        public init?(_ object: Resource?) {
            guard let remote = ProviderObject.remote(object),
                let name = remote[path: "metadata", "name"]?.stringValue, !name.isEmpty
            else { return nil }
            self.name = name
            let labels = remote[path: "metadata", "labels"]
            self.revision = labels?[CacheStaging.revisionLabel]?.stringValue
            self.attempt = labels?[CacheStaging.attemptLabel]?.stringValue
            self.intent = labels?[CacheStaging.intentLabel]?.stringValue
            self.remote = remote
            self.object = object?.object ?? .null
        }
    }

    /// Reads the rest of the Job `identity` names.
    public init(_ identity: Identity) {
        let remote = identity.remote
        self.name = identity.name
        self.revision = identity.revision
        self.attempt = identity.attempt
        let container = remote.firstObject(
            inListAt: "spec", "template", "spec", "containers", where: "name", is: CacheStaging.container)
        let env = JobEnvironment(container?["env"])
        self.read = ObservedJobExtras(
            keep: env.keep.flatMap { $0.allSatisfy(isRevisionDirectory) ? $0 : nil }, generation: env.generation,
            tokenEnv: env.token ?? .null, epoch: env.epoch, commit: env.commit, claimBytes: env.claimBytes,
            isLegacy: env.isLegacy, object: identity.object)
        self.complete = conditionStatus(remote, "Complete") == "True"
        if let failed = condition(remote, "Failed"), failed["status"]?.stringValue == "True" {
            self.failure = JobFailure(
                reason: failed["reason"]?.stringValue ?? "Failed",
                message: failed["message"]?.stringValue ?? "")
        } else {
            self.failure = nil
        }
    }
}

/// What `ObservedJob` reads of the Job's environment, and the Object, behind one reference.
final class ObservedJobExtras: Sendable, Hashable {
    let keep: [String]?
    let generation: Int64?
    let tokenEnv: Value
    let epoch: String?
    let commit: String?
    let claimBytes: Int64?
    let isLegacy: Bool
    let object: Value

    init(
        keep: [String]?, generation: Int64?, tokenEnv: Value, epoch: String?, commit: String?, claimBytes: Int64?,
        isLegacy: Bool, object: Value
    ) {
        self.keep = keep
        self.generation = generation
        self.tokenEnv = tokenEnv
        self.epoch = epoch
        self.commit = commit
        self.claimBytes = claimBytes
        self.isLegacy = isLegacy
        self.object = object
    }

    static func == (a: ObservedJobExtras, b: ObservedJobExtras) -> Bool {
        a === b
            || (a.keep == b.keep && a.generation == b.generation && a.tokenEnv == b.tokenEnv && a.epoch == b.epoch
                && a.commit == b.commit && a.claimBytes == b.claimBytes && a.isLegacy == b.isLegacy
                && a.object == b.object)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(keep)
        hasher.combine(generation)
        hasher.combine(epoch)
        hasher.combine(commit)
        hasher.combine(claimBytes)
    }
}

/// A Job's `Failed=True` condition.
public struct JobFailure: Sendable, Hashable {
    /// The condition's reason, e.g. `PodFailurePolicy` or `BackoffLimitExceeded`.
    public var reason: String
    /// The condition's message; Kubernetes names the exit code there.
    public var message: String

    /// The exit code named in the message (`... failed with exit code N ...`), if any.
    public var exitCode: Int64? {
        guard let found = message.firstRange(of: "exit code ") else { return nil }
        return Int64(message[found.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }
}

/// Whether `name` is a revision directory name: `rev-` and 12 lowercase hex digits.
public func isRevisionDirectory(_ name: String) -> Bool {
    let b = Array(name.utf8)
    guard b.count == 16, name.hasPrefix("rev-") else { return false }
    return b[4...].allSatisfy {
        ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
    }
}

extension CacheStaging {
    /// The attempt label of a Job on a claim of `sizeGiB` (a digest of the retry
    /// annotation and the size): what `ClusterStager.adopt` adopts an observed failed Job under.
    public func attempt(sizeGiB: Int64) -> String {
        shortDigest("\(retry ?? "")\n\(sizeGiB)", length: 12)
    }

    /// A new Job for this source when none is adopted, named by `newJobName`
    /// from the revision staged and the observed Job it replaces. A Job replaced
    /// while running is orphaned (never deleted) and finishes on its own; the
    /// hydration program's pruning rules keep that safe.
    public func newJob(
        named name: String, keep: [String], attempt: String, claimBytes: Int64 = 0,
        hydration: ClusterHydration? = nil
    ) -> HydrationJob {
        HydrationJob(
            name: name, keep: keep, generation: generation, attempt: attempt, claimBytes: claimBytes,
            hydration: hydration)
    }
}
