import FunctionCore

// What a workload cluster holds in a `World`: claims and the revision directories on them,
// hydration Jobs, and workloads with the pods of every template still running.

/// A revision directory at a claim's root.
struct RevisionDir {
    /// The source identity the Job writing it downloads.
    var identity: String
    /// Whether the completion marker is written.
    var complete: Bool
    /// The newest owner generation that wrote to it.
    var generation: Int64
}

/// A PersistentVolumeClaim on a workload cluster and the files on it.
struct Claim {
    /// The manifest as last applied.
    var manifest: Value
    /// Whether it is Bound.
    var bound = false
    /// The revision directories at its root, by name.
    var dirs: [String: RevisionDir] = [:]
    /// Deleted while pods still mount it: Kubernetes keeps it (pvc-protection) until they are gone.
    var deleting = false
}

/// How a hydration Job ends.
enum JobOutcome {
    /// Completes `after` steps once its claim is bound.
    case complete(after: Int = 1)
    /// Fails with `exitCode` after `after` steps: a code the Job's podFailurePolicy names (FailJob) fails
    /// it with reason `PodFailurePolicy`; any other code is retried and ends in `BackoffLimitExceeded`
    /// (`after` then counts the retries too).
    case fail(exitCode: Int, after: Int = 1)
    /// Never ends.
    case running
}

/// What decides a Job's outcome (`World.hydration`).
struct JobRun {
    /// The cluster it runs on.
    var cluster: String
    /// The Job's name.
    var name: String
    /// The source identity it downloads.
    var identity: String
    /// The claim it writes to.
    var claim: String
    /// The claim's requested size in GiB when the Job was created.
    var claimGiB: Int64
    /// 1 for the first creation of this Job name on this cluster, 2 when re-created, …
    var run: Int
}

/// A hydration Job on a workload cluster.
struct RemoteJob {
    /// The manifest it was created from (immutable).
    var manifest: Value
    /// How it ends.
    var outcome: JobOutcome
    /// The claim it writes to (its key: in the Job's namespace).
    var claim: String
    /// The revision directory it writes (its `modelplane.ai/cache-revision` label).
    var dir: String
    /// The source identity it downloads.
    var identity: String
    /// The revision directories its pruning keeps (`MODELCACHE_KEEP`).
    var keep: [String]
    /// The owner's generation it was created under (the generation of `MODELCACHE_EPOCH`).
    var generation: Int64
    /// The XR whose desired state created it.
    var owner: XRID
    /// The owner's spec, annotations and the claim size when it was created.
    var fingerprint: String
    /// Steps it has run while its claim was bound.
    var age = 0
    /// The step it finished at.
    var finishedAt: Int?
    /// Its `Complete` or `Failed` condition once finished.
    var condition: Value?
    /// The commit it stages (nil for a Job of the previous release, which writes no report).
    var commit: String?
    /// The ConfigMap it writes its report into, in its namespace (its key).
    var reportConfigMap: String?
    /// The source identity as the Job was given it (`MODELCACHE_SOURCE`), for its report.
    var source: String = ""
    /// The step its run started.
    var startedAt = 0
    /// The exit code it ended with, when it failed.
    var exitCode: Int?
    /// Whether it is a volume source's check Job (sources.md §1): it reads `dir`, writes nothing.
    var checks = false
}

/// A set of pods of one template (a ReplicaSet, or an LWS revision).
struct PodSet {
    /// The pod template (Deployment) or leader and worker templates (LWS).
    var template: Value
    /// The step the template was rolled out at.
    var startedAt: Int
    /// Whether its pods are available.
    var available = false
}

/// A Deployment or LeaderWorkerSet on a workload cluster, with the pods of every template still running.
struct RemoteWorkload {
    /// The manifest as last applied.
    var manifest: Value
    /// `metadata.generation`: bumped on every change of the manifest.
    var generation: Int64 = 1
    /// The pods of every template still running, oldest first.
    var podSets: [PodSet]
    /// How many pod templates it was given: one more per rollout.
    var templates = 1
    /// The ModelReplica that composes it.
    var owner: XRID

    /// The pod template(s) a rollout compares: Deployment `spec.template`, LWS `spec.leaderWorkerTemplate`.
    static func template(_ manifest: Value) -> Value {
        manifest[path: "spec", "template"] ?? manifest[path: "spec", "leaderWorkerTemplate"] ?? .null
    }
}

/// One workload cluster, reached through its provider config. Objects are keyed by
/// `World.remoteKey` (the name in the default namespace, `<namespace>/<name>` elsewhere).
struct Remote {
    /// Claims by key.
    var claims: [String: Claim] = [:]
    /// Jobs by key.
    var jobs: [String: RemoteJob] = [:]
    /// Deployments and LeaderWorkerSets by key.
    var workloads: [String: RemoteWorkload] = [:]
    /// Everything else (Services, Secrets, ConfigMaps), by `Kind/key`.
    var others: [String: Value] = [:]
}
