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
    /// The label naming the newest revision directory the replica's pods mount.
    static let revisionLabel = "modelplane.ai/cache-revision"
    /// The annotation listing every revision directory the replica's pods may
    /// still mount, space-separated and sorted (lifecycle.md §7 rule 1).
    static let revisionsAnnotation = "modelplane.ai/cache-revisions"

    /// The Usage of cache `cache` by replica `replica` (both in `namespace`) on
    /// `cluster`, whose pods mount `revision` (the new template's; nil before the
    /// pods mount this cache, or for a workload that predates revisions) and may
    /// still mount every one of `revisions`.
    static func manifest(
        namespace: String, replica: String, cache: String, cluster: String,
        revision: String?, revisions: [String] = []
    ) -> Value {
        var labels: Fields = [cacheLabel: .string(labelValue(cache)), clusterLabel: .string(labelValue(cluster))]
        if let revision = revision ?? revisions.last { labels[revisionLabel] = .string(revision) }
        var metadata: Value = ["namespace": .string(namespace), "labels": .object(labels)]
        let all = Set(revisions + [revision].compactMap { $0 }).sorted()
        if !all.isEmpty { metadata["annotations"] = [revisionsAnnotation: .string(all.joined(separator: " "))] }
        return [
            "apiVersion": .string(apiVersion), "kind": .string(kind),
            "metadata": metadata,
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

    /// The most names read from one annotation: a replica's pods mount a few revisions at most.
    static let revisionsLimit = 16

    /// The revision directories an observed Usage lists (its annotation and its
    /// label), sorted. Names that are not `rev-` and 12 hex digits are ignored,
    /// and at most `revisionsLimit` names of the annotation are read (a hostile
    /// 100 KB value costs one bounded scan).
    static func revisions(of usage: Value) -> [String] {
        let listed = usage[path: "metadata", "annotations", revisionsAnnotation]?.stringValue ?? ""
        var out = Set<String>()
        if !listed.isEmpty {
            for name in listed.utf8.split(separator: UInt8(ascii: " "), maxSplits: revisionsLimit).prefix(
                revisionsLimit)
            {
                if let s = String(name), isRevisionDirectory(s) { out.insert(s) }
            }
        }
        if let label = usage[path: "metadata", "labels", revisionLabel]?.stringValue, isRevisionDirectory(label) {
            out.insert(label)
        }
        return out.sorted()
    }
}
