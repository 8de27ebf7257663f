/// What the observed XR said last time: the base for judging transitions and the staged latch.
struct ObservedCacheStatus {
    /// The entry per cluster, from `status.clusters`.
    let clusters: [String: StagingEntry]
    /// The consumers each Retained entry counted.
    let consumers: [String: Int]
    /// Whether `status.clusters` had any entry.
    let hadClusters: Bool
    /// The observed `ArtifactReady` condition's status and reason.
    let artifactReady: (status: String?, reason: String?)
    /// The function input's remote namespace the status was written under (`status.remoteNamespace`,
    /// always written): an entry without a namespace has its claim there.
    let remoteNamespace: String
    /// The namespace each entry records (`status.clusters[].namespace`, as it came), read only when
    /// the status names `remoteNamespace` and counts entries that name one (`clustersElsewhere`).
    let namespaces: [String: String]
    /// Whether the status says where its claims are: it names `remoteNamespace`, and as many entries
    /// name a namespace as `status.clustersElsewhere` counts (written with every status, 0 for none). Else (a status of an older release,
    /// one an older XRD pruned, or one edited by hand) each claim's own Object is read instead.
    let recordsNamespaces: Bool

    /// Kubernetes' default namespace: the remote namespace when the input sets none.
    static let defaultNamespace = "default"

    init(_ xr: Value) {
        let entries = xr[path: "status", "clusters"]?.listValue ?? []
        var clusters: [String: StagingEntry] = [:]
        var consumers: [String: Int] = [:]
        var namespaces: [String: String] = [:]
        let recorded = xr[path: "status", "remoteNamespace"]?.stringValue
        let valid = recorded.flatMap { Rules.isDNSLabel($0) ? $0 : nil }
        // How many entries name a namespace: only then are the entries' namespaces read (the steady
        // state, every claim in the input namespace, reads one number, not a key per entry).
        let elsewhere = valid == nil ? nil : xr[path: "status", "clustersElsewhere"]?.intValue
        let readsNamespaces = (elsewhere ?? 0) > 0
        clusters.reserveCapacity(entries.count)
        for entry in entries {
            guard let name = entry["name"]?.stringValue else { continue }
            let read = StagingEntry(entry)
            clusters[name] = read
            if readsNamespaces, let namespace = entry["namespace"]?.stringValue { namespaces[name] = namespace }
            // Read only where it matters (a Retained claim's grace): one key less per cluster.
            if read.phase == .retained, let n = entry["consumers"]?.intValue, n > 0 {
                consumers[name] = Int(clamping: n)
            }
        }
        self.clusters = clusters
        self.consumers = consumers
        self.namespaces = namespaces
        self.hadClusters = !clusters.isEmpty
        let c = condition(xr, "ArtifactReady")
        self.artifactReady = (c?["status"]?.stringValue, c?["reason"]?.stringValue)
        self.remoteNamespace = valid ?? Self.defaultNamespace
        self.recordsNamespaces = elsewhere == Int64(namespaces.count)
    }
}

/// One cluster's line in `status.clusters`.
///
/// A class, immutable: the outcome filters, sorts and walks the lines several times, and a
/// reference is cheaper to copy per cluster than the strings of a struct (measured).
final class ClusterReport {
    /// The cluster's name.
    let cluster: String
    /// Its phase, message, staged identity and latched failure.
    let judged: ClusterStaging
    /// Replicas on the cluster that mount the cache.
    let consumers: Int
    /// The claim's remote namespace when it is not the function input's (a cluster's own, or
    /// the one a claim keeps): where the replicas that mount it run (`status.clusters[].namespace`).
    let namespace: String?

    /// A cluster's line.
    init(cluster: String, judged: ClusterStaging, consumers: Int, namespace: String? = nil) {
        self.cluster = cluster
        self.judged = judged
        self.consumers = consumers
        self.namespace = namespace
    }

    /// Its phase and message.
    var report: PhaseReport { judged.report }
    /// The newest completely staged identity.
    var staged: String? { judged.staged }
}

