// Sequence test harness (issue #23): whole reconcile sequences through `Composer().run`.
//
// A `World` stands in for everything between two calls of the function: the API
// server holding the XRs (ModelCaches, ModelDeployments, ModelReplicas) and the
// InferenceClusters, Crossplane (the requirements loop, applying desired state,
// deleting what left it, writing the XR status after the XRD's structural
// pruning), provider-kubernetes (Objects create, update and observe remote
// objects; missing remote objects of desired Objects are created again) and
// Kubernetes on each workload cluster (claims bind, hydration Jobs run, write
// revision directories, prune like the hydration script and end Complete or
// Failed with an exit code, the Job TTL removes finished Jobs, Deployments and
// LeaderWorkerSets roll out and keep old pods until the new ones are available).
// After every step the invariants in Invariants.swift are checked and every
// violation is recorded with its step and object.
//
// Adding a case (see SequenceCases.swift):
// 1. `var w = World(clusters: [Build.cluster("gpu-east"), ...])`, then add XRs:
//    `w.add(.cache("qwen"), spec: Build.cacheSpec())`, `w.add(.deployment("qwen"), spec: ...)`,
//    `w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen"))`.
// 2. Drive it: `w.step()` is one round (Kubernetes time passes, then every XR is
//    reconciled in order: caches, deployments, replicas); `w.run(until: "…") { … }`
//    steps until a condition holds. Between steps edit what a user or a cluster
//    would: `w.setSpec`, `w.xrs[id]?.annotations`, `w.clusters[name]`,
//    `w.answerEdit` (change one requirement answer, e.g. drop a cluster once),
//    `w.hydration` (how each Job ends), `w.startupSteps` (how long pods take to
//    become available), `w.ttlSteps` (the Job TTL).
// 3. End with the invariants: `w.expectNoViolations()`. If the case fails on
//    today's code, wrap exactly the failing invariant:
//        withKnownIssue("…: lifecycle.md §7 rule N; fixed by #23") { w.expectNone(.readyCapacityKept) }
//        w.expectNoOtherViolations()
//    `withKnownIssue` fails when nothing is recorded: once the bug is fixed, remove the wrapper.

import FunctionCore
import Testing

/// One XR of the world.
struct XRID: Hashable, Comparable, CustomStringConvertible, Sendable {
    /// The kinds, in the order a step reconciles them.
    enum Kind: Int, Sendable {
        case cache, deployment, replica

        /// The XR kind's name.
        var name: String { ["ModelCache", "ModelDeployment", "ModelReplica"][rawValue] }
    }

    /// Its kind.
    var kind: Kind
    /// Its name (namespace `Build.namespace`).
    var name: String

    /// A ModelCache.
    static func cache(_ name: String) -> XRID { XRID(kind: .cache, name: name) }
    /// A ModelDeployment.
    static func deployment(_ name: String) -> XRID { XRID(kind: .deployment, name: name) }
    /// A ModelReplica.
    static func replica(_ name: String) -> XRID { XRID(kind: .replica, name: name) }

    static func < (a: XRID, b: XRID) -> Bool {
        a.kind.rawValue != b.kind.rawValue ? a.kind.rawValue < b.kind.rawValue : a.name < b.name
    }

    var description: String { "\(kind.name) \(Build.namespace)/\(name)" }
}

/// An XR as the API server holds it.
struct XRState {
    /// Which XR.
    var id: XRID
    /// Its spec (edits bump `generation` at the next reconcile, as the API server does).
    var spec: Value
    /// Its annotations.
    var annotations: [String: String] = [:]
    /// `metadata.generation`.
    var generation: Int64 = 1
    /// The spec `generation` counts.
    var specAtGeneration: Value
    /// The status as written by Crossplane (pruned by the XRD).
    var status: Value = .null
    /// The composed resources Crossplane applied last, by composition key.
    var composed: [String: Resource] = [:]
    /// The ModelDeployment that composes this replica, if any.
    var owner: XRID?

