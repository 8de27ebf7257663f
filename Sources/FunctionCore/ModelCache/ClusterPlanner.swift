/// Judges each cluster of one ModelCache: where the cache goes, which hydration
/// Job runs there and the phase; and what happens to claims on clusters that
/// are no longer matched (lifecycle.md §2–§4).
struct ClusterPlanner {
    /// The validated spec.
    let spec: ModelCacheSpec
    /// What the XR's status said last time.
    let observed: ObservedCacheStatus
    /// The replicas that mount the cache.
    let consumers: Consumers
    /// The request, for observed composed resources.
    let request: RunRequest
    /// The one staging lifecycle, per cluster.
    let stager: ClusterStager
    /// Names and manifests shared by every cluster.
    var staging: CacheStaging { stager.staging }
    /// Whether, as far as the observed status says, every listed claim is in the function input's
    /// remote namespace: no entry names a namespace, and the status was written under this input.
    let inputNamespaceOnly: Bool

    /// A planner of `spec` against the `observed` status, for `consumers`, staging through `stager`.
    init(
        spec: ModelCacheSpec, observed: ObservedCacheStatus, consumers: Consumers, request: RunRequest,
        stager: ClusterStager
    ) {
        self.spec = spec
        self.observed = observed
        self.consumers = consumers
        self.request = request
        self.stager = stager
        self.inputNamespaceOnly =
            observed.recordsNamespaces && observed.namespaces.isEmpty
            && observed.remoteNamespace == stager.staging.remoteNamespace
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
        /// Its phase, message, staged identity and latched failure; nil when the cluster
        /// is not listed (released on purpose: not matched, lifecycle.md §7 rule 7).
        let judged: ClusterStaging?
        /// nil when nothing can be composed on the cluster.
        let target: Target?
        /// The Job the cluster runs while it needs one (nil when Ready, Failed or nothing can be composed).
        let job: HydrationJob?
        /// Whether that Job is already observed (running or finished).
        let jobObserved: Bool
        /// Whether that Job is one of the previous release (it writes no report, so no report objects).
        var legacyJob = false
        /// The key of the claim Object on this cluster.
        let claimKey: ResourceKey
        /// The key of the hydration Job Object on this cluster.
        let jobKey: ResourceKey
        /// The existing claim, kept as it is, on a cluster that cannot be composed now.
        let keptClaim: Resource?
        /// Whether an existing claim leaves desired state (nobody uses it).
        let releasesClaim: Bool
        /// The remote namespace of the claim and all that goes with it when it is not the function
        /// input's (`ClaimSizing.Placement.namespace`).
        var namespace: String?
        /// Whether the cluster still needs its hydration Job (a target and a Job). Stored: it is asked
        /// several times per cluster, and reading `target` or `job` copies them out of the plan.
        let needsJob: Bool

        init(
            cluster: String, judged: ClusterStaging?, target: Target?, job: HydrationJob?,
            jobObserved: Bool, claimKey: ResourceKey, jobKey: ResourceKey, keptClaim: Resource?, releasesClaim: Bool
        ) {
            self.cluster = cluster
            self.judged = judged
            self.target = target
            self.job = job
            self.jobObserved = jobObserved
            self.claimKey = claimKey
            self.jobKey = jobKey
            self.keptClaim = keptClaim
            self.releasesClaim = releasesClaim
            self.needsJob = target != nil && job != nil
        }
    }

