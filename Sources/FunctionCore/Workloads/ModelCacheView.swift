/// What the function reads of an observed ModelCache (for deployments and replicas).
public struct ModelCacheView: Sendable, Hashable {
    /// One entry of `status.clusters`: the one staging status entry type, read in one place.
    public typealias ClusterEntry = StagingEntry

    /// The cache's name.
    public var name: String
    /// `spec.mount.path`, when valid.
    public var mountPath: String?
    /// `spec.mount.loader`, when valid (a garbled one reads as none).
    public var loader: LoaderSpec?
    /// `spec.clusterSelector.matchLabels` (string values only).
    public var matchLabels: [String: String]
    /// `spec.artifact.source.volume`, when that is the kind and valid: the pods mount its claim.
    public var volume: VolumeSource?
    /// `status.clusters`, by cluster name.
    public var clusters: [String: ClusterEntry]
    /// The claim's remote namespace per cluster, where `status.clusters[].namespace` names one
    /// (it is written only when not the function input's, hydrator.md §5).
    public var namespaces: [String: String]
    /// `status.remoteNamespace`: the function input's remote namespace the cache's status was
    /// written under (a claim whose entry names no namespace is there); nil when the status does
    /// not say (`default` then, or a status of an earlier release, which did not write it).
    public var remoteNamespace: String?

    /// Whether the cache reports `status.clusters` (a list, possibly empty): without
    /// it (not composed yet, or the status was lost) no cluster's phase is known.
    public var reportsClusters: Bool

    /// Phase per cluster from `status.clusters` (entries without a known phase left out).
    public var phases: [String: CachePhase] { clusters.compactMapValues(\.phase) }

    /// Reads an observed ModelCache.
    public init(_ object: Value) {
        name = object[path: "metadata", "name"]?.stringValue ?? ""
        let path = object[path: "spec", "mount", "path"]?.stringValue
        mountPath = path.flatMap { MountPath.problem($0) == nil ? $0 : nil }
        loader = LoaderSpec(readBack: object[path: "spec", "mount", "loader"])
        var labels: [String: String] = [:]
        for (k, v) in object[path: "spec", "clusterSelector", "matchLabels"]?.objectValue ?? [:] {
            if let s = v.stringValue { labels[k] = s }
        }
        matchLabels = labels
        var v = Validator()
        volume = object[path: "spec", "artifact", "source", "volume"].flatMap {
            $0.objectValue == nil ? nil : VolumeSource.parse($0, "spec.artifact.source.volume", &v)
        }
        var clusters: [String: ClusterEntry] = [:]
        var namespaces: [String: String] = [:]
        let entries = object[path: "status", "clusters"]?.listValue
        reportsClusters = entries != nil
        for entry in entries ?? [] {
            guard let n = entry["name"]?.stringValue else { continue }
            clusters[n] = StagingEntry(entry)
            // Read back from status: only a namespace this function could have written (rule 8).
            if let ns = entry["namespace"]?.stringValue, Rules.isDNSLabel(ns) { namespaces[n] = ns }
        }
        self.clusters = clusters
        self.namespaces = namespaces
        self.remoteNamespace = object[path: "status", "remoteNamespace"]?.stringValue.flatMap {
            Rules.isDNSLabel($0) ? $0 : nil
        }
    }
}