    init(id: XRID, spec: Value, owner: XRID? = nil) {
        self.id = id
        self.spec = spec
        self.specAtGeneration = spec
        self.owner = owner
    }

    /// The object as the function and other XRs observe it.
    var object: Value {
        var metadata: Value = [
            "name": .string(id.name), "namespace": .string(Build.namespace), "generation": .int(generation),
        ]
        if !annotations.isEmpty { metadata["annotations"] = .object(Fields(annotations)) }
        var o: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": .string(id.kind.name), "metadata": metadata, "spec": spec,
        ]
        if !status.isNull { o["status"] = status }
        return o
    }

    /// Whether Crossplane reports the XR `Ready=True`.
    var isReady: Bool { conditionOf(object, "Ready")?["status"] == "True" }
}

/// A revision directory at a claim's root.
struct RevisionDir {
    /// The source identity the Job writing it downloads.
    var identity: String
    /// Whether the completion marker is written.
    var complete: Bool
    /// The newest owner generation that wrote to it.
    var generation: Int64
}

/// A PersistentVolumeClaim on a workload cluster and the files on it.
struct Claim {
    var manifest: Value
    var bound = false
    var dirs: [String: RevisionDir] = [:]
    /// Deleted while pods still mount it: Kubernetes keeps it (pvc-protection) until they are gone.
    var deleting = false
}

/// How a hydration Job ends.
enum JobOutcome {
    /// Completes `after` steps once its claim is bound.
    case complete(after: Int = 1)
    /// Fails with `exitCode` after `after` steps: 10 and 11 at once (podFailurePolicy), others after the backoff.
    case fail(exitCode: Int, after: Int = 1)
    /// Never ends.
    case running
}

/// What decides a Job's outcome (`World.hydration`).
struct JobRun {
    var cluster: String
    var name: String
    var identity: String
    var claim: String
    var claimGiB: Int64
    /// 1 for the first creation of this Job name on this cluster, 2 when re-created, …
    var run: Int
}

/// A hydration Job on a workload cluster.
struct RemoteJob {
    var manifest: Value
    var outcome: JobOutcome
    var claim: String
    var dir: String
    var identity: String
    var keep: [String]
    var generation: Int64
    var owner: XRID
    var fingerprint: String
    var age = 0
    var finishedAt: Int?
    var condition: Value?
}

/// A set of pods of one template (a ReplicaSet, or an LWS revision).
struct PodSet {
    var template: Value
    var startedAt: Int
    var available = false
}

/// A Deployment or LeaderWorkerSet on a workload cluster, with the pods of every template still running.
struct RemoteWorkload {
    var manifest: Value
    var generation: Int64 = 1
    var podSets: [PodSet]
    var owner: XRID

    /// The pod template(s) a rollout compares: Deployment `spec.template`, LWS `spec.leaderWorkerTemplate`.
    static func template(_ manifest: Value) -> Value {
        manifest[path: "spec", "template"] ?? manifest[path: "spec", "leaderWorkerTemplate"] ?? .null
    }
}

/// One workload cluster, reached through its provider config.
struct Remote {
    var claims: [String: Claim] = [:]
    var jobs: [String: RemoteJob] = [:]
    var workloads: [String: RemoteWorkload] = [:]
    /// Everything else (Services, Secrets), by `Kind/name`.
    var others: [String: Value] = [:]
}

