/// The ModelReplicas that mount a ModelCache, from their Crossplane Usages
/// (lifecycle.md §4): each Usage is labelled with the cache, the cluster and
/// the revision directory its pod template mounts, and annotated with every
/// revision its pods may still mount during a rollout (lifecycle.md §7 rule 1;
/// `CacheUsage` writes them). Pruning keeps every revision listed either way.
public struct Consumers: Sendable, Hashable {
    /// Usages per cluster label value.
    private var counts: [String: Int] = [:]
    /// Mounted revision directories per cluster label value.
    private var mounted: [String: Set<String>] = [:]
    /// All Usages of the cache.
    public private(set) var total = 0

    /// Reads the answered Usages (duplicates by namespace/name count once).
    public init(_ usages: [Resource]) {
        var seen = Set<String>()
        for usage in usages {
            let o = usage.object
            let id =
                (o[path: "metadata", "namespace"]?.stringValue ?? "") + "/"
                + (o[path: "metadata", "name"]?.stringValue ?? "")
            guard seen.insert(id).inserted || id == "/" else { continue }
            total += 1
            let labels = o[path: "metadata", "labels"]
            guard let cluster = labels?[CacheUsage.clusterLabel]?.stringValue else { continue }
            counts[cluster, default: 0] += 1
            mounted[cluster, default: []].formUnion(CacheUsage.revisions(of: o))
        }
    }

    /// How many replicas on `cluster` use the cache.
    public func count(on cluster: String) -> Int {
        counts.isEmpty ? 0 : counts[labelValue(cluster)] ?? 0
    }

    /// The revision directories replicas on `cluster` mount, sorted.
    public func revisions(on cluster: String) -> [String] {
        mounted.isEmpty ? [] : (mounted[labelValue(cluster)] ?? []).sorted()
    }

    /// `1 replica` or `3 replicas`.
    static func phrase(_ n: Int) -> String { n == 1 ? "1 replica" : "\(n) replicas" }
}
