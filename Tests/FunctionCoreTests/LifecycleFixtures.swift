import Testing

@testable import FunctionCore

/// Fixtures for day-two tests: observed Jobs as the provider reports the ones
/// the function composed, Usages, and the status Crossplane writes (the
/// simulated control loop is `CacheWorld`).
enum Lifecycle {
    /// The XR status Crossplane writes from a response: the desired status plus the function's conditions.
    static func statusWritten(by r: RunResponse) -> Value {
        var s = r.desired.composite?.object["status"] ?? [:]
        s["conditions"] = .list(
            r.conditions.map { c in
                [
                    "type": .string(c.type), "status": .string(c.status == .true ? "True" : "False"),
                    "reason": .string(c.reason), "message": .string(c.message ?? ""),
                ]
            })
        return s
    }

    /// A remote Job's status with one `True` condition (`Complete` or `Failed`).
    static func jobStatus(_ c: (type: String, reason: String, message: String)) -> Value {
        [
            "conditions": [
                ["type": .string(c.type), "status": "True", "reason": .string(c.reason), "message": .string(c.message)]
            ]
        ]
    }

    /// The commit simulated Jobs resolve.
    static let commit = "3f1c2a7b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
    /// Another commit (a cluster that resolved in parallel, or after a refresh).
    static let otherCommit = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"

    /// The commit simulated Jobs resolve `source` (an identity) to: `commit` for `qwen`, a digest
    /// of the identity for any other, so two sources never share a commit by accident.
    static func commit(for source: String) -> String {
        source == qwen.identity ? commit : shortDigest(source, length: 40)
    }

    /// `source` pinned at `commit` (by default the one simulated Jobs resolve it to): what
    /// `staged` reads once a Job's Complete report arrived.
    static func pinned(_ source: ArtifactSource = qwen, _ commit: String? = nil) -> String {
        ResolvedPin.identity(of: source.identity, at: commit ?? Self.commit(for: source.identity))
    }