/// The world between two calls: see the top of this file.
struct World {
    /// The InferenceClusters by name (edit to change labels, storage, provider config, or delete one).
    var clusters: [String: Value]
    /// The XRs.
    var xrs: [XRID: XRState] = [:]
    /// The workload clusters by provider config name.
    var remotes: [String: Remote] = [:]
    /// Crossplane Usages by name.
    var usages: [String: Value] = [:]
    /// The current step (0 before the first).
    var step = 0
    /// Steps a new pod takes to become available (once what it mounts is complete).
    var startupSteps = 1
    /// Steps after which Kubernetes' TTL removes a finished Job.
    var ttlSteps = 3
    /// How each hydration Job ends (default: completes one step after its claim binds).
    var hydration: (JobRun) -> JobOutcome = { _ in .complete() }
    /// Edits one requirement answer (`step`, the XR asking, the requirement key, the items found).
    var answerEdit: (Int, XRID, String, [Value]) -> [Value] = { _, _, _, items in items }
    /// Claims that do not bind (by name).
    var unbound: Set<String> = []
    /// Every invariant violation so far.
    var violations: [Violation] = []
    /// The invariants a test already asserted on (`expectNone`).
    var asserted: Set<Invariant> = []
    /// The last applied (or Fatal) response per XR.
    var responses: [XRID: RunResponse] = [:]
    /// Every result (event) per step, for failure messages.
    var events: [(step: Int, xr: XRID, result: FunctionResult)] = []
    /// Permanent Job failures by `<provider config>/<claim>/<revision dir>`.
    var permanentFailures: [String: (step: Int, job: String, exitCode: Int, fingerprint: String)] = [:]
    /// Creations per `<provider config>/<Job name>`.
    var jobCreations: [String: Int] = [:]

    /// A world of `clusters`.
    init(clusters: [Value]) {
        var byName: [String: Value] = [:]
        for c in clusters { byName[c[path: "metadata", "name"]?.stringValue ?? ""] = c }
        self.clusters = byName
    }

    /// Adds an XR.
    mutating func add(_ id: XRID, spec: Value) {
        xrs[id] = XRState(id: id, spec: spec)
    }

    /// Replaces an XR's spec (its generation is bumped at the next reconcile).
    mutating func setSpec(_ id: XRID, _ spec: Value) {
        xrs[id]?.spec = spec
    }

    // MARK: - Steps

    /// One round: Kubernetes and the provider act, then every XR is reconciled, then the invariants are checked.
    mutating func step(_ count: Int = 1) {
        for _ in 0..<count {
            step += 1
            tick()
            var done = Set<XRID>()
            while let next = xrs.keys.sorted().first(where: { !done.contains($0) }) {
                done.insert(next)
                reconcile(next)
            }
            checkPodMounts()
        }
    }

    /// Steps until `condition` holds, at most `limit` steps; records an issue naming `what` if it never does.
    mutating func run(
        until what: String, limit: Int = 15, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: (World) -> Bool
    ) {
        for _ in 0..<limit {
            if condition(self) { return }
            step()
        }
        if !condition(self) {
            Issue.record("After step \(step): never reached: \(what)\n\(trace())", sourceLocation: sourceLocation)
        }
    }

    /// The last events, for failure messages.
    func trace() -> String {
        events.suffix(20).map { "  step \($0.step) \($0.xr): \($0.result.message)" }.joined(separator: "\n")
    }

    // MARK: - Crossplane

    /// One reconcile of `id`: the requirements loop, then desired state applied unless the answer is Fatal.
    mutating func reconcile(_ id: XRID) {
        guard var xr = xrs[id] else { return }
        if xr.spec != xr.specAtGeneration {
            xr.generation += 1
            xr.specAtGeneration = xr.spec
            xrs[id] = xr
        }
        let observed = State(composite: Resource(object: xr.object), resources: observedResources(xr))
        func call(_ required: [String: [Resource]]) -> RunResponse {
            Composer().run(RunRequest(tag: "\(id)", observed: observed, requiredResources: required))
        }
        // Crossplane calls again with the resources asked for until the requirements settle.
        var response = call([:])
        var previous: Requirements?
        var calls = 1
        while let asked = response.requirements, asked != previous, calls < 6 {
            previous = asked
            response = call(answer(asked, for: id))
            calls += 1
        }
        responses[id] = response
        for r in response.results { events.append((step, id, r)) }
        guard !response.isFatal else { return }  // Crossplane applies and deletes nothing.
        apply(response, to: id)
    }

