/// What the observed XR said last time: the base for judging transitions.
struct ObservedCacheStatus {
    /// Phase and source per cluster, from `status.clusters`.
    let clusters: [String: (phase: String, source: String)]
    /// Whether `status.clusters` had any entry.
    let hadClusters: Bool
    /// The observed `ArtifactReady` condition's status and reason.
    let artifactReady: (status: String?, reason: String?)

    init(_ xr: Value) {
        var clusters: [String: (String, String)] = [:]
        for entry in xr[path: "status", "clusters"]?.listValue ?? [] {
            if let name = entry["name"]?.stringValue {
                clusters[name] = (entry["phase"]?.stringValue ?? "", entry["source"]?.stringValue ?? "")
            }
        }
        self.clusters = clusters
        self.hadClusters = !clusters.isEmpty
        let c = condition(xr, "ArtifactReady")
        self.artifactReady = (c?["status"]?.stringValue, c?["reason"]?.stringValue)
    }

    /// Whether `cluster` was Ready for this same source (the Ready latch).
    func wasReady(_ cluster: String, source: String) -> Bool {
        guard let c = clusters[cluster] else { return false }
        return c.phase == CachePhase.ready.rawValue && c.source == source
    }
}

/// The phases of all matched clusters and what follows from them: counts, conditions, events.
struct CacheOutcome {
    let reports: [(cluster: String, report: PhaseReport)]
    let tokenProblem: String?

    var readyCount: Int { reports.filter { $0.report.phase == .ready }.count }
    var allReady: Bool { !reports.isEmpty && readyCount == reports.count }
    var failed: [(cluster: String, report: PhaseReport)] { reports.filter { $0.report.phase == .failed } }

    /// `ClustersMatched` and `ArtifactReady`, first applicable rule wins (modelcache.md §6).
    var conditions: [Condition] {
        let n = reports.count
        let matched = n == 0
            ? Condition(type: "ClustersMatched", status: .false, reason: "NoClusters",
                        message: "No InferenceCluster matches spec.clusterSelector")
            : Condition(type: "ClustersMatched", status: .true, reason: "Matched",
                        message: "Matched \(n) \(n == 1 ? "cluster" : "clusters")")
        return [matched, artifactReady]
    }

    var artifactReady: Condition {
        let n = reports.count
        func c(_ status: ConditionStatus, _ reason: String, _ message: String) -> Condition {
            Condition(type: "ArtifactReady", status: status, reason: reason, message: message)
        }
        if n == 0 { return c(.false, "NoClusters", "No InferenceCluster matches spec.clusterSelector") }
        if let tokenProblem, !allReady {
            return c(.false, "TokenSecretMissing", "\(tokenProblem): hydration waits for it")
        }
        if !failed.isEmpty { return c(.false, "Failed", "Staging failed on \(nameList(failed.map(\.cluster)))") }
        if allReady { return c(.true, "Staged", "Staged on all \(n) \(n == 1 ? "cluster" : "clusters")") }
        if readyCount > 0 { return c(.false, "Partial", "Staged on \(readyCount) of \(n) clusters") }
        return c(.false, "Hydrating", "Staging on \(n) \(n == 1 ? "cluster" : "clusters")")
    }

    /// Events for transitions since the observed status: never repeated on a steady state.
    func events(repo: String, observed: ObservedCacheStatus) -> [FunctionResult] {
        var out: [FunctionResult] = []
        let n = reports.count
        if !observed.hadClusters && n > 0 && !allReady {
            out.append(.normal("Staging \(repo) to \(n) \(n == 1 ? "cluster" : "clusters"): \(nameList(reports.map(\.cluster)))",
                               reason: "Staging"))
        }
        let newlyFailed = failed.filter { observed.clusters[$0.cluster]?.phase != CachePhase.failed.rawValue }
        if newlyFailed.count == 1, let only = newlyFailed.first {
            out.append(.warning(only.report.message ?? "Staging failed on \(only.cluster)", reason: "StagingFailed"))
        } else if newlyFailed.count > 1 {
            out.append(.warning("Staging \(repo) failed on \(nameList(newlyFailed.map(\.cluster))): see status.clusters",
                                reason: "StagingFailed"))
        }
        if let tokenProblem, !allReady, n > 0, observed.artifactReady.reason != "TokenSecretMissing" {
            out.append(.warning(tokenProblem, reason: "TokenSecretMissing"))
        }
        if allReady && observed.artifactReady.status != "True" {
            out.append(.normal("Artifact staged on all \(n) \(n == 1 ? "cluster" : "clusters")", reason: "Staged"))
        }
        return out
    }
}

/// `a, b, c`, or `a, b, c and 7 more` past ten names, so events stay short on big fleets.
func nameList(_ names: [String]) -> String {
    let shown = names.prefix(10).joined(separator: ", ")
    return names.count > 10 ? "\(shown) and \(names.count - 10) more" : shown
}
