import Testing

@testable import FunctionCore

/// What a replica's pods may mount, and what it says about it: every revision
/// until the rollout is over (lifecycle.md §7 rule 1), make-before-break cache
/// switches (rule 2), no CacheReady=True without a staged revision (rule 3),
/// and what the cache's status says echoed (rule 8).
@Suite struct ServedRevisionsTests {
    static let v1 = "hf://Qwen/Qwen2.5-0.5B-Instruct@v1"
    static let v2 = "hf://Qwen/Qwen2.5-0.5B-Instruct@v2"

    func run(
        _ phase: String, staged: String?, ref: String = "qwen-2-5", cacheName: String = "qwen-2-5",
        observed: [String: Value] = [:]
    ) -> RunResponse {
        let cache = Workloads.cache(
            phases: [("gpu-east", phase)], staged: staged.map { ["gpu-east": $0] } ?? [:], name: cacheName)
        return Composer().run(
            Fixtures.request(
                Workloads.replica(cache: ref), required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]],
                observed: observed))
    }

    /// The workload Object `r` composed, as provider-kubernetes observes it: the remote
    /// Deployment with `status` (nil: not observed yet).
    func observed(_ r: RunResponse, status: Value?) -> Value {
        var o = r.desired.resources["workload"]!.object
        var remote = o[path: "spec", "forProvider", "manifest"]!
        remote["metadata"]?["generation"] = 2
        if let status { remote["status"] = status }
        o["status"] = ["atProvider": ["manifest": remote], "conditions": [["type": "Ready", "status": "True"]]]
        return o
    }

    /// The Usage `r` composed under `key`, as Crossplane observes it.
    func observedUsage(_ r: RunResponse, _ key: String = "usage-modelcache") -> Value {
        var o = r.desired.resources[key]!.object
        o["status"] = ["conditions": [["type": "Ready", "status": "True"]]]
        return o
    }

    static let complete: Value = [
        "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
    ]

    /// An observed workload status and whether the rollout it shows is complete.
    struct Rollout: Sendable, CustomTestStringConvertible {
        let name: String
        let kind: String
        let status: Value
        let complete: Bool
        let reason: String
        var testDescription: String { name }
    }

    @Test(
        "The kubectl rollout status rule decides when earlier pods are gone",
        arguments: [
            Rollout(
                name: "DeploymentComplete", kind: "Deployment", status: complete, complete: true,
                reason: "Every pod is of the current template and available"),
            Rollout(
                name: "SurgePodOfOldTemplate", kind: "Deployment",
                status: ["observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2],
                complete: false, reason: "A surge pod of the old template still runs"),
            Rollout(
                name: "NewPodsNotAvailable", kind: "Deployment",
                status: ["observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1],
                complete: false, reason: "An old pod may still serve while a new one starts"),
            Rollout(
                name: "GenerationNotObserved", kind: "Deployment",
                status: ["observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2],
                complete: false, reason: "The controller has not seen the new template yet"),
            Rollout(
                name: "NoStatus", kind: "Deployment", status: [:], complete: false,
                reason: "Nothing observed says the old pods are gone"),
            Rollout(
                name: "LWSComplete", kind: "LeaderWorkerSet",
                status: [
                    "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                    "conditions": [["type": "Available", "status": "True"]],
                ], complete: true, reason: "Every group is updated and ready, and the set is Available"),
            Rollout(
                name: "LWSGroupNotReady", kind: "LeaderWorkerSet",
                status: [
                    "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1,
                    "conditions": [["type": "Available", "status": "True"]],
                ], complete: false, reason: "A group of the old template may still serve"),
            Rollout(
                name: "LWSNotAvailable", kind: "LeaderWorkerSet",
                status: [
                    "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                    "conditions": [["type": "Available", "status": "False"]],
                ], complete: false, reason: "The set is not Available"),
        ])
    func rolloutComplete(_ c: Rollout) {
        let manifest: Value = [
            "kind": .string(c.kind), "metadata": ["generation": 2], "spec": ["replicas": 2], "status": c.status,
        ]
        #expect(RunningWorkload.rolloutComplete(manifest) == c.complete, "\(c.reason)")
    }

    @Test("During a rollout the Usage and status list the old and the new revision; once complete only the new")
    func revisionsUntilRolledOut() throws {
        let first = run("Ready", staged: Self.v1)
        let rolling = observed(first, status: ["observedGeneration": 2, "replicas": 4, "updatedReplicas": 2])
        let second = run(
            "Ready", staged: Self.v2, observed: ["workload": rolling, "usage-modelcache": observedUsage(first)])
        let both = [revisionDirectory(Self.v1), revisionDirectory(Self.v2)].sorted()
        let usage = second.desired.resources["usage-modelcache"]?.object
        #expect(
            usage?[path: "metadata", "annotations", "modelplane.ai/cache-revisions"]
                == .string(both.joined(separator: " ")))
        #expect(
            usage?[path: "metadata", "labels", "modelplane.ai/cache-revision"] == .string(revisionDirectory(Self.v2)))
        #expect(second.desired.composite?.object[path: "status", "cache", "revisions"] == .list(both.map(Value.string)))

        // The next reconcile observes the new template still rolling: the old revision is remembered.
        let third = run(
            "Ready", staged: Self.v2,
            observed: [
                "workload": observed(second, status: ["observedGeneration": 2, "replicas": 4, "updatedReplicas": 2]),
                "usage-modelcache": observedUsage(second),
            ])
        #expect(
            third.desired.resources["usage-modelcache"]?.object[
                path: "metadata", "annotations", "modelplane.ai/cache-revisions"]
                == .string(both.joined(separator: " ")))

        // Rollout complete: only the new revision.
        let done = run(
            "Ready", staged: Self.v2,
            observed: ["workload": observed(second, status: Self.complete), "usage-modelcache": observedUsage(third)])
        #expect(
            done.desired.resources["usage-modelcache"]?.object[
                path: "metadata", "annotations", "modelplane.ai/cache-revisions"] == .string(revisionDirectory(Self.v2))
        )
    }

    @Test("A switched cache: the old claim and revision until the new one is staged, then one rollout")
    func cacheSwitch() throws {
        let onA = run("Ready", staged: Self.v1, ref: "cache-a", cacheName: "cache-a")
        let observedA = ["workload": observed(onA, status: Self.complete), "usage-modelcache": observedUsage(onA)]
        let waiting = run("Hydrating", staged: nil, ref: "cache-b", cacheName: "cache-b", observed: observedA)
        #expect(manifest(waiting, "workload") == manifest(onA, "workload"), "the running workload is unchanged")
        let ready = try #require(cond(waiting, "CacheReady"))
        #expect(ready.status == .false)
        #expect(ready.reason == "Switching")
        #expect(
            ready.message
                == "Serving cache cache-a \(revisionDirectory(Self.v1)) while cache cache-b stages on gpu-east "
                + "(phase Hydrating); the pods switch once it is staged there")
        #expect(
            waiting.desired.resources["usage-modelcache"]?.object[path: "spec", "of", "resourceRef", "name"]
                == "cache-b")
        let previous = waiting.desired.resources["usage-modelcache-previous"]?.object
        #expect(previous?[path: "spec", "of", "resourceRef", "name"] == "cache-a")
        #expect(
            previous?[path: "metadata", "labels", "modelplane.ai/cache-revision"] == .string(revisionDirectory(Self.v1))
        )

        // cache-b staged: the pods switch to its claim and revision in one rollout; cache-a's Usage stays.
        let switched = run(
            "Ready", staged: Self.v2, ref: "cache-b", cacheName: "cache-b",
            observed: [
                "workload": observed(onA, status: Self.complete), "usage-modelcache": observedUsage(waiting),
                "usage-modelcache-previous": observedUsage(waiting, "usage-modelcache-previous"),
            ])
        let volumes = manifest(switched, "workload")?[path: "spec", "template", "spec", "volumes"]
        #expect(
            volumes?.listValue?.last?[path: "persistentVolumeClaim", "claimName"]
                == .string(CacheStaging.claimName(ownerKind: "modelcache", namespace: "ml-team", name: "cache-b")))
        #expect(cond(switched, "CacheReady")?.status == .true)
        #expect(switched.desired.resources["usage-modelcache-previous"] != nil, "old pods still read cache-a")

        // The rollout completes: cache-a's Usage goes.
        let done = run(
            "Ready", staged: Self.v2, ref: "cache-b", cacheName: "cache-b",
            observed: [
                "workload": observed(switched, status: Self.complete), "usage-modelcache": observedUsage(switched),
                "usage-modelcache-previous": observedUsage(switched, "usage-modelcache-previous"),
            ])
        #expect(done.desired.resources["usage-modelcache-previous"] == nil)
    }

    @Test("A cache reference removed: the old cache's Usage stays until the rollout that unmounts it completes")
    func cacheRemoved() throws {
        let onA = run("Ready", staged: Self.v1, ref: "cache-a", cacheName: "cache-a")
        func withoutCache(_ observed: [String: Value]) -> RunResponse {
            Composer().run(
                Fixtures.request(
                    Workloads.replica(), required: ["cluster": [Fixtures.cluster("gpu-east")]], observed: observed))
        }
        // The reference goes; the running pods still mount cache-a.
        let first = withoutCache([
            "workload": observed(onA, status: Self.complete), "usage-modelcache": observedUsage(onA),
        ])
        let kept = try #require(first.desired.resources["usage-modelcache"]?.object, "old pods still read cache-a")
        #expect(kept[path: "spec", "of", "resourceRef", "name"] == "cache-a")
        #expect(
            kept[path: "metadata", "annotations", "modelplane.ai/cache-revisions"]
                == .string(revisionDirectory(Self.v1)))

        // The new template (no cache) rolls out: old pods may still run, so the Usage stays.
        let rolling: Value = ["observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 2]
        let during = withoutCache([
            "workload": observed(first, status: rolling), "usage-modelcache": observedUsage(first),
        ])
        #expect(during.desired.resources["usage-modelcache"] != nil, "the rollout is not complete")

        // The rollout completes: nothing mounts cache-a, and its Usage goes.
        let done = withoutCache([
            "workload": observed(first, status: Self.complete), "usage-modelcache": observedUsage(during),
        ])
        #expect(done.desired.resources["usage-modelcache"] == nil)
    }

    /// A cache phase with nothing staged, and the CacheReady reason it gives.
    struct NothingStaged: Sendable, CustomTestStringConvertible {
        let name: String
        let phase: String
        let reason: String
        var testDescription: String { name }
    }

    @Test(
        "No staged revision, no CacheReady=True; the running workload is kept unchanged",
        arguments: [
            NothingStaged(name: "Pending", phase: "Pending", reason: "Pending"),
            NothingStaged(name: "Hydrating", phase: "Hydrating", reason: "Hydrating"),
            NothingStaged(name: "ReadyButNothingStaged", phase: "Ready", reason: "NotStaged"),
            NothingStaged(name: "Failed", phase: "Failed", reason: "Failed"),
            NothingStaged(name: "UnknownPhase", phase: "Bogus phase", reason: "Unknown"),
        ])
    func nothingStaged(_ c: NothingStaged) throws {
        let running = run("Ready", staged: Self.v1)
        // An empty `staged` is nothing staged (the fixture would otherwise stage the source on a Ready cluster).
        let r = run(c.phase, staged: "", observed: ["workload": observed(running, status: Self.complete)])
        let ready = try #require(cond(r, "CacheReady"))
        #expect(ready.status == .false)
        #expect(ready.reason == c.reason)
        #expect(manifest(r, "workload") == manifest(running, "workload"))
    }

    @Test("A 100 KB phase with control characters is not passed on: status and conditions say Unknown")
    func echoedPhase() throws {
        let phase = String(repeating: "x\n\u{1b}[31m", count: 12_800)
        let r = run(phase, staged: Self.v1)
        let status = try #require(r.desired.composite?.object[path: "status", "cache", "phase"]?.stringValue)
        // Phases are typed (one status entry type): a string that is no phase never reaches status.
        #expect(status == "Unknown")
        let ready = try #require(cond(r, "CacheReady"))
        #expect(ready.reason == "Unknown")
        #expect(!(ready.message ?? "").contains("\n"))
        #expect((ready.message ?? "").unicodeScalars.count < 2 * echoLimit)
    }
}