    /// The requirement answers Crossplane fetches for `id`.
    func answer(_ asked: Requirements, for id: XRID) -> [String: [Resource]] {
        var out: [String: [Resource]] = [:]
        for (key, selector) in asked.resources {
            var items: [Value]
            switch selector.kind {
            case "InferenceCluster": items = clusters.keys.sorted().map { clusters[$0]! }
            case "ModelCache": items = xrs.values.filter { $0.id.kind == .cache }.sorted { $0.id < $1.id }.map(\.object)
            case "Usage": items = usages.keys.sorted().map { usages[$0]! }
            default: items = []
            }
            items = items.filter { item in
                switch selector.match {
                case .name(let n): return item[path: "metadata", "name"]?.stringValue == n
                case .labels(let labels):
                    return labels.allSatisfy { item[path: "metadata", "labels", $0.key]?.stringValue == $0.value }
                }
            }
            out[key] = answerEdit(step, id, key, items).map { Resource(object: $0) }
        }
        return out
    }

    /// What Crossplane observes of `xr`'s composed resources.
    func observedResources(_ xr: XRState) -> [String: Resource] {
        var out: [String: Resource] = [:]
        for (key, sent) in xr.composed {
            var object = sent.object
            if object["metadata"] == nil { object["metadata"] = [:] }
            object["metadata"]?["name"] = .string("\(xr.id.name)-\(key)")
            switch object["kind"]?.stringValue {
            case "Object":
                let (remote, ready) = observedRemote(object)
                object["status"] = [
                    "atProvider": ["manifest": remote ?? .null],
                    "conditions": [
                        [
                            "type": "Ready", "status": ready ? "True" : "False",
                            "reason": ready ? "Available" : "Creating",
                        ],
                        ["type": "Synced", "status": "True", "reason": "ReconcileSuccess"],
                    ],
                ]
                if remote == nil { object["status"]?["atProvider"] = [:] }
            case "Usage":
                object["status"] = ["conditions": [["type": "Ready", "status": "True", "reason": "Available"]]]
            case "ModelReplica":
                if let replica = xrs[.replica(replicaName(owner: xr.id, key: key))] { object = replica.object }
            default: break
            }
            out[key] = Resource(object: object)
        }
        return out
    }

    /// The name of the ModelReplica `owner` composes under `key` (`replica-<cluster>`).
    func replicaName(owner: XRID, key: String) -> String {
        "\(owner.name)-\(key.dropFirst("replica-".count))"
    }

    /// Applies a non-Fatal response: status, then composed resources (deleting what left desired state).
    mutating func apply(_ response: RunResponse, to id: XRID) {
        guard var xr = xrs[id] else { return }
        let before = xr.composed
        let desired = response.desired.resources
        if id.kind == .deployment { checkReadyCapacity(id, before: before, desired: desired) }
        if id.kind == .replica { checkCacheReady(id, response) }

        // Status: the function's, then its conditions merged by type, then Ready; pruned by the XRD.
        var status = response.desired.composite?.object["status"] ?? [:]
        var conditions: [String: Value] = [:]
        for c in xr.status["conditions"]?.listValue ?? [] { conditions[c["type"]?.stringValue ?? ""] = c }
        for c in response.conditions {
            let s = c.status == .true ? "True" : c.status == .false ? "False" : "Unknown"
            conditions[c.type] = [
                "type": .string(c.type), "status": .string(s), "reason": .string(c.reason),
                "message": .string(c.message ?? ""),
            ]
        }
        let ready: Bool
        switch response.desired.composite?.ready ?? .unspecified {
        case .ready: ready = true
        case .notReady: ready = false
        case .unspecified: ready = desired.values.allSatisfy { $0.ready == .ready }
        }
        conditions["Ready"] = [
            "type": "Ready", "status": ready ? "True" : "False", "reason": ready ? "Available" : "Creating",
        ]
        status["conditions"] = .list(conditions.keys.sorted().map { conditions[$0]! })
        xr.status = XRDSchemas.prune(status, XRDSchemas.status[id.kind.name])
        xr.composed = desired
        xrs[id] = xr

        // Deletions first (what left desired state), then creations and updates, claims before Jobs.
        var deletedClaims: [(pc: String, claim: String)] = []
        for key in before.keys.sorted() where desired[key] == nil {
            deletedClaims += delete(before[key]!, key: key, owner: id)
        }
        checkClaimsInUse(id, deleted: deletedClaims)
        func order(_ r: Resource) -> Int {
            switch r.object[path: "spec", "forProvider", "manifest", "kind"]?.stringValue {
            case "PersistentVolumeClaim": return 0
            case "Job": return 2
            default: return 1
            }
        }
        for key in desired.keys.sorted(by: { (order(desired[$0]!), $0) < (order(desired[$1]!), $1) }) {
            applyComposed(desired[key]!, key: key, owner: id)
        }
    }

