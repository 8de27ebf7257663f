import Testing

@testable import FunctionCore

/// The automatic (per-replica) cache follows lifecycle.md §1–§3: revision
/// directories, the staged latch in the replica's own `status.cache.staged`,
/// pods mounting the staged revision, and translated failures.
@Suite struct AutomaticCacheTests {
    /// A simulated loop for one multi-node ModelReplica with an automatic cache.
    struct ReplicaWorld {
        var model = "Qwen/Qwen2.5-7B-Instruct"
        var status: Value = .null
        var composed: [String: Value] = [:]
        /// The outcome of the Job composed now, applied when the provider next reports.
        var jobOutcome: [String: (type: String, reason: String, message: String)] = [:]
        /// The `warnings` every report carries.
        var reportWarnings: [Value] = []

        var request: RunRequest {
            var observed: [String: Value] = [:]
            for (key, sent) in composed {
                var remote = sent[path: "spec", "forProvider", "manifest"] ?? [:]
                var ready = true
                if key == "cache-pvc" { remote["status"] = ["phase": "Bound"] }
                if key == "cache-report", let job = composed["cache-hydrate"]?[path: "spec", "forProvider", "manifest"],
                    let name = job[path: "metadata", "name"]?.stringValue
                {
                    // The hydrator's report: Downloading while the Job runs, then Complete or Failed.
                    let outcome = jobOutcome[name]
                    let phase = outcome.map { $0.type } ?? "Downloading"
                    let code = outcome.flatMap { JobFailure(reason: $0.reason, message: $0.message).exitCode }
                    if outcome?.type != "Failed" || code != nil {
                        var report = JSONReader.parse(
                            Lifecycle.report(
                                job: name, source: Lifecycle.source(job),
                                commit: Lifecycle.commit(for: Lifecycle.source(job) ?? ""), phase: phase,
                                failure: code))
                        if !reportWarnings.isEmpty { report?["warnings"] = .list(reportWarnings) }
                        remote["data"] = ["report.json": .string(report?.canonicalJSON() ?? "")]
                    }
                    ready = outcome != nil
                }
                if key == "cache-hydrate", let name = remote[path: "metadata", "name"]?.stringValue {
                    if let c = jobOutcome[name] {
                        remote["status"] = Lifecycle.jobStatus(c)
                        ready = c.type == "Complete"
                    } else {
                        ready = false
                    }
                }
                // As Crossplane observes it: the spec that was applied, and the provider's status.
                var object = Fixtures.observedObject(remote, ready: ready)
                object["spec"] = sent["spec"]
                observed[key] = object
            }
            // The hydration ServiceAccount is taken as created already (the sequence harness models its
            // creation): a Job is composed in the reconcile that first needs it.
            if observed["cache-hydrate-sa"] == nil { observed["cache-hydrate-sa"] = Lifecycle.readyAccount }
            let workers = Workloads.workers(pipeline: 2, args: ["--model", .string(model), "--tensor-parallel-size=4"])
            return Fixtures.request(
                Workloads.replica(workers: workers, status: status.isNull ? nil : status),
                required: ["cluster": [Fixtures.cluster("gpu-east")]], observed: observed)
        }

        mutating func reconcile() -> RunResponse {
            let r = Composer().run(request)
            status = r.desired.composite?.object["status"] ?? .null
            composed = r.desired.resources.mapValues(\.object)
            return r
        }

        mutating func finish(_ outcome: (type: String, reason: String, message: String)) {
            if let name = composed["cache-hydrate"]?[path: "spec", "forProvider", "manifest", "metadata", "name"]?
                .stringValue
            {
                jobOutcome[name] = outcome
            }
        }

        /// The leader's engine container.
        var engine: Value? {
            engineOf(
                composed["workload"]?[
                    path: "spec", "forProvider", "manifest", "spec", "leaderWorkerTemplate", "leaderTemplate"])
        }

        var cacheMount: Value? {
            engine?["volumeMounts"]?.listValue?.first { $0["name"] == "model-cache" }
        }
    }

    static let v7 = ArtifactSource(repo: "Qwen/Qwen2.5-7B-Instruct", revision: nil)
    static let v14 = ArtifactSource(repo: "Qwen/Qwen2.5-14B-Instruct", revision: nil)

