import Testing

@testable import FunctionCore

/// The automatic per-replica caches pin per ModelDeployment (hydrator.md §2): the
/// pin is set from the first replica that resolved the source, kept until the source
/// or the refresh annotation changes, and copied into every replica composed.
@Suite struct DeploymentPinTests {
    let compose = Composer()
    static let source = "hf://Qwen/Qwen2.5-0.5B-Instruct"
    static let c1 = String(repeating: "1", count: 40)
    static let c2 = String(repeating: "2", count: 40)
    static let c3 = String(repeating: "a", count: 40)
    static let clusters = [Fixtures.cluster("gpu-a"), Fixtures.cluster("gpu-b")]

    /// An observed replica on `cluster` whose `status.cache.resolved` is `resolved`.
    static func replica(_ cluster: String, resolved: Value?) -> Value {
        var r = Workloads.observedReplica(cluster)
        if let resolved { r["status"]?["cache"] = ["resolved": resolved] }
        return r
    }

    /// `status.cache.resolved` / `status.resolved` as written.
    static func resolved(
        _ commit: Value, source: Value = .string(source), refresh: String? = nil, epoch: Int64? = nil
    ) -> Value {
        var v: Value = ["source": source, "commit": commit]
        if let refresh { v["refresh"] = .string(refresh) }
        if let epoch { v["epoch"] = .int(epoch) }
        return v
    }

    /// A multi-node deployment of two replicas without a cache.
    static func deployment(
        status: Value? = nil, refresh: String? = nil, model: String = "Qwen/Qwen2.5-0.5B-Instruct",
        cache: String? = nil, pipeline: Int64 = 2
    ) -> Value {
        var d = Workloads.deployment(
            cache: cache, workers: Workloads.workers(pipeline: pipeline, args: [.string("--model=\(model)")]),
            status: status)
        if let refresh { d["metadata"]?["annotations"] = [DeploymentPin.refreshAnnotation: .string(refresh)] }
        return d
    }

    func run(_ xr: Value, _ observed: [String: Value] = [:], cache: Value? = nil) -> RunResponse {
        var required = ["clusters": Self.clusters]
        if let cache { required["cache"] = [cache] }
        return compose.run(Fixtures.request(xr, required: required, observed: observed))
    }

    /// What the response writes to `status.resolved`.
    func pin(_ r: RunResponse) -> Value? { r.desired.composite?.object[path: "status", "resolved"] }

    /// Each composed replica's `spec.cachePin`, by key.
    func cachePins(_ r: RunResponse) -> [String: Value?] {
        r.desired.resources.mapValues { $0.object[path: "spec", "cachePin"] }
    }

    func pinnedEvents(_ r: RunResponse) -> [String] { r.results.filter { $0.reason == "CachePinned" }.map(\.message) }