    /// Creates or updates one composed resource.
    mutating func applyComposed(_ resource: Resource, key: String, owner: XRID) {
        let object = resource.object
        switch object["kind"]?.stringValue {
        case "Object":
            guard let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
                let manifest = object[path: "spec", "forProvider", "manifest"]
            else { return }
            provide(manifest, on: pc, owner: owner)
        case "Usage":
            var usage = object
            usage["metadata"]?["name"] = .string("\(owner.name)-\(key)")
            usages["\(owner.name)-\(key)"] = usage
        case "ModelReplica":
            let id = XRID.replica(replicaName(owner: owner, key: key))
            let spec = object["spec"] ?? [:]
            if xrs[id] == nil {
                xrs[id] = XRState(id: id, spec: spec, owner: owner)
            } else {
                xrs[id]?.spec = spec
            }
        default: break
        }
    }

    /// provider-kubernetes: creates the remote object, or updates it.
    mutating func provide(_ manifest: Value, on pc: String, owner: XRID) {
        let name = manifest[path: "metadata", "name"]?.stringValue ?? ""
        var remote = remotes[pc] ?? Remote()
        defer { remotes[pc] = remote }
        switch manifest["kind"]?.stringValue {
        case "PersistentVolumeClaim":
            if remote.claims[name] == nil || remote.claims[name]?.deleting == true {
                remote.claims[name] = Claim(manifest: manifest, dirs: remote.claims[name]?.dirs ?? [:])
                remote.claims[name]?.deleting = false
            } else {
                remote.claims[name]?.manifest = manifest  // a larger request expands the claim
            }
        case "Job":
            // A Job's template is immutable: an existing Job is left as it is.
            if remote.jobs[name] == nil {
                remote.jobs[name] = createJob(manifest, on: pc, remote: remote, owner: owner)
            }
        case "Deployment", "LeaderWorkerSet":
            let template = RemoteWorkload.template(manifest)
            guard var w = remote.workloads[name] else {
                remote.workloads[name] = RemoteWorkload(
                    manifest: manifest, podSets: [PodSet(template: template, startedAt: step)], owner: owner)
                return
            }
            if w.manifest != manifest { w.generation += 1 }
            w.manifest = manifest
            if w.podSets.last?.template != template {
                // A new revision: pods of templates that never became available are scaled away,
                // available ones keep running until the new pods are available.
                w.podSets.removeAll { !$0.available }
                w.podSets.append(PodSet(template: template, startedAt: step))
            }
            remote.workloads[name] = w
        default:
            remote.others["\(manifest["kind"]?.stringValue ?? "")/\(name)"] = manifest
        }
    }

