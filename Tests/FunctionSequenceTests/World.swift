// Sequence test harness (issue #23): whole reconcile sequences through `Composer().run`.
//
// A `World` stands in for everything between two calls of the function: the API
// server holding the XRs (ModelCaches, ModelDeployments, ModelReplicas) and the
// InferenceClusters, Crossplane (the requirements loop, applying desired state,
// deleting what left it, writing the XR status after the XRD's structural
// pruning), provider-kubernetes (Objects create, update and observe remote
// objects; missing remote objects of desired Objects are created again) and
// Kubernetes on each workload cluster (claims bind, hydration Jobs run like the
// hydrator: resolve the source to a commit (`commits`; the pinned one when the Job
// carries it), write the revision directory of that commit, report Resolving,
// Downloading with progress, then Complete with the commit or Failed with the exit
// code and reason into the report ConfigMap (`reportLagSteps` delays the last
// report), prune like the hydrator and end Complete or Failed with an exit code; a
// Job of the previous release (no intent label) writes no report; the Job TTL
// removes finished Jobs; ServiceAccounts and the other report objects exist once
// created, so a Job's ServiceAccount is Ready at the next reconcile; Deployments and
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
//    `w.answerEdit` (change one requirement answer, e.g. drop a cluster once), `w.input` (the
//    function input each XR's Composition gives, e.g. `input.hydration.namespace`),
//    `w.hydration` (how each Job ends), `w.startupSteps` (how long pods take to
//    become available), `w.ttlSteps` (the Job TTL).
// 3. End with the invariants: `w.expectNoViolations()`. If the case fails on
//    today's code, wrap exactly the failing invariant:
//        withKnownIssue("…: lifecycle.md §7 rule N; fixed by #23") { w.expectNone(.readyCapacityKept) }
//        w.expectNoOtherViolations()
//    `withKnownIssue` fails when nothing is recorded: once the bug is fixed, remove the wrapper.
//    (A comment built with `+` must be spelled `Comment(rawValue: "…" + "…")`.) A case-specific
//    expectation that fails today (e.g. a status phase) is wrapped the same way, around that `#expect` only.
// 4. Run: `swift test --filter FunctionSequenceTests`. A violation reads
//    `step N: <object>: <what> [<invariant>]`; `w.trace()` lists the last events.
//
// Remote objects live in namespaces (InferenceClusters may set their own, hydrator.md §5): a
// remote object in the default namespace is keyed by its name, elsewhere by `<namespace>/<name>`
// (`World.remoteKey`), and a pod mounts the claim of that name in its own namespace.
//
// Simplifications, on purpose: one control-plane namespace; pods of a deleted workload are gone at once; a
// changed Job template under the same name is left as it is (Jobs are immutable); Objects report
// `Synced=True`; the provider acts within the step it is told to.

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

    /// Orders kinds as a step reconciles them, then names.
    static func < (a: XRID, b: XRID) -> Bool {
        a.kind.rawValue != b.kind.rawValue ? a.kind.rawValue < b.kind.rawValue : a.name < b.name
    }

    /// `<Kind> <namespace>/<name>`.
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

    /// An XR of `spec`, composed by `owner` if given.
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
    /// The function input (the step's `input`) each XR's Composition gives it (default: none).
    var input: (XRID) -> Value? = { _ in nil }
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
    /// Final Job failures (a FailJob exit code, or the backoff exhausted) by `<provider config>/<claim>/<revision dir>`.
    var permanentFailures: [String: (step: Int, job: String, why: String, fingerprint: String)] = [:]
    /// Creations per `<provider config>/<Job name>`.
    var jobCreations: [String: Int] = [:]
    /// The commit the hub resolves each source identity to now (default: a digest of the identity);
    /// set one to move a branch.
    var commits: [String: String] = [:]
    /// Every commit resolved so far, by the revision directory it names (what a pinned Job's
    /// `cache-revision` label points at).
    var resolvedDirs: [String: String] = [:]
    /// The commit an unpinned Job on a cluster resolves, by cluster name, over `commits` (a cluster
    /// that resolved in parallel while a branch moved).
    var clusterCommits: [String: String] = [:]
    /// Steps a finished Job's last report (Complete or Failed) takes to reach its ConfigMap
    /// (0: the same step; it may lag to show a Job Complete whose report has not arrived).
    var reportLagSteps = 0
    /// The commit the source resolves `identity` to now, in its kind's shape (sources.md): a 40-hex
    /// hub commit, an S3 listing digest (64 hex), an OCI manifest digest (`sha256:` and 64 hex).
    func commit(for identity: String) -> String {
        if let commit = commits[identity] { return commit }
        if identity.hasPrefix("s3://") { return shortDigest(identity, length: 64) }
        if identity.hasPrefix("oci://") { return "sha256:" + shortDigest(identity, length: 64) }
        return shortDigest(identity, length: 40)
    }
    /// What `staged` reads once `source` (an identity) is staged at the commit the hub resolves it to now.
    func pinned(_ source: String) -> String { ResolvedPin.identity(of: source, at: commit(for: source)) }

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
