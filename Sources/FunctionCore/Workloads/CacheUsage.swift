/// The Crossplane Usage a ModelReplica composes of the ModelCache its pods
/// mount (lifecycle.md §4): Crossplane then refuses to delete the cache while
/// the replica exists, and replays the deletion once the last user is gone.
/// A control-plane resource, next to the replica (not wrapped in an Object).
enum CacheUsage {
    /// The Usage kind's apiVersion.
    static let apiVersion = "protection.crossplane.io/v1beta1"
    /// The Usage kind.
    static let kind = "Usage"
    /// The label naming the cache (the ModelCache's `consumers` requirement matches it).
    static let cacheLabel = "modelplane.ai/modelcache"
    /// The label naming the cluster the replica runs on.
    static let clusterLabel = "modelplane.ai/cluster"
    /// The label naming the revision directory the replica's pods mount.
    static let revisionLabel = "modelplane.ai/cache-revision"

    /// The Usage of cache `cache` by replica `replica` (both in `namespace`) on
    /// `cluster`, whose pods mount `revision` (nil only for a workload that
    /// predates revisions, which mounts the whole claim).
    static func manifest(
        namespace: String, replica: String, cache: String, cluster: String,
        revision: String?
    ) -> Value {
        var labels: Fields = [cacheLabel: .string(labelValue(cache)), clusterLabel: .string(labelValue(cluster))]
        if let revision { labels[revisionLabel] = .string(revision) }
        return [
            "apiVersion": .string(apiVersion), "kind": .string(kind),
            "metadata": ["namespace": .string(namespace), "labels": .object(labels)],
            "spec": [
                "of": [
                    "apiVersion": .string(Composer.apiVersion), "kind": .string(ModelCacheComposer.kind),
                    "resourceRef": ["name": .string(cache)],
                ],
                "by": [
                    "apiVersion": .string(Composer.apiVersion), "kind": .string(ModelReplicaComposer.kind),
                    "resourceRef": ["name": .string(replica)],
                ],
                "replayDeletion": true,
            ],
        ]
    }
}