    /// A new hydration Job (first creation or a re-creation by the provider).
    mutating func createJob(_ manifest: Value, on pc: String, remote: Remote, owner: XRID) -> RemoteJob {
        let name = manifest[path: "metadata", "name"]?.stringValue ?? ""
        let spec = manifest[path: "spec", "template", "spec"]
        let container = spec?["containers"]?.listValue?.first
        func env(_ n: String) -> String? {
            container?["env"]?.listValue?.first { $0["name"]?.stringValue == n }?["value"]?.stringValue
        }
        let repo = env("MODEL_REPO") ?? ""
        let identity = env("MODEL_REVISION").map { "hf://\(repo)@\($0)" } ?? "hf://\(repo)"
        let claim =
            spec?["volumes"]?.listValue?.first?[path: "persistentVolumeClaim", "claimName"]?.stringValue ?? ""
        let dir = env("MODEL_DIR") ?? ""
        let size = remote.claims[claim]?.manifest[path: "spec", "resources", "requests", "storage"]?.stringValue ?? ""
        let gib = Int64(size.dropLast(2)) ?? 0
        let o = xrs[owner]
        let fingerprint =
            (o?.spec.canonicalJSON() ?? "") + " " + Value.object(Fields(o?.annotations ?? [:])).canonicalJSON() + " "
            + size
        jobCreations["\(pc)/\(name)", default: 0] += 1
        let failureKey = "\(pc)/\(claim)/\(dir)"
        if let failed = permanentFailures[failureKey], failed.fingerprint == fingerprint {
            record(
                .noJobAfterPermanentFailure, object: "Job \(name) on \(cluster(pc))",
                "created again (creation \(jobCreations["\(pc)/\(name)"]!)) for \(identity) on claim \(claim) after Job "
                    + "\(failed.job) failed permanently (exit \(failed.exitCode)) at step \(failed.step), "
                    + "with nothing changed since (\(owner) spec, annotations and claim size)")
        }
        var outcome = hydration(
            JobRun(
                cluster: cluster(pc), name: name, identity: identity, claim: claim, claimGiB: gib,
                run: jobCreations["\(pc)/\(name)"]!))
        // The script exits at once when the marker already holds this source.
        if let d = remote.claims[claim]?.dirs[dir], d.complete, d.identity == identity { outcome = .complete() }
        return RemoteJob(
            manifest: manifest, outcome: outcome, claim: claim, dir: dir, identity: identity,
            keep: (env("KEEP_DIRS") ?? "").split(separator: " ").map(String.init),
            generation: Int64(env("MODEL_GENERATION") ?? "") ?? 0, owner: owner, fingerprint: fingerprint)
    }

    /// Deletes one composed resource that left desired state; answers the claims deleted.
    mutating func delete(_ resource: Resource, key: String, owner: XRID) -> [(pc: String, claim: String)] {
        let object = resource.object
        switch object["kind"]?.stringValue {
        case "Object":
            let policies = object[path: "spec", "managementPolicies"]?.listValue?.compactMap(\.stringValue) ?? ["*"]
            guard policies.contains("*") || policies.contains("Delete"),
                let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
                let manifest = object[path: "spec", "forProvider", "manifest"],
                let name = manifest[path: "metadata", "name"]?.stringValue
            else { return [] }  // orphaned: the remote object stays
            switch manifest["kind"]?.stringValue {
            case "PersistentVolumeClaim":
                remotes[pc]?.claims[name]?.deleting = true
                return [(pc, name)]
            case "Job": remotes[pc]?.jobs[name] = nil
            case "Deployment", "LeaderWorkerSet": remotes[pc]?.workloads[name] = nil
            default: remotes[pc]?.others["\(manifest["kind"]?.stringValue ?? "")/\(name)"] = nil
            }
        case "Usage":
            usages["\(owner.name)-\(key)"] = nil
        case "ModelReplica":
            // Deleting the replica deletes everything it composed.
            let id = XRID.replica(replicaName(owner: owner, key: key))
            guard let replica = xrs[id] else { return [] }
            xrs[id] = nil
            var claims: [(pc: String, claim: String)] = []
            for k in replica.composed.keys.sorted() { claims += delete(replica.composed[k]!, key: k, owner: id) }
            return claims
        default: break
        }
        return []
    }