    @Test("The first replica report with a commit sets the pin, with an event; every replica composed carries it")
    func firstReport() {
        let r = run(
            Self.deployment(), ["replica-gpu-b": Self.replica("gpu-b", resolved: Self.resolved(.string(Self.c2)))])
        let want = ResolvedPin(source: Self.source, commit: Self.c2, epoch: 0).value
        #expect(pin(r) == want)
        #expect(cachePins(r) == ["replica-gpu-a": want, "replica-gpu-b": want])
        #expect(
            pinnedEvents(r) == [
                "The automatic caches of ModelDeployment ml-team/qwen are pinned to "
                    + "hf://Qwen/Qwen2.5-0.5B-Instruct@\(Self.c2) (epoch 0, resolved by the replica on gpu-b); "
                    + "every replica stages that commit"
            ])
    }

    @Test("Several replicas report at once: the first cluster by name wins, whatever the order observed")
    func severalAtOnce() {
        let r = run(
            Self.deployment(),
            [
                "replica-gpu-b": Self.replica("gpu-b", resolved: Self.resolved(.string(Self.c2))),
                "replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c1))),
            ])
        #expect(pin(r)?["commit"] == .string(Self.c1))
        #expect(Set(cachePins(r).values.map { $0?["commit"] }) == [.string(Self.c1)])
    }

    @Test("No report yet: no pin, no cachePin, no event, and no refresh annotation on the replicas")
    func noReport() {
        let r = run(Self.deployment(), ["replica-gpu-a": Self.replica("gpu-a", resolved: nil)])
        #expect(pin(r) == nil)
        #expect(cachePins(r).values.allSatisfy { $0 == nil })
        #expect(r.desired.resources.values.allSatisfy { $0.object[path: "metadata", "annotations"] == nil })
        #expect(r.results.isEmpty)
    }

    @Test("A current pin is kept against a replica that resolved another commit, without an event")
    func kept() {
        let current = Self.resolved(.string(Self.c1), epoch: 3)
        let r = run(
            Self.deployment(status: ["resolved": current]),
            ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c2)))])
        #expect(pin(r) == ResolvedPin(source: Self.source, commit: Self.c1, epoch: 3).value)
        #expect(Set(cachePins(r).values.map { $0?["commit"] }) == [.string(Self.c1)])
        #expect(r.results.isEmpty)
    }

    @Test("A source change drops cachePin until a replica resolves the new source; the epoch counts on")
    func sourceChange() {
        let old: Value = ["resolved": Self.resolved(.string(Self.c1), epoch: 4)]
        let model = "Qwen/Qwen2.5-1.5B-Instruct"
        let waiting = run(
            Self.deployment(status: old, model: model),
            ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c1)))])
        #expect(pin(waiting)?["commit"] == .string(Self.c1), "the previous pin stays in status, epoch and all")
        #expect(pin(waiting)?["epoch"] == 4)
        #expect(cachePins(waiting).values.allSatisfy { $0 == nil })
        let moved = run(
            Self.deployment(status: old, model: model),
            [
                "replica-gpu-a": Self.replica(
                    "gpu-a", resolved: Self.resolved(.string(Self.c3), source: .string("hf://\(model)")))
            ])
        let want = ResolvedPin(source: "hf://\(model)", commit: Self.c3, epoch: 5).value
        #expect(pin(moved) == want)
        #expect(cachePins(moved) == ["replica-gpu-a": want, "replica-gpu-b": want])
        #expect(pinnedEvents(moved).count == 1)
    }

    @Test("A refresh drops cachePin, passes the annotation down, and pins the first commit resolved under it")
    func refresh() {
        let old: Value = ["resolved": Self.resolved(.string(Self.c1), epoch: 0)]
        let stale = ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c1)))]
        let waiting = run(Self.deployment(status: old, refresh: "2026-12-01"), stale)
        #expect(pin(waiting) == ResolvedPin(source: Self.source, commit: Self.c1, epoch: 0).value)
        #expect(cachePins(waiting).values.allSatisfy { $0 == nil })
        #expect(
            r(waiting).allSatisfy {
                $0.object[path: "metadata", "annotations", DeploymentPin.refreshAnnotation] == "2026-12-01"
            })
        let fresh = [
            "replica-gpu-b": Self.replica(
                "gpu-b", resolved: Self.resolved(.string(Self.c2), refresh: "2026-12-01"))
        ]
        let moved = run(Self.deployment(status: old, refresh: "2026-12-01"), fresh)
        let want = ResolvedPin(source: Self.source, commit: Self.c2, refresh: "2026-12-01", epoch: 1).value
        #expect(pin(moved) == want)
        #expect(cachePins(moved) == ["replica-gpu-a": want, "replica-gpu-b": want])
        // The same commit again after a refresh is a new pin too (the branch did not move).
        let same = run(
            Self.deployment(status: old, refresh: "again"),
            ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c1), refresh: "again"))])
        #expect(pin(same) == ResolvedPin(source: Self.source, commit: Self.c1, refresh: "again", epoch: 1).value)
        // Kept once set: the refresh recorded is the current one.
        let kept = run(Self.deployment(status: ["resolved": want], refresh: "2026-12-01"), stale)
        #expect(pin(kept) == want)
        #expect(kept.results.isEmpty)
    }

    func r(_ response: RunResponse) -> [Resource] { Array(response.desired.resources.values) }

    /// Replica status that must never set a pin.
    static let garbage: [Value] = [
        resolved("abc"),
        resolved(.string(String(repeating: "A", count: 40))),
        resolved(.string(String(repeating: "1", count: 41))),
        resolved(.string(String(repeating: "g", count: 40))),
        resolved(.int(1)),
        resolved(.string(c1), source: .string(source + String(repeating: "x", count: 100_000))),
        resolved(.string(c1), source: "hf://Qwen/Qwen2.5-1.5B-Instruct"),
        resolved(.string(c1), source: "hf://Qwen/Qwen2.5-0.5B-Instruct@main"),
        resolved(.string(c1), source: .int(7)),
        resolved(.string(c1), refresh: "someone else's"),
        ["commit": .string(c1)],
        .list([resolved(.string(c1))]),
        "hf://Qwen/Qwen2.5-0.5B-Instruct",
    ]

    @Test("Garbage in a replica's status.cache.resolved is ignored: no pin, no event", arguments: garbage)
    func garbageIgnored(_ resolved: Value) {
        let r = run(Self.deployment(), ["replica-gpu-a": Self.replica("gpu-a", resolved: resolved)])
        #expect(pin(r) == nil)
        #expect(cachePins(r).values.allSatisfy { $0 == nil })
        #expect(r.results.isEmpty)
    }

    @Test("A garbled status.resolved read back is no pin; the first report then starts at epoch 0")
    func garbledPrevious() {
        let r = run(
            Self.deployment(status: ["resolved": Self.resolved("not a commit", epoch: 9)]),
            ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c1)))])
        #expect(pin(r) == ResolvedPin(source: Self.source, commit: Self.c1, epoch: 0).value)
    }

    @Test("The epoch stops at its largest value (18 digits, what a Job's MODELCACHE_EPOCH may carry)")
    func epochSaturates() {
        let largest = ResolvedPin.maxEpoch
        let r = run(
            Self.deployment(status: ["resolved": Self.resolved(.string(Self.c1), epoch: largest)], refresh: "r"),
            ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c2), refresh: "r"))])
        #expect(pin(r)?["epoch"] == .int(largest))
        #expect(pin(r)?["commit"] == .string(Self.c2))
    }

    @Test("Replicas without an automatic cache get no pin: with a ModelCache, or single-node")
    func notAutomatic() {
        let report = ["replica-gpu-a": Self.replica("gpu-a", resolved: Self.resolved(.string(Self.c1)))]
        let cache = Workloads.cache(phases: [("gpu-a", "Ready"), ("gpu-b", "Ready")])
        for r in [
            run(Self.deployment(refresh: "x", cache: "qwen-2-5"), report, cache: cache),
            run(Self.deployment(refresh: "x", pipeline: 1), report),
        ] {
            #expect(pin(r) == nil)
            #expect(r.desired.resources.count == 2)
            #expect(cachePins(r).values.allSatisfy { $0 == nil })
            #expect(r.desired.resources.values.allSatisfy { $0.object[path: "metadata", "annotations"] == nil })
        }
    }

    @Test("A ModelReplica reads spec.cachePin for its automatic cache; a malformed one is no pin")
    func replicaReadsPin() {
        let pin = ResolvedPin(source: Self.source, commit: Self.c1, refresh: "r", epoch: 2)
        func context(_ cachePin: Value?) -> ReplicaContext {
            var object = Workloads.replica(workers: Workloads.workers(pipeline: 2))
            if let cachePin { object["spec"]?["cachePin"] = cachePin }
            let spec = try! ModelReplicaSpec.parse(object["spec"]).get()
            return ReplicaContext(
                request: Fixtures.request(object),
                xr: XR(object: object, namespace: "ml-team", name: "qwen-gpu-east", settings: Settings()), spec: spec)
        }
        #expect(context(pin.value).cachePin == pin)
        #expect(context(nil).cachePin == nil)
        #expect(context(Self.resolved("short")).cachePin == nil)
    }
}
