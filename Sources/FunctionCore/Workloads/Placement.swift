/// Where a ModelDeployment's replicas go: existing ones stay through cluster
/// flaps, new ones fill eligible clusters by name, and a Ready replica whose
/// cluster left the selection moves make-before-break (workloads.md,
/// lifecycle.md §5 and §7 rule 4).
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

    /// A Ready replica whose cluster left the selection, kept serving until a
    /// replacement is Ready (lifecycle.md §7 rule 4).
    struct Move: Hashable {
        /// The replica that moves, where it still serves, and why it moves.
        var from: Departure
        /// The cluster of its replacement (not Ready yet), or nil when no cluster is eligible for one.
        var to: String?
        /// Whether the replacement was placed by this reconcile.
        var placedNow: Bool
    }

    /// The clusters that host a replica of the target placement (at most
    /// `spec.replicas`), existing ones first.
    var clusters: [String] = []
    /// Ready replicas kept on clusters that left the selection while their replacements start.
    var moving: [Move] = []
    /// Replicas that leave their cluster at once because of the cluster (not Ready: a move as before).
    var moves: [Departure] = []
    /// Ready replicas that leave a deselected cluster because enough replacements are Ready.
    var relieved: [Departure] = []
    /// Replicas removed because `spec.replicas` shrank.
    var removals: [Departure] = []

    /// Every cluster to compose a replica on: the target placement, then the moving replicas' clusters.
    var composed: [String] { clusters + moving.map(\.from.cluster) }

    /// The moving replicas for which no cluster is eligible to take a replacement.
    var stranded: [Move] { moving.filter { $0.to == nil } }

    /// A Normal event per replica that leaves its cluster or starts moving:
    /// immediate moves, replacements placed, replicas relieved, then removals.
    var events: [FunctionResult] {
        let leaves = { (d: Departure) in "Replica \(echo(d.replica)) leaves \(echo(d.cluster)): \(d.reason)" }
        let started = moving.compactMap { m in
            m.to.flatMap { to in
                m.placedNow
                    ? FunctionResult.normal(
                        "Replica \(echo(m.from.replica)) moves from \(echo(m.from.cluster)) to \(to): \(m.from.reason); "
                            + "it keeps serving on \(echo(m.from.cluster)) until its replacement is Ready",
                        reason: "ReplicaMoved") : nil
            }
        }
        return moves.map { .normal(leaves($0), reason: "ReplicaMoved") } + started
            + (relieved + removals).map { .normal(leaves($0), reason: "ReplicaRemoved") }
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
        // 1. An input missing or inconsistent: nothing running is lost to it, nothing new is placed.
        var leaving: [Departure] = []
        let kept = answer.map { p.keep(existing, on: $0, ineligibility: ineligibility, leaving: &leaving) } ?? existing
        // 2. Scaling down keeps Ready replicas first, then by cluster name.
        let ordered = kept.filter(\.ready) + kept.filter { !$0.ready }
        for e in ordered.dropFirst(replicas) {
            p.removals.append(Departure(replica: e.name, cluster: e.cluster, reason: "spec.replicas is \(replicas)"))
        }
        let settled = Array(ordered.prefix(replicas))
        p.clusters = settled.map(\.cluster).sorted(by: utf8Less)
        // 3. New replicas fill eligible clusters by name (replacements among them).
        var placedNow: [String] = []
        for c in answer ?? []
        where p.clusters.count < replicas && !p.clusters.contains(c.name) && ineligibility(c) == nil {
            p.clusters.append(c.name)
            placedNow.append(c.name)
        }
        // 4. Ready replicas off the selection stay until enough replacements are Ready (make-before-break).
        let starting = placedNow + settled.filter { !$0.ready }.map(\.cluster)
        p.settle(
            leaving, readyPlaced: settled.filter(\.ready).count, starting: starting, placedNow: placedNow,
            replicas: replicas)
        return p
    }

    /// Keeps as many `leaving` Ready replicas as Ready capacity needs (pairing
    /// each with a `starting` replacement, if any); relieves the others.
    private mutating func settle(
        _ leaving: [Departure], readyPlaced: Int, starting: [String], placedNow: [String], replicas: Int
    ) {
        let keep = min(leaving.count, max(0, replicas - readyPlaced))
        for (i, d) in leaving.enumerated() {
            guard i < keep else {
                relieved.append(
                    Departure(
                        replica: d.replica, cluster: d.cluster,
                        reason: "\(d.reason); the replicas placed elsewhere are Ready"))
                continue
            }
            let to = i < starting.count ? starting[i] : nil
            moving.append(Move(from: d, to: to, placedNow: to.map(placedNow.contains) ?? false))
        }
    }

    /// The `existing` replicas that stay on the `answer`ed clusters; the others
    /// move: at once when not Ready, into `leaving` when Ready (their cluster left the answer).
    private mutating func keep(
        _ existing: [Existing], on answer: [ClusterView], ineligibility: (ClusterView) -> String?,
        leaving: inout [Departure]
    ) -> [Existing] {
        var kept: [Existing] = []
        let byName = Dictionary(answer.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for e in existing {
            guard let cluster = byName[e.cluster] else {
                let gone = Departure(
                    replica: e.name, cluster: e.cluster,
                    reason:
                        "InferenceCluster \(echo(e.cluster)) is no longer selected (deleted, or no longer matching the cluster selector)"
                )
                if e.ready { leaving.append(gone) } else { moves.append(gone) }
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