    @Test("A Complete report's warnings become one Warning naming the cluster, once")
    func warnings() {
        var w = ReplicaWorld()
        w.reportWarnings = ["a.bin: verified by size only"]
        _ = w.reconcile()
        _ = w.reconcile()
        w.finish(("Complete", "Completed", "done"))
        let staged = w.reconcile()
        #expect(w.status[path: "cache", "phase"] == "Ready")
        #expect(
            staged.results.filter { $0.reason == "StagedWithWarnings" }.map(\.message) == [
                "Staged \(Lifecycle.pinned(Self.v7)) on gpu-east with 1 warning: a.bin: verified by size only"
            ])
        #expect(w.reconcile().results.allSatisfy { $0.reason != "StagedWithWarnings" })
    }

    @Test(
        "First staging, then a --model change: the pods keep the staged revision until the new one is complete, then switch"
    )
    func updateFlow() {
        var w = ReplicaWorld()
        _ = w.reconcile()
        _ = w.reconcile()
        #expect(w.composed["workload"] == nil, "nothing is staged yet")
        #expect(w.status[path: "cache", "staged"] == nil)
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        #expect(w.status[path: "cache", "staged"] == .string(Lifecycle.pinned(Self.v7)))
        #expect(w.status[path: "cache", "phase"] == "Ready")
        #expect(w.composed["cache-hydrate"] == nil)
        #expect(w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v7))))
        #expect(w.cacheMount?["readOnly"] == true)

        w.model = "Qwen/Qwen2.5-14B-Instruct"
        let started = w.reconcile()
        #expect(w.status[path: "cache", "phase"] == "Updating")
        #expect(w.status[path: "cache", "staged"] == .string(Lifecycle.pinned(Self.v7)))
        #expect(
            w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v7))),
            "still serving the old revision")
        #expect(
            w.engine?["args"]?.listValue?.contains("--served-model-name=Qwen/Qwen2.5-7B-Instruct") == true,
            "clients are told what is actually served")
        let env =
            w.composed["cache-hydrate"]?[
                path: "spec", "forProvider", "manifest", "spec", "template", "spec", "containers"]?
            .listValue?.first?["env"]?.listValue ?? []
        #expect(env.first { $0["name"] == "MODELCACHE_SOURCE" }?["value"] == .string(Self.v14.identity))
        #expect(
            env.first { $0["name"] == "MODELCACHE_KEEP" }?["value"]
                == .string(revisionDirectory(Lifecycle.pinned(Self.v7))))
        #expect(
            started.results.map(\.message) == [
                "Automatic cache of ModelReplica ml-team/qwen-gpu-east on gpu-east: updating \(Lifecycle.pinned(Self.v7)) → \(Self.v14.identity)"
            ])

        w.finish(("Complete", "Completed", "done"))
        let switched = w.reconcile()
        #expect(w.status[path: "cache", "staged"] == .string(Lifecycle.pinned(Self.v14)))
        #expect(w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v14))))
        #expect(w.engine?["args"]?.listValue?.contains("--served-model-name=Qwen/Qwen2.5-14B-Instruct") == true)
        #expect(
            switched.results.map(\.message) == [
                "Automatic cache of ModelReplica ml-team/qwen-gpu-east on gpu-east: switched from \(Lifecycle.pinned(Self.v7)) to \(Lifecycle.pinned(Self.v14))"
            ])
    }

    @Test(
        "A failed update keeps the old revision mounted and warns once, naming the replica and the cluster and what to do"
    )
    func failedUpdate() {
        var w = ReplicaWorld()
        _ = w.reconcile()
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        w.model = "Qwen/Typo-Instruct"
        _ = w.reconcile()
        w.finish(Lifecycle.failedWith(exitCode: 10))
        let failed = w.reconcile()
        #expect(w.status[path: "cache", "phase"] == "Failed")
        #expect(w.status[path: "cache", "staged"] == .string(Lifecycle.pinned(Self.v7)))
        #expect(w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v7))))
        let warning = failed.results.filter { $0.severity == .warning }.map(\.message)
        #expect(
            warning == [
                "Automatic cache of ModelReplica ml-team/qwen-gpu-east on gpu-east: Cannot stage hf://Qwen/Typo-Instruct "
                    + "on gpu-east: the repo, revision or commit was not found; check the engine's --model argument; "
                    + "gated models need an HF_TOKEN secretKeyRef in the engine's env (then set annotation modelplane.ai/retry-hydration "
                    + "on the ModelReplica to retry); \(Lifecycle.pinned(Self.v7)) keeps serving"
            ])
        #expect(w.reconcile().results.filter { $0.severity == .warning }.isEmpty)
    }

    /// The MODELCACHE_KEEP of the automatic cache's Job composed now, if any.
    static func keepDirs(_ w: ReplicaWorld) -> String? {
        let env =
            w.composed["cache-hydrate"]?[
                path: "spec", "forProvider", "manifest", "spec", "template", "spec", "containers"]?
            .listValue?.first?["env"]?.listValue ?? []
        return env.first { $0["name"] == "MODELCACHE_KEEP" }?["value"]?.stringValue
    }

    @Test(
        "Automatic cache: a lost or garbled status.cache keeps the running pods on their revision and model name",
        arguments: [Value.null, ["cache": ["phase": "Ready", "staged": 7]], ["cache": "garbled"]])
    func automaticLatchLost(_ wiped: Value) {
        var w = ReplicaWorld()
        _ = w.reconcile()
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        #expect(w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v7))))
        let before = w.composed["workload"]

        w.status = wiped
        _ = w.reconcile()
        #expect(
            w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v7))),
            "the pods keep reading the complete revision")
        #expect(w.composed["workload"] == before, "the running workload is not changed by a lost status")
        // A pinned revision's commit cannot be read back from the workload: nothing is claimed staged
        // (lifecycle.md §7 rule 3) and a Job re-reports it, while the pods keep serving it.
        #expect(w.status[path: "cache", "staged"] == nil)
        #expect(w.status[path: "cache", "phase"] == "Hydrating")
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        #expect(w.status[path: "cache", "staged"] == .string(Lifecycle.pinned(Self.v7)), "the Job's report restores it")
        #expect(w.composed["workload"] == before, "the same revision: nothing rolls")
    }

    @Test(
        "Automatic cache: a lost status.cache during a --model change keeps the old revision mounted and out of pruning"
    )
    func automaticLatchLostDuringUpdate() {
        var w = ReplicaWorld()
        _ = w.reconcile()
        w.finish(("Complete", "Completed", "done"))
        _ = w.reconcile()
        w.model = Self.v14.repo
        w.status = .null
        _ = w.reconcile()
        #expect(
            w.cacheMount?["subPath"] == .string(revisionDirectory(Lifecycle.pinned(Self.v7))),
            "still serving the old revision")
        #expect(w.engine?["args"]?.listValue?.contains("--served-model-name=Qwen/Qwen2.5-7B-Instruct") == true)
        #expect(
            Self.keepDirs(w) == revisionDirectory(Lifecycle.pinned(Self.v7)),
            "the new Job's pruning keeps the revision the pods mount")
        #expect(
            w.status[path: "cache", "phase"] == "Hydrating",
            "nothing staged is known: the commit was in the lost status")
    }
}