    /// Judges one answered cluster through the one staging lifecycle; pruning keeps
    /// the staged revision and every revision a consumer on the cluster lists. The claim goes
    /// to the cluster's own remote namespace, if it has one (hydrator.md §5); an existing
    /// claim stays where it is.
    func plan(_ cluster: ClusterView) -> Plan {
        let (claimKey, jobKey) = (ResourceKey.claim(on: cluster.name), ResourceKey.job(on: cluster.name))
        let previous = observed.clusters[cluster.name]
        // A volume source's claim is someone else's: it needs no rwxCache, and no size of ours applies.
        let volume = staging.volume != nil
        guard let providerConfig = cluster.providerConfig, let rwx = volume ? Self.noStorage : cluster.rwxCache else {
            return unreachable(cluster, previous: previous, claimKey: claimKey, jobKey: jobKey)
        }
        let claim = request.observed.resources[claimKey]
        // The steady state, a Ready cluster whose claim is in the function input's namespace, the one
        // its status was written under (its entry names none), reads and passes nothing more.
        let placed =
            claim != nil && previous?.phase == .ready && inputNamespaceOnly
            ? nil : place(cluster, claim: claim, previous: previous, claimKey: claimKey, jobKey: jobKey)
        if let held = placed?.held { return held }
        let stage = stager.stage(
            cluster: cluster.name, storageClass: rwx.storageClassName,
            sizeGiB: volume ? 0 : spec.sizeGiB ?? rwx.defaultSizeGiB, placement: placed?.placement,
            claim: consume claim, job: request.observed.resources[jobKey],
            report: request.observed.resources[ResourceKey.report(on: cluster.name)], previous: previous,
            hydration: {
                guard let placed else { return cluster.hydration }
                return placed.hydration(of: cluster)
            },
            keep: { consumers.revisions(on: cluster.name) })
        let plan = Plan(
            cluster: cluster.name, judged: stage.judged,
            target: Target(providerConfig: providerConfig, sizing: stage.sizing), job: stage.job,
            jobObserved: stage.jobObserved, claimKey: claimKey, jobKey: jobKey, keptClaim: nil, releasesClaim: false)
        plan.legacyJob = stage.legacyJob
        if let placed { plan.namespace = placed.placement?.namespace }
        return plan
    }

    /// Where the claim on a cluster goes and what of its own settings was read for it.
    struct Placed {
        /// The claim's placement; nil: in the function input's namespace, where it is.
        let placement: ClaimSizing.Placement?
        /// Whether the cluster's own hydration settings were read (`hydration`).
        let reads: Bool
        /// The cluster's own hydration settings, when read.
        let hydration: ClusterHydration?
        /// The plan of a cluster whose own namespace is invalid and that has no claim yet.
        let held: Plan?

        /// The cluster's own hydration settings: as read, or read now.
        func hydration(of cluster: ClusterView) -> ClusterHydration? { reads ? hydration : cluster.hydration }
    }

    /// Where the claim on `cluster` goes, for a cluster with a new claim, not Ready last time, or whose
    /// claim may be outside the function input's namespace: its own settings (read unless it was Ready
    /// with a claim) place a new claim and note a kept one; a Ready cluster reads them only when it needs
    /// a Job, and its wanted namespace is taken to be the kept one (nothing to note). An existing claim
    /// stays where it is; a cluster whose own namespace is invalid gets no claim (`held`).
    @inline(never)
    private func place(
        _ cluster: ClusterView, claim: Resource?, previous: StagingEntry?, claimKey: ResourceKey,
        jobKey: ResourceKey
    ) -> Placed {
        let reads = claim == nil || previous?.phase != .ready
        let hydration = reads ? cluster.hydration : nil
        if let hydration, hydration.namespaceInvalid, claim == nil {
            let held = Plan(
                cluster: cluster.name, judged: ClusterStaging(report: Self.placementHeld(hydration)), target: nil,
                job: nil, jobObserved: false, claimKey: claimKey, jobKey: jobKey, keptClaim: nil, releasesClaim: false)
            return Placed(placement: nil, reads: reads, hydration: hydration, held: held)
        }
        let kept = claim.flatMap { claim in
            keptNamespace(claim, recorded: previous == nil ? nil : .some(observed.namespaces[cluster.name]))
        }
        let placement = ClaimSizing.Placement.of(
            wanted: reads ? hydration?.namespace : kept, input: staging.remoteNamespace, kept: kept, byCluster: reads)
        return Placed(placement: placement, reads: reads, hydration: hydration, held: nil)
    }

    /// The namespace the existing `claim` is in: the function input's, when the status says where
    /// its claims are (`ObservedCacheStatus.recordsNamespaces`), the cluster's entry records none and
    /// that input namespace is the one the status was written under (an entry without one has its
    /// claim there); else, and without an entry (a status lost), the
    /// observed claim's own: an entry that names a namespace is not trusted over the claim's Object
    /// (lifecycle.md §7 rule 6; a status edited, or written for another claim), and is read only off
    /// the steady state. The record saves a cluster a lookup in its claim as costly as its class and
    /// size. `recorded` is the entry's namespace (nil: no entry; `.some(nil)`: none recorded).
    func keptNamespace(_ claim: Resource, recorded: String??) -> String? {
        guard observed.recordsNamespaces, case .some(.none) = recorded,
            observed.remoteNamespace == stager.staging.remoteNamespace
        else {
            return ClaimSizing.namespace(of: claim)
        }
        return observed.remoteNamespace
    }

