/// The clusters a ModelDeployment may use: its own selector merged with its
/// ModelCache's, and the keys on which the two disagree.
struct ClusterSelection {
    /// `spec.clusterSelector.matchLabels`.
    let own: [String: String]
    /// The cache's `spec.clusterSelector.matchLabels`; empty without a cache.
    let cache: [String: String]
    /// Both selectors merged, the cache's value only where ours has none.
    let merged: [String: String]
    /// Every key the two select different values for, in UTF-8 order, so the
    /// message never depends on hash order.
    let conflicts: [String]

    /// How many conflicting keys a message names.
    static let conflictsShown = 5

    /// Merges `own` with the selector of `cache`, if any.
    init(own: [String: String], cache: ModelCacheView?) {
        var merged = own
        var conflicts: [String] = []
        let theirs = cache?.matchLabels ?? [:]
        for k in theirs.keys.sorted(by: utf8Less) {
            let value = theirs[k]!
            if let mine = merged[k], mine != value { conflicts.append(k) } else { merged[k] = value }
        }
        self.own = own
        self.cache = theirs
        self.merged = merged
        self.conflicts = conflicts
    }

    /// The labels to ask for: both selectors merged, or ours alone when they conflict.
    var labels: [String: String] { conflicts.isEmpty ? merged : own }

    /// Why no cluster can be selected: the first few conflicting keys in UTF-8
    /// order (the message stays bounded), and how many more.
    func conflictMessage(cacheName: String) -> String {
        let pairs = conflicts.prefix(Self.conflictsShown).map { k in
            "label \(quote(k)) (\(quote(own[k] ?? "")) and \(quote(cache[k] ?? "")))"
        }
        let more = conflicts.count > Self.conflictsShown ? " and \(conflicts.count - Self.conflictsShown) more" : ""
        return "spec.clusterSelector and ModelCache \(cacheName) select different values for "
            + pairs.joined(separator: ", ") + more + ": no cluster can satisfy both"
    }
}