    /// The source a Job manifest stages (`MODELCACHE_SOURCE`, or the previous `MODEL_REPO`/`MODEL_REVISION`).
    static func source(_ job: Value) -> String? {
        let env = job[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?.listValue ?? []
        func value(_ name: String) -> String? {
            env.first { $0["name"]?.stringValue == name }?["value"]?.stringValue
        }
        if let source = value("MODELCACHE_SOURCE") { return source }
        guard let repo = value("MODEL_REPO") else { return nil }
        return "hf://\(repo)" + (value("MODEL_REVISION").map { "@\($0)" } ?? "")
    }

    /// A report as the hydrator writes it (compact JSON), for the Job `job`.
    static func report(
        job: String, source: String?, commit: String?, phase: String, failure: Int64? = nil,
        reason: String? = nil, message: String = "", total: Int64 = 152_471_339_008, done: Int64? = nil,
        startedAt: String = "2026-12-06T08:00:00Z"
    ) -> String {
        var o: Value = [
            "version": 1, "job": .string(job), "phase": .string(phase), "totalBytes": .int(total),
            "doneBytes": .int(done ?? (phase == "Downloading" ? total / 4 : total)), "files": 12,
            "filesDone": .int(phase == "Downloading" ? 3 : 12), "verifiedFiles": 3, "bytesPerSecond": 220_200_960,
            "startedAt": .string(startedAt), "updatedAt": "2026-12-06T08:10:00Z",
        ]
        if let source { o["source"] = .string(source) }
        if let commit {
            o["commit"] = .string(commit)
            o["dir"] = .string(revisionDirectory(ResolvedPin.identity(of: source ?? "hf://x", at: commit)))
        }
        if phase == "Complete" || phase == "Failed" { o["completedAt"] = "2026-12-06T08:20:00Z" }
        if let failure {
            let reasons: [Int64: String] = [2: "BadInput", 10: "NotFound", 11: "DoesNotFit", 12: "ChecksumMismatch"]
            o["failure"] = [
                "code": .int(failure), "reason": .string(reason ?? reasons[failure] ?? "Transient"),
                "message": .string(message),
            ]
        }
        return o.canonicalJSON()
    }

    static let qwen = ArtifactSource(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: nil)
    static let qwenV2 = ArtifactSource(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "v2")

    /// The ModelCache fixture's staging for `source`.
    static func staging(_ source: ArtifactSource = qwen, retry: String? = nil) -> CacheStaging {
        CacheStaging(
            ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5", source: .huggingFace(source), token: nil,
            labels: [:], settings: Settings(), retry: retry)
    }

    /// The Job a fresh cluster gets for `source` (nothing staged, nothing replaced, no pin yet, epoch `0.0`).
    static func firstJob(_ source: ArtifactSource = qwen, keep: [String] = [], size: Int64 = 300) -> Value {
        let s = staging(source)
        var job = s.newJob(
            named: s.newJobName(staged: nil, replacing: nil), keep: keep, attempt: s.attempt(sizeGiB: size),
            claimBytes: HydrationJob.claimBytes(sizeGiB: size))
        job.epoch = "0.0"
        return s.jobManifest(job)
    }

    /// The same Job as the previous release composed it: labelled by revision only, no intent, no report.
    static func legacyJob(_ source: ArtifactSource = qwen, size: Int64 = 300) -> Value {
        let s = staging(source)
        return s.jobManifest(
            s.newJob(
                named: s.newJobName(staged: nil, replacing: nil), keep: [], attempt: s.attempt(sizeGiB: size),
                claimBytes: HydrationJob.claimBytes(sizeGiB: size)))
    }

    /// An observed Job Object holding `manifest`, with one condition (`Complete`,
    /// or `Failed` with reason and message) or running.
    static func observedJob(_ manifest: Value, _ condition: (type: String, reason: String, message: String)? = nil)
        -> Value
    {
        var remote = manifest
        remote["status"] = ["active": 1]
        if let c = condition {
            remote["status"] = [
                "conditions": [
                    [
                        "type": .string(c.type), "status": "True",
                        "reason": .string(c.reason), "message": .string(c.message),
                    ]
                ]
            ]
        }
        return Fixtures.observedObject(remote, ready: condition?.type == "Complete")
    }

    /// The hydration ServiceAccount's Object as the provider reports it once created: Ready.
    static let readyAccount = Fixtures.observedObject(["apiVersion": "v1", "kind": "ServiceAccount"], ready: true)

    /// The keys of the four report objects of an automatic cache.
    static let automaticReportKeys = [
        "cache-hydrate-role", "cache-hydrate-rolebinding", "cache-hydrate-sa", "cache-report",
    ]

    /// The keys of the four report objects of a ModelCache on `cluster`.
    static func reportKeys(_ cluster: String) -> [String] {
        ["hydrate-role-\(cluster)", "hydrate-rolebinding-\(cluster)", "hydrate-sa-\(cluster)", "report-\(cluster)"]
    }

    /// The observed report ConfigMap Object holding `report` (nil: created, nothing written yet).
    static func observedReport(_ report: String?) -> Value {
        var remote: Value = ["apiVersion": "v1", "kind": "ConfigMap"]
        if let report { remote["data"] = ["report.json": .string(report)] }
        let done = report.map { $0.contains(#""phase":"Complete""#) || $0.contains(#""phase":"Failed""#) } ?? false
        return Fixtures.observedObject(remote, ready: done)
    }

    /// The observed report of the Job `manifest` after it completed at `commit`.
    static func completeReport(_ manifest: Value, commit: String? = nil) -> Value {
        observedReport(
            report(
                job: manifest[path: "metadata", "name"]?.stringValue ?? "", source: source(manifest),
                commit: commit ?? Self.commit(for: source(manifest) ?? ""), phase: "Complete"))
    }

    /// The `Failed` condition Kubernetes writes when a podFailurePolicy FailJob rule matches.
    static func failedWith(exitCode: Int) -> (type: String, reason: String, message: String) {
        (
            "Failed", "PodFailurePolicy",
            "Container hydrate for pod default/x-abcde failed with exit code \(exitCode) matching FailJob rule at index 0"
        )
    }

    /// A Usage of the cache by a replica on `cluster`, mounting `revision`.
    static func usage(_ replica: String, cluster: String, revision: String, cache: String = "qwen-2-5") -> Value {
        [
            "apiVersion": "protection.crossplane.io/v1beta1", "kind": "Usage",
            "metadata": [
                "name": .string("\(replica)-usage"), "namespace": "ml-team",
                "labels": [
                    "modelplane.ai/modelcache": .string(labelValue(cache)),
                    "modelplane.ai/cluster": .string(labelValue(cluster)),
                    "modelplane.ai/cache-revision": .string(revision),
                ],
            ],
            "spec": ["replayDeletion": true],
        ]
    }

    /// An observed XR status: `(cluster, phase, staged)` entries for `source`, and optionally `ArtifactReady`.
    static func status(
        _ entries: [(String, String, String?)], source: String = qwen.identity,
        artifactReady: (String, String)? = nil
    ) -> Value {
        var s: Value = [
            "clusters": .list(
                entries.map { e in
                    var o: Value = ["name": .string(e.0), "phase": .string(e.1), "source": .string(source)]
                    if let staged = e.2 { o["staged"] = .string(staged) }
                    return o
                })
        ]
        if let a = artifactReady {
            s["conditions"] = [["type": "ArtifactReady", "status": .string(a.0), "reason": .string(a.1)]]
        }
        return s
    }

    /// An observed claim Object as composed by the function on `providerConfig`, Bound.
    static func observedClaim(providerConfig: String, storageClass: String = "fast-rwx", size: String = "300Gi")
        -> Value
    {
        var object = staging().claimObject(
            providerConfig: providerConfig,
            claim: staging().claimManifest(storageClass: storageClass, size: size))
        object["status"] = [
            "atProvider": [
                "manifest": ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": ["phase": "Bound"]]
            ],
            "conditions": [["type": "Ready", "status": "True", "reason": "Available"]],
        ]
        return object
    }
}

/// A simulated control loop for one ModelCache: each `reconcile()` sends the
/// function what Crossplane would (the XR with the status it wrote last time,
/// the composed resources it observes) and applies the answer.
struct CacheWorld {
    var spec: Value = Fixtures.defaultSpec
    var annotations: [String: String] = [:]
    /// The XR's `metadata.generation` (bumped by the API server on every spec change).
    var generation: Int64 = 1
    var clusters: [Value]
    var usages: [Value] = []
    /// The XR status as written by the last reconcile.
    var status: Value = .null
    /// The composed resources as last sent (desired state Crossplane applied).
    var composed: [String: Value] = [:]
    /// How each hydration Job (by `<cluster>/<job name>`) ends; absent means still running.
    var jobOutcome: [String: (type: String, reason: String, message: String)] = [:]
    /// Claims that are not bound yet.
    var unbound: Set<String> = []
    /// Other required resources (e.g. the token Secret) and the step input.
    var required: [String: [Value]] = [:]
    var input: Value?

    init(clusters: [Value]) { self.clusters = clusters }

    var xr: Value {
        var xr = Fixtures.modelCache(spec: spec, status: status.isNull ? nil : status)
        if !annotations.isEmpty {
            xr["metadata"]?["annotations"] = .object(Fields(annotations.mapValues(Value.string)))
        }
        xr["metadata"]?["generation"] = .int(generation)
        return xr
    }

    /// Whether every cluster's hydration ServiceAccount is taken as created already, so a Job is
    /// composed in the reconcile that first needs it (the sequence harness models its creation;
    /// tests of that gate turn this off).
    var accountsReady = true

    /// The composed resources as the provider reports them now.
    var observed: [String: Value] {
        var out: [String: Value] = [:]
        if accountsReady {
            for c in clusters {
                if let name = c[path: "metadata", "name"]?.stringValue {
                    out["hydrate-sa-\(name)"] = Lifecycle.readyAccount
                }
            }
        }
        for (key, sent) in composed {
            var object = sent
            var remote = object[path: "spec", "forProvider", "manifest"] ?? [:]
            var ready = true
            if key.hasPrefix("report-") {
                let cluster = String(key.dropFirst("report-".count))
                if let report = report(cluster) { remote["data"] = ["report.json": .string(report)] }
                ready = jobName(cluster).flatMap { jobOutcome["\(cluster)/\($0)"] } != nil
            } else if Self.reportObjectPrefixes.contains(where: key.hasPrefix) {
                ready = true
            } else if key.hasPrefix("pvc-") {
                let bound = !unbound.contains(key)
                remote["status"] = ["phase": bound ? "Bound" : "Pending"]
                ready = bound
            } else if isJobKey(key) {
                let name = remote[path: "metadata", "name"]?.stringValue ?? ""
                if let c = jobOutcome["\(key.dropFirst("hydrate-".count))/\(name)"] {
                    remote["status"] = Lifecycle.jobStatus(c)
                    ready = c.type == "Complete"
                } else {
                    remote["status"] = ["active": 1]
                    ready = false
                }
            }
            object["status"] = [
                "atProvider": ["manifest": remote],
                "conditions": [["type": "Ready", "status": ready ? "True" : "False", "reason": "x"]],
            ]
            out[key] = object
        }
        return out
    }

    /// The keys of the hydration ServiceAccount, Role and RoleBinding Objects (ready once composed).
    static let reportObjectPrefixes = ["hydrate-sa-", "hydrate-role-", "hydrate-rolebinding-"]

    /// The commit each cluster's Job resolves (default `Lifecycle.commit`).
    var commits: [String: String] = [:]
    /// Reports written as they are, by cluster (a stale or hostile one); overrides the simulated one.
    var reports: [String: String] = [:]
    /// Clusters whose Job completes without its report reaching the function yet.
    var reportLate: Set<String> = []

    /// The report the Job on `cluster` wrote, as the hydrator writes it: Downloading while it
    /// runs, Complete with the commit, or Failed with the exit code Kubernetes names.
    func report(_ cluster: String) -> String? {
        if let written = reports[cluster] { return written }
        guard let name = jobName(cluster), !reportLate.contains(cluster) else { return nil }
        let source = composed["hydrate-\(cluster)"]?[path: "spec", "forProvider", "manifest"].flatMap(Lifecycle.source)
        let commit = commits[cluster] ?? Lifecycle.commit(for: source ?? "")
        guard let outcome = jobOutcome["\(cluster)/\(name)"] else {
            return Lifecycle.report(job: name, source: source, commit: commit, phase: "Downloading")
        }
        if outcome.type == "Complete" {
            return Lifecycle.report(job: name, source: source, commit: commit, phase: "Complete")
        }
        let code = JobFailure(reason: outcome.reason, message: outcome.message).exitCode
        guard let code else { return nil }
        return Lifecycle.report(job: name, source: source, commit: commit, phase: "Failed", failure: code)
    }

    /// The Job name composed for `cluster` by the last reconcile, if any.
    func jobName(_ cluster: String) -> String? {
        composed["hydrate-\(cluster)"]?[path: "spec", "forProvider", "manifest", "metadata", "name"]?.stringValue
    }

    /// Ends the Job currently composed on `cluster` (nil: running again, as a re-created Job).
    mutating func finish(_ cluster: String, _ outcome: (type: String, reason: String, message: String)?) {
        if let name = jobName(cluster) { jobOutcome["\(cluster)/\(name)"] = outcome }
    }

    /// The request Crossplane sends now.
    var request: RunRequest {
        Fixtures.request(
            xr, clusters: clusters, required: required.merging(["consumers": usages]) { $1 }, observed: observed,
            input: input)
    }

    /// One request/response round, applying desired state as Crossplane would.
    @discardableResult
    mutating func reconcile() -> RunResponse {
        let request = self.request
        let r = Composer().run(request)
        #expect(Composer().run(request) == r, "the same request gives the same response")
        status = Lifecycle.statusWritten(by: r)
        composed = r.desired.resources.mapValues(\.object)
        return r
    }

    /// The status entry for `cluster`.
    func entry(_ cluster: String) -> Value? {
        status["clusters"]?.listValue?.first { $0["name"]?.stringValue == cluster }
    }
}

/// Whether a composed resource key holds a ModelCache's hydration Job (`hydrate-<cluster>`),
/// not its ServiceAccount, Role or RoleBinding (`hydrate-sa-…`, `hydrate-role-…`, `hydrate-rolebinding-…`).
func isJobKey(_ key: String) -> Bool {
    key.hasPrefix("hydrate-") && !CacheWorld.reportObjectPrefixes.contains(where: key.hasPrefix)
}