    // MARK: - Kubernetes and the provider between reconciles

    /// Time passes on every workload cluster; the provider re-creates desired objects that are gone.
    mutating func tick() {
        for pc in remotes.keys.sorted() {
            var r = remotes[pc]!
            for name in r.claims.keys.sorted() {
                if !r.claims[name]!.bound && !unbound.contains(name) { r.claims[name]!.bound = true }
                if r.claims[name]!.deleting && !Self.mounted(name, in: r) { r.claims[name] = nil }
            }
            for name in r.jobs.keys.sorted() { advanceJob(name, &r, pc: pc) }
            for name in r.workloads.keys.sorted() {
                var w = r.workloads[name]!
                for i in w.podSets.indices where !w.podSets[i].available {
                    let set = w.podSets[i]
                    if step - set.startedAt >= startupSteps, Self.mountProblems(set.template, in: r).isEmpty {
                        w.podSets[i].available = true
                    }
                }
                if w.podSets.last?.available == true { w.podSets.removeFirst(w.podSets.count - 1) }
                r.workloads[name] = w
            }
            remotes[pc] = r
        }
        // provider-kubernetes: an Object in desired state whose remote object is gone creates it again.
        for id in xrs.keys.sorted() {
            guard let xr = xrs[id] else { continue }
            for key in xr.composed.keys.sorted() {
                let object = xr.composed[key]!.object
                guard object["kind"]?.stringValue == "Object",
                    let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
                    let manifest = object[path: "spec", "forProvider", "manifest"],
                    observedRemote(object).remote == nil
                else { continue }
                provide(manifest, on: pc, owner: id)
            }
        }
    }

