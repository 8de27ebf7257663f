/// Where a ModelDeployment's replicas go: existing ones stay through cluster
/// flaps, new ones fill eligible clusters by name (workloads.md, lifecycle.md §5).
struct Placement {
    /// A replica the deployment composed before, as Crossplane observes it.
    struct Existing: Hashable {
        /// The cluster it runs on.
        var cluster: String
        /// The ModelReplica's name (its composed resource key until it has one).
        var name: String
        /// Whether the observed ModelReplica reports `Ready=True`.
        var ready: Bool
    }

    /// A replica that leaves its cluster, and why.
    struct Departure: Hashable {
        /// The ModelReplica's name.
        var replica: String
        /// The cluster it leaves.
        var cluster: String
        /// Why, for people.
        var reason: String
    }

    /// The clusters that host a replica after this reconcile, existing ones first.
    var clusters: [String] = []
    /// Replicas that leave their cluster because of the cluster (a move).
    var moves: [Departure] = []
    /// Replicas removed because `spec.replicas` shrank.
    var removals: [Departure] = []

    /// A Normal event per replica that leaves its cluster: moves, then removals.
    var events: [FunctionResult] {
        moves.map { .normal("Replica \($0.replica) leaves \($0.cluster): \($0.reason)", reason: "ReplicaMoved") }
            + removals.map {
                .normal("Replica \($0.replica) leaves \($0.cluster): \($0.reason)", reason: "ReplicaRemoved")
            }
    }

    /// Plans placement.
    /// - Parameters:
    ///   - existing: replicas composed before.
    ///   - answer: the selected clusters, or nil when not answered yet.
    ///   - placeNew: whether every input is known and consistent (else nothing moves and nothing new is placed).
    ///   - ineligibility: why a cluster cannot host a replica, or nil when it can.
    ///   - replicas: `spec.replicas`.
    static func plan(
        existing: [Existing], answer: [ClusterView]?, placeNew: Bool,
        ineligibility: (ClusterView) -> String?, replicas: Int
    ) -> Placement {
        var p = Placement()
        let existing = existing.sorted { utf8Less($0.cluster, $1.cluster) }
        let answer = placeNew ? answer : nil
        // An input missing or inconsistent: nothing running is lost to it, nothing new is placed.
        let kept = answer.map { p.keep(existing, on: $0, ineligibility: ineligibility) } ?? existing
        // Scaling down keeps Ready replicas first, then by cluster name.
        let ordered = kept.filter(\.ready) + kept.filter { !$0.ready }
        for e in ordered.dropFirst(replicas) {
            p.removals.append(Departure(replica: e.name, cluster: e.cluster, reason: "spec.replicas is \(replicas)"))
        }
        p.clusters = ordered.prefix(replicas).map(\.cluster).sorted(by: utf8Less)
        for c in answer ?? []
        where p.clusters.count < replicas && !p.clusters.contains(c.name) && ineligibility(c) == nil {
            p.clusters.append(c.name)
        }
        return p
    }

    /// The `existing` replicas that stay on the `answer`ed clusters; the others move.
    private mutating func keep(
        _ existing: [Existing], on answer: [ClusterView], ineligibility: (ClusterView) -> String?
    ) -> [Existing] {
        var kept: [Existing] = []
        let byName = Dictionary(answer.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for e in existing {
            guard let cluster = byName[e.cluster] else {
                moves.append(
                    Departure(
                        replica: e.name, cluster: e.cluster,
                        reason:
                            "InferenceCluster \(e.cluster) is no longer selected (deleted, or no longer matching the cluster selector)"
                    ))
                continue
            }
            // A Ready replica stays whatever its cluster reports right now (flaps pass).
            if !e.ready, let why = ineligibility(cluster) {
                moves.append(
                    Departure(replica: e.name, cluster: e.cluster, reason: "the replica is not Ready and \(why)"))
                continue
            }
            kept.append(e)
        }
        return kept
    }
}
