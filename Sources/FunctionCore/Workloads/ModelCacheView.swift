/// What the function reads of an observed ModelCache (for deployments and replicas).
public struct ModelCacheView: Sendable, Hashable {
    /// One entry of `status.clusters`.
    public struct ClusterEntry: Sendable, Hashable {
        /// The cluster's phase (`Pending`, `Hydrating`, `Updating`, `Ready`, `Failed`, `Retained`).
        public var phase: String
        /// The identity of the newest revision completely staged there, if any
        /// (lifecycle.md §2): what workloads on that cluster mount.
        public var staged: String?
        /// The cluster's message, if any.
        public var message: String?
    }

    /// The cache's name.
    public var name: String
    /// `spec.mount.path`, when valid.
    public var mountPath: String?
    /// `spec.clusterSelector.matchLabels` (string values only).
    public var matchLabels: [String: String]
    /// `status.clusters`, by cluster name.
    public var clusters: [String: ClusterEntry]

    /// Whether the cache reports `status.clusters` (a list, possibly empty): without
    /// it (not composed yet, or the status was lost) no cluster's phase is known.
    public var reportsClusters: Bool

    /// Phase per cluster from `status.clusters`.
    public var phases: [String: String] { clusters.mapValues(\.phase) }

    /// Reads an observed ModelCache.
    public init(_ object: Value) {
        name = object[path: "metadata", "name"]?.stringValue ?? ""
        let path = object[path: "spec", "mount", "path"]?.stringValue
        mountPath = path.flatMap { MountPath.problem($0) == nil ? $0 : nil }
        var labels: [String: String] = [:]
        for (k, v) in object[path: "spec", "clusterSelector", "matchLabels"]?.objectValue ?? [:] {
            if let s = v.stringValue { labels[k] = s }
        }
        matchLabels = labels
        var clusters: [String: ClusterEntry] = [:]
        let entries = object[path: "status", "clusters"]?.listValue
        reportsClusters = entries != nil
        for entry in entries ?? [] {
            guard let n = entry["name"]?.stringValue else { continue }
            let staged = entry["staged"]?.stringValue
            clusters[n] = ClusterEntry(
                phase: entry["phase"]?.stringValue ?? "",
                staged: (staged?.isEmpty ?? true) ? nil : staged,
                message: entry["message"]?.stringValue)
        }
        self.clusters = clusters
    }
}
