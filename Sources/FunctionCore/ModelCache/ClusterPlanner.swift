/// Judges each cluster of one ModelCache: where the cache goes, which hydration
/// Job runs there and the phase; and what happens to claims on clusters that
/// are no longer matched (lifecycle.md §2–§4).
struct ClusterPlanner {
    /// The validated spec.
    let spec: ModelCacheSpec
    /// Names and manifests shared by every cluster.
    let staging: CacheStaging
    /// What the XR's status said last time.
    let observed: ObservedCacheStatus
    /// The replicas that mount the cache.
    let consumers: Consumers
    /// The request, for observed composed resources.
    let request: RunRequest
    /// Attempt labels by claim size: a digest each, computed once per size, not per cluster.
    let attempts = Memo<Int64, String>()
    /// New Job names by the revision staged and the Job replaced: the same on
    /// every cluster in the same state, so hashed once per state, not per cluster.
    let jobNames = Memo<JobNameInputs, String>()

    /// What a new Job's name depends on besides the spec (`CacheStaging.newJobName`),
    /// compared as bytes, as the digest reads them.
    struct JobNameInputs: Hashable {
        let staged: UTF8Key?
        let replacing: UTF8Key?

        init(staged: String?, replacing: String?) {
            self.staged = staged.map(UTF8Key.init)
            self.replacing = replacing.map(UTF8Key.init)
        }
    }

    /// Where on a cluster the cache goes: its provider config and claim.
    struct Target {
        /// The provider config that reaches the cluster.
        let providerConfig: String
        /// The claim's class and size.
        let sizing: ClaimSizing
    }

    /// One cluster's phase and, when anything can be composed there, its target.
    /// A class: the composer passes each plan around several times, and a
    /// reference is cheaper to pass than a dozen strings (a struct measured
    /// 0.5 M instructions more per 1,000-cluster call).
    final class Plan {
        /// The cluster's name.
        let cluster: String
        /// Its phase and message.
        let report: PhaseReport
        /// The staged identity after this reconcile.
        let staged: String?
        /// nil when nothing can be composed on the cluster.
        let target: Target?
        /// The Job the cluster runs while it needs one (nil when Ready or nothing can be composed).
        let job: HydrationJob?
        /// Whether that Job is already observed (running or finished).
        let jobObserved: Bool
        /// The key of the claim Object on this cluster.
        let claimKey: ResourceKey
        /// The key of the hydration Job Object on this cluster.
        let jobKey: ResourceKey
        /// The existing claim, kept as it is, on a cluster that cannot be composed now.
        let keptClaim: Resource?
        /// Whether an existing claim leaves desired state (nobody uses it).
        let releasesClaim: Bool
        /// Whether the cluster still needs its hydration Job.
        var needsJob: Bool { target != nil && report.phase != .ready }

        init(
            cluster: String, report: PhaseReport, staged: String?, target: Target?, job: HydrationJob?,
            jobObserved: Bool, claimKey: ResourceKey, jobKey: ResourceKey, keptClaim: Resource?, releasesClaim: Bool
        ) {
            self.cluster = cluster
            self.report = report
            self.staged = staged
            self.target = target
            self.job = job
            self.jobObserved = jobObserved
            self.claimKey = claimKey
            self.jobKey = jobKey
            self.keptClaim = keptClaim
            self.releasesClaim = releasesClaim
        }
    }

    /// Judges one answered cluster.
    func plan(_ cluster: ClusterView) -> Plan {
        let (claimKey, jobKey) = (ResourceKey.claim(on: cluster.name), ResourceKey.job(on: cluster.name))
        let previous = observed.clusters[cluster.name]
        guard let providerConfig = cluster.providerConfig, let rwx = cluster.rwxCache else {
            return unreachable(cluster, previous: previous, claimKey: claimKey, jobKey: jobKey)
        }
        let claim = request.observed.resources[claimKey]
        let sizing = ClaimSizing(
            cluster: cluster.name, claimName: staging.claimName, storageClass: rwx.storageClassName,
            sizeGiB: spec.sizeGiB ?? rwx.defaultSizeGiB, observed: claim)
        let attempt = attempts.value(sizing.sizeGiB, with: staging) { $0.attempt(sizeGiB: $1) }
        let observedJob = ObservedJob.Identity(request.observed.resources[jobKey])
        let current = staging.adopt(observedJob, attempt: attempt)
        let judged = staging.judge(
            cluster: cluster.name, claim: claim, current: current, previous: previous, hints: .modelCache)
        // A Ready cluster runs no Job: its name and pruning list are worked out only when one is needed.
        let job =
            judged.report.phase == .ready
            ? nil
            : self.job(
                on: cluster.name, current: current, replacing: observedJob?.name, previous: previous,
                attempt: attempt)
        return Plan(
            cluster: cluster.name, report: judged.report, staged: judged.staged,
            target: Target(providerConfig: providerConfig, sizing: sizing), job: job,
            jobObserved: current != nil, claimKey: claimKey, jobKey: jobKey, keptClaim: nil, releasesClaim: false)
    }