    /// One step of a Job: it runs while its claim is bound, then ends; the TTL removes it once finished.
    mutating func advanceJob(_ name: String, _ r: inout Remote, pc: String) {
        var job = r.jobs[name]!
        if let finished = job.finishedAt {
            if step - finished >= ttlSteps { r.jobs[name] = nil }  // Kubernetes' TTL controller
            return
        }
        guard var claim = r.claims[job.claim], claim.bound, !claim.deleting else { return }
        defer {
            r.jobs[name] = job
            r.claims[job.claim] = claim
        }
        job.age += 1
        var dir = claim.dirs[job.dir] ?? RevisionDir(identity: job.identity, complete: false, generation: 0)
        if dir.identity != job.identity { dir = RevisionDir(identity: job.identity, complete: false, generation: 0) }
        dir.generation = max(dir.generation, job.generation)
        claim.dirs[job.dir] = dir
        switch job.outcome {
        case .running: return
        case .complete(let after):
            guard job.age >= after else { return }
            claim.dirs[job.dir]?.complete = true
            // The hydration script's pruning: every other revision except those kept, those
            // being written, and those written by the same or a newer generation.
            let active = Set(
                r.jobs.values.filter { $0.finishedAt == nil && $0.claim == job.claim && $0.dir != job.dir }.map(\.dir))
            for (other, d) in claim.dirs
            where other != job.dir && !job.keep.contains(other) && !active.contains(other)
                && d.generation < job.generation
            {
                claim.dirs[other] = nil
            }
            job.condition = ["type": "Complete", "status": "True", "reason": "Completed", "message": ""]
        case .fail(let code, let after):
            guard job.age >= after else { return }
            if code == 10 || code == 11 {
                job.condition = [
                    "type": "Failed", "status": "True", "reason": "PodFailurePolicy",
                    "message": .string(
                        "Container hydrate for pod default/\(name)-x7k2p failed with exit code \(code) matching "
                            + "FailJob rule at index 0"),
                ]
                permanentFailures["\(pc)/\(job.claim)/\(job.dir)"] = (step, name, code, job.fingerprint)
            } else {
                job.condition = [
                    "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                ]
            }
        }
        job.finishedAt = step
    }

    // MARK: - Observing remote objects

    /// The remote object of an Object as provider-kubernetes reports it, and its readiness.
    func observedRemote(_ object: Value) -> (remote: Value?, ready: Bool) {
        guard let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
            let manifest = object[path: "spec", "forProvider", "manifest"],
            let name = manifest[path: "metadata", "name"]?.stringValue, let r = remotes[pc]
        else { return (nil, false) }
        switch manifest["kind"]?.stringValue {
        case "PersistentVolumeClaim":
            guard let claim = r.claims[name] else { return (nil, false) }
            var o = claim.manifest
            o["status"] = ["phase": claim.bound ? "Bound" : "Pending"]
            return (o, claim.bound)
        case "Job":
            guard let job = r.jobs[name] else { return (nil, false) }
            var o = job.manifest
            o["status"] = job.condition.map { ["conditions": [$0]] } ?? ["active": 1]
            return (o, job.condition?["type"] == "Complete")
        case "Deployment", "LeaderWorkerSet":
            guard let w = r.workloads[name] else { return (nil, false) }
            let count = w.manifest[path: "spec", "replicas"]?.intValue ?? 1
            let total = count * Int64(w.podSets.count)
            let available = count * Int64(w.podSets.filter(\.available).count)
            let isAvailable = available >= count
            var o = w.manifest
            o["metadata"]?["generation"] = .int(w.generation)
            var status: Value = [
                "observedGeneration": .int(w.generation), "replicas": .int(total), "updatedReplicas": .int(count),
                "conditions": [["type": "Available", "status": isAvailable ? "True" : "False", "reason": "x"]],
            ]
            if manifest["kind"] == "Deployment" {
                status["availableReplicas"] = .int(available)
                status["readyReplicas"] = .int(available)
            } else {
                status["readyReplicas"] = .int(available)
            }
            o["status"] = status
            return (o, isAvailable)
        default:
            guard let o = r.others["\(manifest["kind"]?.stringValue ?? "")/\(name)"] else { return (nil, false) }
            return (o, true)
        }
    }

    // MARK: - Reading the world (for cases)

    /// The cluster a provider config reaches.
    func cluster(_ pc: String) -> String { pc.hasPrefix("pc-") ? String(pc.dropFirst(3)) : pc }

    /// A ModelCache's `status.clusters` entry for `cluster`.
    func entry(cache: String, cluster: String) -> Value? {
        xrs[.cache(cache)]?.status["clusters"]?.listValue?.first { $0["name"]?.stringValue == cluster }
    }

    /// The replicas a ModelDeployment composed, by cluster.
    func replicas(of deployment: String) -> [String: XRState] {
        var out: [String: XRState] = [:]
        for xr in xrs.values where xr.owner == .deployment(deployment) {
            out[xr.spec[path: "inferenceClusterRef", "name"]?.stringValue ?? ""] = xr
        }
        return out
    }

    /// The clusters where a ModelDeployment has a Ready replica.
    func readyClusters(of deployment: String) -> [String] {
        replicas(of: deployment).filter { $0.value.isReady }.keys.sorted()
    }

    /// Whether the workload on `cluster` of replica `name` has pods of more than one template (a rollout).
    func rollingOut(_ replica: String, on cluster: String) -> Bool {
        remotes[Build.providerConfig(cluster)]?.workloads.values.contains {
            $0.owner == .replica(replica) && $0.podSets.count > 1
        } ?? false
    }
}

/// The condition of `type` in `object.status.conditions`.
func conditionOf(_ object: Value?, _ type: String) -> Value? {
    object?[path: "status", "conditions"]?.listValue?.first { $0["type"]?.stringValue == type }
}