/// The phases of all clusters and what follows from them: counts, conditions, events.
struct CacheOutcome {
    /// The identity the spec asks for now.
    let source: String
    /// Every cluster's line, sorted by name (Retained ones included).
    let reports: [ClusterReport]
    /// Why the token Secret cannot be used, if so.
    let tokenProblem: String?
    /// The matched clusters: every entry except Retained ones.
    let matched: [ClusterReport]
    /// How many matched clusters are Ready.
    let readyCount: Int
    /// The matched clusters that are Failed.
    let failed: [ClusterReport]
    /// The matched clusters that are Updating.
    let updating: [ClusterReport]

    /// The outcome of `reports` (sorted by cluster name), counted once.
    init(source: String, reports: [ClusterReport], tokenProblem: String?) {
        self.source = source
        self.reports = reports
        self.tokenProblem = tokenProblem
        // Shared, not copied, when nothing is Retained (the usual case).
        let matched =
            reports.contains { $0.report.phase == .retained }
            ? reports.filter { $0.report.phase != .retained } : reports
        self.matched = matched
        self.readyCount = matched.reduce(0) { $0 + ($1.report.phase == .ready ? 1 : 0) }
        self.failed = matched.filter { $0.report.phase == .failed }
        self.updating = matched.filter { $0.report.phase == .updating }
    }

    /// `status.summary.stagedBytes` and `inFlightBytes`: the staged revisions' sizes the clusters
    /// latched from Complete reports, and the bytes the running Jobs still have to download.
    var bytes: (staged: Int64, inFlight: Int64) {
        var staged: Int64 = 0
        var inFlight: Int64 = 0
        for r in matched {
            if let b = r.judged.stagedBytes { staged = staged.addingReportingOverflow(b).overflow ? .max : staged + b }
            if let p = r.judged.progress {
                let left = p.remainingBytes
                inFlight = inFlight.addingReportingOverflow(left).overflow ? .max : inFlight + left
            }
        }
        return (staged, inFlight)
    }

    /// Whether at least one cluster matched and all matched ones are Ready.
    var allReady: Bool { !matched.isEmpty && readyCount == matched.count }

    /// `ClustersMatched` and `ArtifactReady`, first applicable rule wins (modelcache.md §6, lifecycle.md §2).
    var conditions: [Condition] {
        let n = matched.count
        let c =
            n == 0
            ? Condition(
                type: "ClustersMatched", status: .false, reason: "NoClusters",
                message: "No InferenceCluster matches spec.clusterSelector")
            : Condition(
                type: "ClustersMatched", status: .true, reason: "Matched",
                message: "Matched \(n) \(n == 1 ? "cluster" : "clusters")")
        return [c, artifactReady]
    }

    /// The `ArtifactReady` condition.
    var artifactReady: Condition {
        let n = matched.count
        func c(_ status: ConditionStatus, _ reason: String, _ message: String) -> Condition {
            Condition(type: "ArtifactReady", status: status, reason: reason, message: message)
        }
        if n == 0 { return c(.false, "NoClusters", "No InferenceCluster matches spec.clusterSelector") }
        if let tokenProblem, !allReady {
            return c(.false, "TokenSecretMissing", "\(tokenProblem): hydration waits for it")
        }
        if !failed.isEmpty { return c(.false, "Failed", "Staging failed on \(nameList(failed.map(\.cluster)))") }
        if allReady { return c(.true, "Staged", "Staged on all \(n) \(n == 1 ? "cluster" : "clusters")") }
        if !updating.isEmpty {
            return c(
                .false, "Updating",
                "Updating to \(source) on \(nameList(updating.map(\.cluster))); "
                    + "the staged revision keeps serving until the new one is complete")
        }
        if readyCount > 0 { return c(.false, "Partial", "Staged on \(readyCount) of \(n) clusters") }
        return c(.false, "Hydrating", "Staging on \(n) \(n == 1 ? "cluster" : "clusters")")
    }

