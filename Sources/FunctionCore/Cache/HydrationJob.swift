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
    /// The pinned 40-hex commit it stages (`MODELCACHE_COMMIT`), nil before a pin (hydrator.md §2).
    public var commit: String?
    /// The staging epoch `<generation>.<n>` it runs under (`MODELCACHE_EPOCH`, hydrator.md §3).
    public var epoch: String?

    /// Creates a Job identity.
    public init(
        name: String, keep: [String], generation: Int64, attempt: String, frozenTokenEnv: Value? = nil,
        commit: String? = nil, epoch: String? = nil
    ) {
        self.name = name
        self.keep = keep
        self.generation = generation
        self.attempt = attempt
        self.frozenTokenEnv = frozenTokenEnv
        self.commit = commit
        self.epoch = epoch
    }
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
    /// Its `KEEP_DIRS`, when every entry is a revision directory name.
    public var keep: [String]?
    /// Its `MODEL_GENERATION`.
    public var generation: Int64?
    /// Its `HF_TOKEN` env entry, or `.null` when it has none.
    public var tokenEnv: Value
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
        /// The remote manifest, for the rest.
        let remote: Value

        /// Reads the observed Job Object's name and labels; nil when nothing (or nothing named) is observed.
        public init?(_ object: Resource?) {
            guard let remote = ProviderObject.remote(object),
                let name = remote[path: "metadata", "name"]?.stringValue, !name.isEmpty
            else { return nil }
            self.name = name
            let labels = remote[path: "metadata", "labels"]
            self.revision = labels?[CacheStaging.revisionLabel]?.stringValue
            self.attempt = labels?[CacheStaging.attemptLabel]?.stringValue
            self.remote = remote
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
        func env(_ name: String) -> Value? { container?.firstObject(inListAt: "env", where: "name", is: name) }
        let keep = env("KEEP_DIRS")?["value"]?.stringValue.map { $0.split(separator: " ").map(String.init) }
        self.keep = keep.flatMap { $0.allSatisfy(isRevisionDirectory) ? $0 : nil }
        self.generation = env("MODEL_GENERATION")?["value"]?.stringValue.flatMap { Int64($0) }
        self.tokenEnv = env("HF_TOKEN") ?? .null
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
    /// annotation and the size): what `adopt` adopts an observed failed Job under.
    public func attempt(sizeGiB: Int64) -> String {
        shortDigest("\(retry ?? "")\n\(sizeGiB)", length: 12)
    }

    /// The observed Job when the cluster adopts it (keeps it as its Job, same
    /// name, same frozen template values): it writes this source's revision and
    /// either has not failed or failed under the current `attempt` (retry
    /// annotation and claim size). nil otherwise: a source change, or a retry of
    /// a failed Job, starts a fresh attempt (`newJob(named:keep:attempt:)`).
    public func adopt(_ observed: ObservedJob.Identity?, attempt: String) -> ObservedJob? {
        guard let observed, observed.revision == directory else { return nil }
        let job = ObservedJob(observed)
        return job.failure == nil || job.attempt == attempt ? job : nil
    }

    /// The Job a cluster runs while it keeps the `adopted` one (from `adopt`):
    /// its name and the values frozen into its template.
    public func job(adopted o: ObservedJob, keep: [String], attempt: String) -> HydrationJob {
        HydrationJob(
            name: o.name, keep: o.keep ?? keep, generation: o.generation ?? generation, attempt: attempt,
            frozenTokenEnv: o.tokenEnv)
    }

    /// A new Job for this source when none is adopted, named by `newJobName`
    /// from the revision staged and the observed Job it replaces. A Job replaced
    /// while running is orphaned (never deleted) and finishes on its own; the
    /// hydration program's pruning rules keep that safe.
    public func newJob(named name: String, keep: [String], attempt: String) -> HydrationJob {
        HydrationJob(name: name, keep: keep, generation: generation, attempt: attempt)
    }
}
