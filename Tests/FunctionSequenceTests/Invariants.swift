import FunctionCore
import Testing

/// What must hold after every step of every sequence (lifecycle.md §7).
enum Invariant: String, CaseIterable, Sendable {
    /// No pod (old or new, running or starting) mounts a revision that is missing,
    /// incomplete (not staged: its Job has not completed), or on another claim.
    case podMountsCompleteRevision
    /// No claim that a running pod mounts leaves desired state (Crossplane would delete it).
    case claimInUseKept
    /// A placement change never leaves a ModelDeployment with fewer Ready replicas.
    case readyCapacityKept
    /// After a Job fails for good (exit 10 or 11 at once through its podFailurePolicy,
    /// or any other exit code once its backoff is exhausted: lifecycle.md §7 rule 5), no
    /// Job for that revision on that claim is created again while nothing changed.
    case noJobAfterPermanentFailure
    /// A replica never says `CacheReady=True` while its cache has nothing staged on its cluster.
    case cacheReadyOnlyWhenStaged
    /// A composed remote object never changes namespace under its composition key (hydrator.md §5:
    /// provider-kubernetes would create it anew there and orphan the old one: a claim's files, a
    /// running workload, left behind).
    case remoteObjectStays
}

/// One broken invariant: where, when and what.
struct Violation: CustomStringConvertible {
    /// Which invariant.
    var invariant: Invariant
    /// The step it broke at.
    var step: Int
    /// The object it broke on.
    var object: String
    /// What broke.
    var message: String

    /// `step N: <object>: <message> [<invariant>]`.
    var description: String { "step \(step): \(object): \(message) [\(invariant.rawValue)]" }
}

/// One volume mount of a pod template.
struct CacheMount {
    /// The container that mounts.
    var container: String
    /// The claim mounted.
    var claim: String
    /// The directory of the claim mounted, if not the whole claim.
    var subPath: String?
}

extension World {
    /// Records a violation (once per invariant, object and message: a lasting one is reported at its first step).
    mutating func record(_ invariant: Invariant, object: String, _ message: String) {
        guard
            !violations.contains(where: { $0.invariant == invariant && $0.object == object && $0.message == message })
        else { return }
        violations.append(Violation(invariant: invariant, step: step, object: object, message: message))
    }

    // MARK: - Asserting (the end of every case)

    /// Records an issue for each violation of `invariant`.
    mutating func expectNone(_ invariant: Invariant, sourceLocation: SourceLocation = #_sourceLocation) {
        asserted.insert(invariant)
        for v in violations where v.invariant == invariant {
            Issue.record(Comment(rawValue: v.description), sourceLocation: sourceLocation)
        }
    }

    /// Records an issue for each violation of every invariant not asserted on yet.
    mutating func expectNoOtherViolations(sourceLocation: SourceLocation = #_sourceLocation) {
        for invariant in Invariant.allCases where !asserted.contains(invariant) {
            expectNone(invariant, sourceLocation: sourceLocation)
        }
    }

    /// Records an issue for each violation of any invariant.
    mutating func expectNoViolations(sourceLocation: SourceLocation = #_sourceLocation) {
        expectNoOtherViolations(sourceLocation: sourceLocation)
    }

    // MARK: - Pods

    /// Every mount of a persistent volume claim in a pod template (a Deployment's
    /// `spec.template`, or an LWS's `leaderWorkerTemplate` with its two templates); a claim is
    /// named by its key on the cluster (`remoteKey`: pods mount claims of their own `namespace`).
    static func mounts(_ template: Value, namespace: String = "default") -> [CacheMount] {
        let pods =
            template["spec"] != nil
            ? [template] : [template["leaderTemplate"], template["workerTemplate"]].compactMap { $0 }
        var out: [CacheMount] = []
        for pod in pods {
            var claims: [String: String] = [:]
            for v in pod[path: "spec", "volumes"]?.listValue ?? [] {
                if let name = v["name"]?.stringValue,
                    let claim = v[path: "persistentVolumeClaim", "claimName"]?.stringValue
                {
                    claims[name] = claim
                }
            }
            let containers =
                (pod[path: "spec", "initContainers"]?.listValue ?? [])
                + (pod[path: "spec", "containers"]?.listValue ?? [])
            for c in containers {
                for m in c["volumeMounts"]?.listValue ?? [] {
                    guard let name = m["name"]?.stringValue.flatMap({ claims[$0] }) else { continue }
                    let claim = remoteKey(name, namespace: namespace)
                    out.append(
                        CacheMount(
                            container: c["name"]?.stringValue ?? "", claim: claim, subPath: m["subPath"]?.stringValue))
                }
            }
        }
        return out
    }

    /// What is wrong with what `template`'s pods would read on cluster `r`: a claim
    /// that does not exist, or a revision that is missing, incomplete or on another claim.
    static func mountProblems(_ template: Value, namespace: String, in r: Remote) -> [String] {
        var problems: [String] = []
        for m in mounts(template, namespace: namespace) {
            let at = "container \(m.container) mounts claim \(m.claim)" + (m.subPath.map { " subPath \($0)" } ?? "")
            guard let claim = r.claims[m.claim] else {
                problems.append("\(at): the claim does not exist")
                continue
            }
            guard let sub = m.subPath else { continue }
            if let dir = claim.dirs[sub] {
                if !dir.complete { problems.append("\(at): the revision is incomplete (\(dir.identity) not staged)") }
            } else if let other = r.claims.keys.sorted().first(where: { r.claims[$0]?.dirs[sub]?.complete == true }) {
                problems.append("\(at): the revision is on claim \(other), not on this claim")
            } else {
                problems.append("\(at): the revision is missing on the claim (pruned or never staged)")
            }
        }
        return problems
    }