    /// Events for transitions since the observed status: never repeated on a steady state.
    /// `notes` are refusals (shrink, class change) per cluster; each warns once.
    func events(repo: String, observed: ObservedCacheStatus, notes: [String: [String]]) -> [FunctionResult] {
        var out: [FunctionResult] = []
        let n = matched.count
        if !observed.hadClusters && n > 0 && !allReady {
            out.append(
                .normal(
                    "Staging \(repo) to \(n) \(n == 1 ? "cluster" : "clusters"): \(nameList(matched.map(\.cluster)))",
                    reason: "Staging"))
        }
        var warned: [FunctionResult] = []
        out +=
            updatesStarted(observed) + revisionsSwitched(observed, warnings: &warned) + failures(repo: repo, observed)
        out += warned
        for r in reports
        where r.report.phase == .retained && observed.clusters[r.cluster]?.phase != .retained {
            out.append(.normal(r.report.message ?? "Keeping the cache on \(r.cluster)", reason: "Retained"))
        }
        for cluster in notes.keys.sorted() {
            let before = observed.clusters[cluster]?.message ?? ""
            // A message cut to its status bound may have lost the note: the same message again is no news.
            let now = reports.first { $0.cluster == cluster }?.report.message.map(statusMessage)
            guard now != before else { continue }
            for note in notes[cluster]! where !before.contains(note) {
                out.append(.warning(note, reason: "ClaimUnchanged"))
            }
        }
        if let tokenProblem, !allReady, n > 0, observed.artifactReady.reason != "TokenSecretMissing" {
            out.append(.warning(tokenProblem, reason: "TokenSecretMissing"))
        }
        if allReady && observed.artifactReady.status != "True" {
            out.append(.normal("Artifact staged on all \(n) \(n == 1 ? "cluster" : "clusters")", reason: "Staged"))
        }
        return out
    }

    /// An update starts where an older revision is staged and the source just
    /// changed: one event per revision updated from.
    private func updatesStarted(_ observed: ObservedCacheStatus) -> [FunctionResult] {
        var starts: [String: [String]] = [:]
        for r in matched {
            if let staged = r.staged, r.report.phase != .ready, observed.clusters[r.cluster]?.source != source,
                r.report.phase != .failed
            {
                starts[staged, default: []].append(r.cluster)
            }
        }
        return starts.keys.sorted().map { old in
            let names = starts[old]!
            return .normal(
                "Updating \(old) → \(source) on \(names.count) \(names.count == 1 ? "cluster" : "clusters"): "
                    + nameList(names), reason: "UpdateStarted")
        }
    }

    /// A cluster switches when its staged revision advances from an older one:
    /// one event per change. A cluster whose staged revision advanced (from an older one or
    /// none) by a Complete report with `warnings` adds one Warning naming it to `warnings`.
    private func revisionsSwitched(
        _ observed: ObservedCacheStatus, warnings: inout [FunctionResult]
    ) -> [FunctionResult] {
        var switches: [String: [String]] = [:]
        for r in reports {
            guard let now = r.staged else { continue }
            let before = observed.clusters[r.cluster]?.staged
            guard before != now else { continue }
            if let before { switches["\(before) to \(now)", default: []].append(r.cluster) }
            if let warning = r.judged.warning(cluster: r.cluster) { warnings.append(warning) }
        }
        return switches.keys.sorted().map {
            .normal("Switched \(nameList(switches[$0]!)) from \($0)", reason: "RevisionSwitched")
        }
    }

    /// One Warning for the clusters that newly failed: its own message for one cluster.
    private func failures(repo: String, _ observed: ObservedCacheStatus) -> [FunctionResult] {
        let newlyFailed = failed.filter { observed.clusters[$0.cluster]?.phase != .failed }
        if newlyFailed.count == 1, let only = newlyFailed.first {
            return [
                .warning(only.report.message ?? "Staging \(source) failed on \(only.cluster)", reason: "StagingFailed")
            ]
        }
        guard newlyFailed.count > 1 else { return [] }
        return [
            .warning(
                "Staging \(repo) failed on \(nameList(newlyFailed.map(\.cluster))): see status.clusters",
                reason: "StagingFailed")
        ]
    }
}

/// `a, b, c`, or `a, b, c and 7 more` past ten names, so events stay short on big fleets.
func nameList(_ names: [String]) -> String {
    let shown = names.prefix(10).joined(separator: ", ")
    return names.count > 10 ? "\(shown) and \(names.count - 10) more" : shown
}
