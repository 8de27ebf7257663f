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
            if let revision = labels?[CacheUsage.revisionLabel]?.stringValue, isRevisionDirectory(revision) {
                mounted[cluster, default: []].insert(revision)
            }
            let listed = o[path: "metadata", "annotations", Self.revisionsAnnotation]?.stringValue ?? ""
            for revision in Self.revisions(listed) { mounted[cluster, default: []].insert(revision) }
        }
    }

    /// The Usage annotation listing, space-separated, every revision directory the
    /// replica's pods may mount (lifecycle.md §7 rule 1).
    public static let revisionsAnnotation = "modelplane.ai/cache-revisions"

    /// The most names read from one annotation: a replica's pods mount a few revisions at most.
    static let revisionsLimit = 16

    /// The revision directories an annotation value lists: names that are not
    /// `rev-` and 12 hex digits are ignored, and at most `revisionsLimit` names
    /// are read (a hostile 100 KB value costs one bounded scan).
    static func revisions(_ value: String) -> [String] {
        guard !value.isEmpty else { return [] }
        return value.utf8.split(separator: UInt8(ascii: " "), maxSplits: revisionsLimit).prefix(revisionsLimit)
            .compactMap { String($0).flatMap { isRevisionDirectory($0) ? $0 : nil } }
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
