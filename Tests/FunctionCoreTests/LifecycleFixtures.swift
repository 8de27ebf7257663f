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

    static let qwen = ArtifactSource(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: nil)
    static let qwenV2 = ArtifactSource(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "v2")

    /// The ModelCache fixture's staging for `source`.
    static func staging(_ source: ArtifactSource = qwen, retry: String? = nil) -> CacheStaging {
        CacheStaging(
            ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5", source: source, token: nil,
            labels: [:], settings: Settings(), retry: retry)
    }

    /// The Job a fresh cluster gets for `source` (nothing staged, nothing replaced).
    static func firstJob(_ source: ArtifactSource = qwen, keep: [String] = [], size: Int64 = 300) -> Value {
        let s = staging(source)
        return s.jobManifest(
            s.newJob(
                named: s.newJobName(staged: nil, replacing: nil), keep: keep, attempt: s.attempt(sizeGiB: size),
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

    /// The composed resources as the provider reports them now.
    var observed: [String: Value] {
        var out: [String: Value] = [:]
        for (key, sent) in composed {
            var object = sent
            var remote = object[path: "spec", "forProvider", "manifest"] ?? [:]
            var ready = true
            if key.hasPrefix("pvc-") {
                let bound = !unbound.contains(key)
                remote["status"] = ["phase": bound ? "Bound" : "Pending"]
                ready = bound
            } else if key.hasPrefix("hydrate-") {
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