    /// Whether any pod on cluster `r` mounts `claim`.
    static func mounted(_ claim: String, in r: Remote) -> Bool {
        r.workloads.values.contains { w in
            w.podSets.contains { set in
                mounts(set.template, namespace: namespace(w.manifest)).contains { $0.claim == claim }
            }
        }
    }

    /// Invariant `podMountsCompleteRevision`, over every pod on every cluster.
    mutating func checkPodMounts() {
        for pc in remotes.keys.sorted() {
            let r = remotes[pc]!
            for name in r.workloads.keys.sorted() {
                let w = r.workloads[name]!
                for set in w.podSets {
                    for problem in Self.mountProblems(set.template, namespace: Self.namespace(w.manifest), in: r) {
                        record(
                            .podMountsCompleteRevision,
                            object: "\(w.manifest["kind"]?.stringValue ?? "") \(name) on \(cluster(pc)) of \(w.owner)",
                            "pods of the template rolled out at step \(set.startedAt) "
                                + "(\(set.available ? "available" : "starting"), \(w.podSets.count) templates running): "
                                + problem)
                    }
                }
            }
        }
    }

    // MARK: - Decisions, checked when a response is applied

    /// Invariant `claimInUseKept`: `deleted` claims (left `id`'s desired state) that pods still mount.
    mutating func checkClaimsInUse(_ id: XRID, deleted: [(pc: String, claim: String)]) {
        for (pc, claim) in deleted {
            guard let r = remotes[pc], Self.mounted(claim, in: r) else { continue }
            let users = r.workloads.values.filter { w in
                w.podSets.contains {
                    Self.mounts($0.template, namespace: Self.namespace(w.manifest)).contains { $0.claim == claim }
                }
            }.map { "\($0.owner)" }.sorted()
            record(
                .claimInUseKept, object: "claim \(claim) on \(cluster(pc))",
                "left the desired state of \(id) (Crossplane deletes it) while pods of \(users.joined(separator: ", ")) mount it"
            )
        }
    }

    /// Invariant `readyCapacityKept`: a ModelDeployment's answer removes Ready replicas
    /// (beyond what `spec.replicas` asks to remove) before their replacements are Ready.
    mutating func checkReadyCapacity(_ id: XRID, before: [String: Resource], desired: [String: Resource]) {
        let wanted = xrs[id]?.spec["replicas"]?.intValue ?? 1
        var readyBefore = 0
        var readyAfter = 0
        var removed: [String] = []
        for key in before.keys.sorted() where key.hasPrefix("replica-") {
            let replica = XRID.replica(replicaName(owner: id, key: key))
            guard let r = xrs[replica], r.isReady else { continue }
            readyBefore += 1
            if desired[key] != nil {
                readyAfter += 1
            } else {
                removed.append("\(replica.name) on \(key.dropFirst("replica-".count))")
            }
        }
        guard readyAfter < min(readyBefore, Int(wanted)) else { return }
        let placed = desired.keys.filter { $0.hasPrefix("replica-") && before[$0] == nil }.sorted()
            .map { String($0.dropFirst("replica-".count)) }
        record(
            .readyCapacityKept, object: "\(id)",
            "removed Ready replica \(removed.joined(separator: ", ")) while "
                + (placed.isEmpty
                    ? "placing no replacement" : "its replacement on \(placed.joined(separator: ", ")) is not Ready")
                + ": Ready replicas \(readyBefore) → \(readyAfter)")
    }

    /// Invariant `remoteObjectStays`: an Object composed under the same key before and now whose
    /// remote object changed namespace.
    mutating func checkNothingMoves(_ id: XRID, before: [String: Resource], desired: [String: Resource]) {
        for key in desired.keys.sorted() {
            guard let was = before[key]?.object[path: "spec", "forProvider", "manifest"],
                let now = desired[key]?.object[path: "spec", "forProvider", "manifest"],
                Self.namespace(was) != Self.namespace(now)
            else { continue }
            let pc = desired[key]?.object[path: "spec", "providerConfigRef", "name"]?.stringValue ?? ""
            record(
                .remoteObjectStays,
                object: "\(now["kind"]?.stringValue ?? "") \(now[path: "metadata", "name"]?.stringValue ?? "") on "
                    + cluster(pc),
                "\(id) moved it (key \(key)) from namespace \(Self.namespace(was)) to \(Self.namespace(now))")
        }
    }

    /// Invariant `cacheReadyOnlyWhenStaged`, for one ModelReplica answer.
    mutating func checkCacheReady(_ id: XRID, _ response: RunResponse) {
        guard let c = response.conditions.first(where: { $0.type == "CacheReady" }), c.status == .true,
            let xr = xrs[id]
        else { return }
        let cluster = xr.spec[path: "inferenceClusterRef", "name"]?.stringValue ?? ""
        let said = "says CacheReady=True (\(c.reason): \(c.message ?? ""))"
        if let cache = xr.spec[path: "modelCacheRef", "name"]?.stringValue {
            let entry = entry(cache: cache, cluster: cluster)
            guard (entry?["staged"]?.stringValue ?? "").isEmpty else { return }
            record(
                .cacheReadyOnlyWhenStaged, object: "\(id) on \(cluster)",
                "\(said) while ModelCache \(cache) reports nothing staged on \(cluster) (phase "
                    + "\(entry?["phase"]?.stringValue ?? "not listed"))")
        } else {
            let cache = response.desired.composite?.object[path: "status", "cache"]
            guard (cache?["staged"]?.stringValue ?? "").isEmpty else { return }
            record(
                .cacheReadyOnlyWhenStaged, object: "\(id) on \(cluster)",
                "\(said) while its automatic cache has nothing staged (phase \(cache?["phase"]?.stringValue ?? "none"))"
            )
        }
    }
}