    /// A cluster whose own remote namespace is invalid gets no claim (it would be created
    /// elsewhere, and a claim never moves): Pending, saying why.
    static func placementHeld(_ hydration: ClusterHydration) -> PhaseReport {
        PhaseReport(
            .pending,
            "\(hydration.problem ?? "invalid hydration settings"); no claim is created on this "
                + "cluster until it is fixed")
    }

    /// The storage a volume source's cluster stands on: none of ours (no class, no size).
    private static let noStorage = ClusterView.RWXCache(storageClassName: "", defaultSizeGiB: 0)

    /// The plan of a cluster nothing can be composed on (no provider config, or
    /// no usable ReadWriteMany storage): an existing claim is kept as it is
    /// while the provider config blinks out, or while replicas use it.
    private func unreachable(
        _ cluster: ClusterView, previous: StagingEntry?, claimKey: ResourceKey, jobKey: ResourceKey
    ) -> Plan {
        func plan(_ judged: ClusterStaging?, kept: Resource? = nil, releases: Bool = false) -> Plan {
            Plan(
                cluster: cluster.name, judged: judged, target: nil, job: nil, jobObserved: false,
                claimKey: claimKey, jobKey: jobKey, keptClaim: kept, releasesClaim: releases)
        }
        guard cluster.providerConfig != nil else {
            let kept = keptClaim(cluster.name)
            return plan(blankProviderConfig(cluster.name, previous: previous, kept: kept != nil), kept: kept)
        }
        let why = cluster.rwxProblem ?? "InferenceCluster \(cluster.name) declares no spec.storage.rwxCache"
        if let retained = retain(cluster.name, why: why) {
            return plan(retained.report.judged, kept: retained.claim)
        }
        // Released on purpose (its claim leaves now, or left before): not matched, not a failure (rule 7).
        let releases = isOurClaim(request.observed.resources[claimKey])
        if releases || (observed.hadClusters && previous?.phase != .failed) {
            return plan(nil, releases: releases)
        }
        return plan(
            ClusterStaging(report: PhaseReport(.failed, "Cannot stage \(spec.repo) on \(cluster.name): \(why)")))
    }

    /// A cluster whose provider config is blank for now: an existing claim is kept
    /// as it is (dropping it would delete a staged cache) and the cluster keeps its
    /// previous phase, staged revision and failure (lifecycle.md §7 rule 7); its Job
    /// leaves desired state, so the message says only what is true.
    private func blankProviderConfig(_ cluster: String, previous: StagingEntry?, kept: Bool) -> ClusterStaging {
        let waiting = "Waiting for InferenceCluster \(cluster) to report status.providerConfigRef.name"
        guard kept else { return ClusterStaging(report: PhaseReport(.pending, waiting)) }
        let phase = previous?.source == staging.identity ? previous?.phase ?? .pending : .pending
        return ClusterStaging(
            report: PhaseReport(phase, "\(waiting); claim \(staging.claimName) is kept as it is"),
            staged: previous?.staged, failure: previous?.source == staging.identity ? previous?.failure : nil)
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
    ///
    /// A cluster Retained last time with consumers that no Usage lists now is kept
    /// one more reconcile (an answer may come back short once: workloads.md, nothing
    /// running is lost to a missing input); it is released when the next answer
    /// lists none either.
    func retain(_ cluster: String, why: String) -> (claim: Resource, report: ClusterReport)? {
        let n = consumers.count(on: cluster)
        let graced =
            n == 0 && observed.clusters[cluster]?.phase == .retained && observed.consumers[cluster, default: 0] > 0
        guard n > 0 || graced, let claim = keptClaim(cluster) else { return nil }
        let message =
            graced
            ? "\(why); keeping claim \(staging.claimName) on \(cluster): no Usage lists it now; released at the next "
                + "reconcile unless one does"
            : "\(why); keeping claim \(staging.claimName) on \(cluster) while \(Consumers.phrase(n)) "
                + "\(n == 1 ? "uses" : "use") it"
        let judged = ClusterStaging(report: PhaseReport(.retained, message), staged: observed.clusters[cluster]?.staged)
        return (claim, ClusterReport(cluster: cluster, judged: judged, consumers: n, namespace: keptNamespace(claim)))
    }

    /// The namespace of a kept claim when it is not the function input's remote namespace.
    func keptNamespace(_ claim: Resource) -> String? {
        ClaimSizing.namespace(of: claim).flatMap { $0 == staging.remoteNamespace ? nil : $0 }
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
