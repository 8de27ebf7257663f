import FunctionCore
import Testing

/// hydrator.md §2 and §4 driven through whole reconcile sequences: the report
/// reaches status, the pin fans out, a refresh moves it, failures say what the
/// report says, and only the current Job's Complete report makes a cluster Ready.
@Suite struct HydratorSequenceCases {
    static let source = "hf://\(Build.repo)"

    /// The cache's status.
    static func status(_ w: World, _ cache: String = "qwen-2-5") -> Value { w.xrs[.cache(cache)]?.status ?? .null }

    @Test("A cluster downloading shows progress in numbers and in its message, and the summary its bytes in flight")
    func downloading() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { _ in .complete(after: 4) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "progress in status") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["progress"] != nil }
        let entry = w.entry(cache: "qwen-2-5", cluster: "gpu-east")
        #expect(entry?["phase"] == "Hydrating")
        #expect(entry?[path: "progress", "totalBytes"] == .int(16 << 30))
        let commit = String(w.commit(for: Self.source).prefix(7))
        #expect(
            entry?["message"]?.stringValue?.hasPrefix("Downloading \(Build.repo)@\(commit): 2.0 of 16.0 GiB (12 %)")
                == true, "\(entry?["message"] ?? .null)")
        #expect(Self.status(w)[path: "summary", "inFlightBytes"] == .int(14 << 30))
        w.run(until: "Ready") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready" }
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["progress"] == nil, "no progress once staged")
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["stagedAt"] != nil)
        #expect(Self.status(w)[path: "summary", "stagedBytes"] == .int(16 << 30))
        w.expectNoViolations()
    }

    @Test("The pin arrives from the first report and fans out: every cluster stages that commit, later Jobs carry it")
    func pinFansOut() {
        var w = World(clusters: ["gpu-a", "gpu-b", "gpu-c"].map { Build.cluster($0) })
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "the pin") { Self.status($0)[path: "resolved", "commit"] != nil }
        let commit = w.commit(for: Self.source)
        #expect(
            Self.status(w)["resolved"] == ["source": .string(Self.source), "commit": .string(commit), "epoch": 0])
        w.run(until: "Ready everywhere") { w in
            ["gpu-a", "gpu-b", "gpu-c"].allSatisfy { w.entry(cache: "qwen-2-5", cluster: $0)?["phase"] == "Ready" }
        }
        for c in ["gpu-a", "gpu-b", "gpu-c"] {
            #expect(w.entry(cache: "qwen-2-5", cluster: c)?["staged"] == .string(w.pinned(Self.source)))
        }
        // A cluster that joins after the pin gets a Job pinned to that commit.
        w.clusters["gpu-d"] = Build.cluster("gpu-d")
        w.commits[Self.source] = String(repeating: "e", count: 40)  // the branch moved since: the pin holds
        w.run(until: "gpu-d's Job") { $0.xrs[.cache("qwen-2-5")]?.composed["hydrate-gpu-d"] != nil }
        let job = w.xrs[.cache("qwen-2-5")]?.composed["hydrate-gpu-d"]?.object[path: "spec", "forProvider", "manifest"]
        let pinned = ResolvedPin.identity(of: Self.source, at: commit)
        #expect(job?[path: "metadata", "labels", CacheStaging.revisionLabel] == .string(revisionDirectory(pinned)))
        w.run(until: "gpu-d Ready") { $0.entry(cache: "qwen-2-5", cluster: "gpu-d")?["phase"] == "Ready" }
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-d")?["staged"] == .string(pinned), "the pinned commit")
        w.expectNoViolations()
    }

    @Test("A cluster that resolved another commit before the pin is updated to the pinned commit, side by side")
    func otherCommitUpdated() {
        var w = World(clusters: [Build.cluster("gpu-east"), Build.cluster("gpu-west")])
        w.startupSteps = 2
        let other = String(repeating: "b", count: 40)
        w.clusterCommits["gpu-west"] = other
        w.hydration = { $0.cluster == "gpu-west" && $0.run == 1 ? .complete(after: 3) : .complete() }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.replica("west"), spec: Build.replicaSpec(cluster: "gpu-west", cache: "qwen-2-5"))
        w.run(until: "gpu-west staged the other commit") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-west")?["staged"]
                == .string(ResolvedPin.identity(of: Self.source, at: other))
        }
        #expect(Self.status(w)[path: "resolved", "commit"] == .string(w.commit(for: Self.source)), "gpu-east's commit")
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-west")?["phase"] == "Updating")
        w.clusterCommits = [:]
        w.run(until: "gpu-west Ready at the pinned commit") {
            $0.entry(cache: "qwen-2-5", cluster: "gpu-west")?["phase"] == "Ready"
        }
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-west")?["staged"] == .string(w.pinned(Self.source)))
        w.run(until: "the replica serves the pinned commit") { $0.xrs[.replica("west")]?.isReady == true }
        w.expectNoViolations()
    }

    @Test("modelplane.ai/refresh-revision moves the pin to the branch's new commit; every cluster updates side by side")
    func refresh() {
        var w = World(clusters: [Build.cluster("gpu-east"), Build.cluster("gpu-west")])
        w.startupSteps = 2
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen-2-5"))
        w.run(until: "the replica serves") { $0.xrs[.replica("solo")]?.isReady == true }
        let before = w.pinned(Self.source)
        w.commits[Self.source] = String(repeating: "c", count: 40)
        w.step(2)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["staged"] == .string(before), "no refresh, no move")
        w.xrs[.cache("qwen-2-5")]?.annotations[CacheStaging.refreshAnnotation] = "2026-12-06"
        w.run(until: "the new pin everywhere") { w in
            ["gpu-east", "gpu-west"].allSatisfy {
                w.entry(cache: "qwen-2-5", cluster: $0)?["staged"] == .string(w.pinned(Self.source))
            } && !w.rollingOut("solo", on: "gpu-east") && w.xrs[.replica("solo")]?.isReady == true
        }
        #expect(
            Self.status(w)["resolved"] == [
                "source": .string(Self.source), "commit": .string(String(repeating: "c", count: 40)),
                "refresh": "2026-12-06", "epoch": 1,
            ])
        w.expectNoViolations()
    }

    @Test(
        "Size (exit 11) and checksum (exit 12) failures latch with the report's code and reason and say what to do",
        arguments: [
            (11, "DoesNotFit", "does not fit"), (12, "ChecksumMismatch", "did not match the hub's checksum twice"),
        ])
    func reportedFailure(_ code: Int, _ reason: String, _ says: String) {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { _ in .fail(exitCode: code) }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "Failed") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Failed" }
        let entry = w.entry(cache: "qwen-2-5", cluster: "gpu-east")
        #expect(entry?[path: "failure", "code"] == .int(Int64(code)))
        #expect(entry?[path: "failure", "reason"] == .string(reason))
        #expect(entry?["message"]?.stringValue?.contains(says) == true, "\(entry?["message"] ?? .null)")
        w.step(2 * w.ttlSteps + 2)
        #expect(w.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Failed")
        w.expectNoViolations()
    }

    @Test("A stale report of an older Job in the shared ConfigMap is ignored")
    func staleReportIgnored() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { _ in .running }
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "a Job runs") { $0.xrs[.cache("qwen-2-5")]?.composed["hydrate-gpu-east"] != nil }
        w.step()
        // An older Job's Complete report lands in the ConfigMap the current Job shares.
        let pc = Build.providerConfig("gpu-east")
        let configMap = World.reportConfigMap(owner: .cache("qwen-2-5"))
        let stale: Value = [
            "version": 1, "job": "modelcache-ml-team-qwen-2-5-hydrate-000000-00000", "phase": "Complete",
            "source": .string(Self.source), "commit": .string(String(repeating: "d", count: 40)), "totalBytes": 1,
            "doneBytes": 1, "completedAt": "2026-12-06T07:00:00Z",
        ]
        w.remotes[pc]?.others["ConfigMap/\(configMap)"]?["data"] = ["report.json": .string(stale.canonicalJSON())]
        w.reconcile(.cache("qwen-2-5"))
        let entry = w.entry(cache: "qwen-2-5", cluster: "gpu-east")
        #expect(entry?["phase"] == "Hydrating")
        #expect(entry?["staged"] == nil, "not staged from another Job's report")
        #expect(
            Self.status(w)[path: "resolved", "commit"] == .string(w.commit(for: Self.source)),
            "the pin comes from the current Job's report, never from another Job's")
        w.expectNoViolations()
    }

    @Test("A Job Complete whose report has not arrived yet is not Ready; its Job and report objects stay until it does")
    func completeBeforeReport() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.reportLagSteps = 2
        w.add(.cache("qwen-2-5"), spec: Build.cacheSpec())
        w.run(until: "the Job is Complete") { w in
            w.remotes[Build.providerConfig("gpu-east")]?.jobs.values.contains { $0.condition?["type"] == "Complete" }
                == true
        }
        w.step()
        let entry = w.entry(cache: "qwen-2-5", cluster: "gpu-east")
        #expect(entry?["phase"] == "Hydrating")
        #expect(entry?["message"]?.stringValue?.hasSuffix("completed; waiting for the hydrator's report") == true)
        let composed = w.xrs[.cache("qwen-2-5")]?.composed.keys.sorted() ?? []
        #expect(composed.contains("hydrate-gpu-east") && composed.contains("report-gpu-east"))
        w.run(until: "Ready from the report") { $0.entry(cache: "qwen-2-5", cluster: "gpu-east")?["phase"] == "Ready" }
        #expect(w.xrs[.cache("qwen-2-5")]?.composed.keys.sorted() == ["pvc-gpu-east"], "the Job and the four leave")
        w.expectNoViolations()
    }

    @Test("An automatic cache pins its own first commit (status.cache.resolved): once Ready it stays Ready, no new Job")
    func automaticCachePinsItself() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.add(
            .replica("gang"),
            spec: Build.replicaSpec(
                cluster: "gpu-east", workers: Build.workers(pipeline: 2, model: "Qwen/Qwen2.5-0.5B-Instruct")))
        w.run(until: "the gang serves") { $0.xrs[.replica("gang")]?.isReady == true }
        let source = "hf://Qwen/Qwen2.5-0.5B-Instruct"
        let cache = w.xrs[.replica("gang")]?.status["cache"]
        #expect(cache?["staged"] == .string(w.pinned(source)))
        #expect(cache?[path: "resolved", "commit"] == .string(w.commit(for: source)))
        let created = w.jobCreations
        w.step(2 * w.ttlSteps + 2)
        #expect(w.jobCreations == created, "no Job once Ready")
        #expect(w.xrs[.replica("gang")]?.status[path: "cache", "phase"] == "Ready")
        w.expectNoViolations()
    }
}
