/// The name of a composed resource in desired and observed state (Crossplane's
/// composition resource name): every key the function composes under, in one place.
///
/// A String underneath: keys are built for every cluster of every call, and a
/// wrapper of one String costs nothing over the String itself.
struct ResourceKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The key as it appears in the request and the response.
    let rawValue: String

    /// A key as it appears in the request and the response.
    init(rawValue: String) { self.rawValue = rawValue }

    /// The key itself.
    var description: String { rawValue }

    /// `prefix` followed by `name`, written into one new string (a per-cluster key is built for
    /// every cluster of every call; `+` costs about twice as much).
    @inline(__always)
    init(joining prefix: StaticString, _ name: String) {
        var name = name
        let count = prefix.utf8CodeUnitCount
        self.rawValue = name.withUTF8 { tail in
            String(unsafeUninitializedCapacity: count + tail.count) { buffer in
                guard let start = buffer.baseAddress else { return 0 }
                start.initialize(from: prefix.utf8Start, count: count)
                if let rest = tail.baseAddress { (start + count).initialize(from: rest, count: tail.count) }
                return count + tail.count
            }
        }
    }

    // MARK: ModelDeployment

    /// What every replica key starts with.
    static let replicaPrefix = "replica-"

    /// The ModelReplica a deployment places on `cluster`.
    static func replica(on cluster: String) -> ResourceKey { ResourceKey(joining: "replica-", cluster) }

    /// The cluster a replica key names (`replica-<cluster>`), or nil for any other key.
    /// Compared as characters, as the replica keys always were.
    static func cluster(ofReplica key: String) -> String? {
        guard key.hasPrefix(replicaPrefix) else { return nil }
        return String(key.dropFirst(replicaPrefix.count))
    }

    // MARK: ModelCache, per cluster

    /// What every claim key starts with.
    static let claimPrefix = "pvc-"

    /// The Object holding a ModelCache's claim on `cluster`.
    static func claim(on cluster: String) -> ResourceKey { ResourceKey(joining: "pvc-", cluster) }

    /// The Object holding a ModelCache's hydration Job on `cluster`.
    static func job(on cluster: String) -> ResourceKey { ResourceKey(joining: "hydrate-", cluster) }

    /// The Object holding a ModelCache's token copy on `cluster` (gated models only).
    static func token(on cluster: String) -> ResourceKey { ResourceKey(joining: "token-", cluster) }

    /// The Object holding the hydration report's ConfigMap on `cluster` (while a Job runs there).
    static func report(on cluster: String) -> ResourceKey { ResourceKey(joining: "report-", cluster) }

    /// The Object holding the hydration Job's ServiceAccount on `cluster` (while a Job runs there).
    static func hydrateAccount(on cluster: String) -> ResourceKey { ResourceKey(joining: "hydrate-sa-", cluster) }

    /// The Object holding the Role that lets the Job write its report on `cluster`.
    static func hydrateRole(on cluster: String) -> ResourceKey { ResourceKey(joining: "hydrate-role-", cluster) }

    /// The Object binding that Role to the Job's ServiceAccount on `cluster`.
    static func hydrateRoleBinding(on cluster: String) -> ResourceKey {
        ResourceKey(joining: "hydrate-rolebinding-", cluster)
    }

    /// The cluster a claim key names (`pvc-<cluster>`), or nil for any other key.
    /// Compared as bytes: `claim(on:)` rebuilds exactly this key.
    static func cluster(ofClaim key: String) -> String? {
        let prefix = claimPrefix.utf8
        guard key.utf8.starts(with: prefix) else { return nil }
        return String(decoding: key.utf8.dropFirst(prefix.count), as: UTF8.self)
    }

    // MARK: ModelReplica

    /// The Object holding the serving workload (Deployment or LeaderWorkerSet).
    static let workload = ResourceKey(rawValue: "workload")
    /// The Object holding the Service in front of the serving pods.
    static let service = ResourceKey(rawValue: "service")
    /// The Object holding an automatic cache's claim.
    static let automaticClaim = ResourceKey(rawValue: "cache-pvc")
    /// The Object holding an automatic cache's hydration Job.
    static let automaticJob = ResourceKey(rawValue: "cache-hydrate")
    /// The Object holding an automatic cache's report ConfigMap (while a Job runs).
    static let automaticReport = ResourceKey(rawValue: "cache-report")
    /// The Object holding an automatic cache's hydration ServiceAccount (while a Job runs).
    static let automaticAccount = ResourceKey(rawValue: "cache-hydrate-sa")
    /// The Object holding an automatic cache's hydration Role (while a Job runs).
    static let automaticRole = ResourceKey(rawValue: "cache-hydrate-role")
    /// The Object holding an automatic cache's hydration RoleBinding (while a Job runs).
    static let automaticRoleBinding = ResourceKey(rawValue: "cache-hydrate-rolebinding")
    /// The Usage of the ModelCache the pods mount.
    static let cacheUsage = ResourceKey(rawValue: "usage-modelcache")

    // MARK: InferenceCluster

    /// The ClusterProviderConfig of an Existing cluster.
    static let providerConfig = ResourceKey(rawValue: "provider-config")
}

extension Dictionary where Key == String {
    /// The entry under a composed resource key.
    subscript(key: ResourceKey) -> Value? {
        get { self[key.rawValue] }
        set { self[key.rawValue] = newValue }
    }
}