    /// The plan of a cluster nothing can be composed on (no provider config, or
    /// no usable ReadWriteMany storage): an existing claim is kept as it is
    /// while the provider config blinks out, or while replicas use it.
    private func unreachable(
        _ cluster: ClusterView, previous: PreviousStaging?, claimKey: ResourceKey, jobKey: ResourceKey
    ) -> Plan {
        func plan(_ report: PhaseReport, staged: String? = nil, kept: Resource? = nil, releases: Bool = false) -> Plan {
            Plan(
                cluster: cluster.name, report: report, staged: staged, target: nil, job: nil, jobObserved: false,
                claimKey: claimKey, jobKey: jobKey, keptClaim: kept, releasesClaim: releases)
        }
        guard cluster.providerConfig != nil else {
            let waiting = "Waiting for InferenceCluster \(cluster.name) to report status.providerConfigRef.name"
            // A provider config that blinks out must not delete a staged cache: keep the claim as it is.
            if let kept = keptClaim(cluster.name) {
                return plan(
                    PhaseReport(.pending, "\(waiting); claim \(staging.claimName) is kept as it is"),
                    staged: previous?.staged, kept: kept)
            }
            return plan(PhaseReport(.pending, waiting))
        }
        let why = cluster.rwxProblem ?? "InferenceCluster \(cluster.name) declares no spec.storage.rwxCache"
        if let retained = retain(cluster.name, why: why) {
            return plan(retained.report.report, staged: retained.report.staged, kept: retained.claim)
        }
        return plan(
            PhaseReport(.failed, "Cannot stage \(spec.repo) on \(cluster.name): \(why)"),
            releases: request.observed.resources[claimKey] != nil)
    }

    /// The Job a cluster that is not Ready runs: the `current` (adopted) one, or
    /// a new one replacing the observed Job named `replacing`. Pruning keeps
    /// the staged revision and every revision a consumer mounts.
    // Inlined, as `HydrationWaves.admit`: both run per cluster, and as calls they
    // measured 0.14 M instructions more per call on none-n1000 and hydrating-n1000.
    @inline(__always)
    private func job(
        on cluster: String, current: ObservedJob?, replacing: String?, previous: PreviousStaging?, attempt: String
    ) -> HydrationJob {
        let own = staging.directory
        let keep = Set(
            ([previous?.staged.map(staging.directory(of:))].compactMap { $0 } + consumers.revisions(on: cluster))
                .filter { $0 != own }
        ).sorted()
        if let current { return staging.job(adopted: current, keep: keep, attempt: attempt) }
        let name = jobNames.value(JobNameInputs(staged: previous?.staged, replacing: replacing), with: staging) {
            $0.newJobName(staged: $1.staged?.string, replacing: $1.replacing?.string)
        }
        return staging.newJob(named: name, keep: keep, attempt: attempt)
    }

    /// Clusters whose claim Object is observed but that are not in the `clusters` answer, sorted.
    /// Only Objects holding this cache's claim count (another step may use a `pvc-` key).
    func unmatchedClaims(answered: Set<String>) -> [String] {
        var unmatched: [String] = []
        for key in request.observed.resources.keys {
            guard let cluster = ResourceKey.cluster(ofClaim: key) else { continue }
            // Answered clusters first: reading the claim's name is the costlier test.
            if !answered.contains(cluster), isOurClaim(request.observed.resources[key]) { unmatched.append(cluster) }
        }
        return unmatched.sorted(by: utf8Less)
    }

    /// Whether an observed Object holds this cache's claim.
    func isOurClaim(_ object: Resource?) -> Bool {
        object?.object[path: "spec", "forProvider", "manifest", "metadata", "name"]?.stringValue == staging.claimName
    }

    /// The kept claim and Retained report for a cluster that can no longer be
    /// staged on, when replicas there still use the cache; nil otherwise.
    func retain(_ cluster: String, why: String) -> (claim: Resource, report: ClusterReport)? {
        let n = consumers.count(on: cluster)
        guard n > 0, let claim = keptClaim(cluster) else { return nil }
        let message =
            "\(why); keeping claim \(staging.claimName) on \(cluster) while \(Consumers.phrase(n)) "
            + "\(n == 1 ? "uses" : "use") it"
        return (
            claim,
            ClusterReport(
                cluster: cluster, report: PhaseReport(.retained, message),
                staged: observed.clusters[cluster]?.staged, consumers: n)
        )
    }

    /// The observed claim Object rebuilt as it was sent last time, on the provider
    /// config recorded in it; nil when there is none.
    func keptClaim(_ cluster: String) -> Resource? {
        let observedClaim = request.observed.resources[ResourceKey.claim(on: cluster)]
        guard isOurClaim(observedClaim), let object = observedClaim?.object,
            let providerConfig = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
            let manifest = object[path: "spec", "forProvider", "manifest"]
        else { return nil }
        return Resource(
            object: staging.claimObject(providerConfig: providerConfig, claim: manifest),
            ready: ProviderObject.isReady(observedClaim) ? .ready : .notReady)
    }
}
