import Testing

@testable import FunctionCore

/// A Ready replica whose cluster leaves the answer moves make-before-break: the
/// replacement first, the old replica only once the replacement is Ready
/// (lifecycle.md §7 rule 4).
@Suite struct MakeBeforeBreakMoveTests {
    /// One reconcile of a ModelDeployment and what it must compose and say.
    struct Case: CustomTestStringConvertible, Sendable {
        /// Why the expectation holds, in one sentence.
        var reason: String
        /// `spec.replicas`.
        var replicas: Int64 = 1
        /// The clusters answered (all Ready, with a provider config).
        var answer: [String]
        /// The replicas composed before: cluster and whether the observed ModelReplica is Ready.
        var observed: [String: Bool]
        /// The XR's own `ReplicasScheduled` reason from the previous reconcile, if any.
        var previousReason: String? = nil
        /// The clusters a replica is composed on.
        var composed: [String]
        /// The results, as `<reason>: <message>`, in order.
        var results: [String]
        /// The `ReplicasScheduled` reason and message.
        var scheduled: (reason: String, message: String)

        var testDescription: String { reason }
    }

    static let gone = "is no longer selected (deleted, or no longer matching the cluster selector)"

    static let cases: [Case] = [
        Case(
            reason:
                "A Ready replica's cluster gone with another eligible: the replacement is placed and the old one stays",
            answer: ["b"], observed: ["a": true], composed: ["a", "b"],
            results: [
                "ReplicaMoved: Replica qwen-a-x7k2p moves from a to b: InferenceCluster a \(gone); "
                    + "it keeps serving on a until its replacement is Ready"
            ],
            scheduled: (
                "Scheduled",
                "Placed 1 of 1 replicas: b; moving replica qwen-a-x7k2p from a to b: it serves on a until b is Ready"
            )),
        Case(
            reason: "A replacement placed before and still starting keeps the old replica, with no second event",
            answer: ["b"], observed: ["a": true, "b": false], composed: ["a", "b"], results: [],
            scheduled: (
                "Scheduled",
                "Placed 1 of 1 replicas: b; moving replica qwen-a-x7k2p from a to b: it serves on a until b is Ready"
            )),
        Case(
            reason: "A Ready replica's cluster gone with no other eligible: it stays, and a Warning says why",
            answer: [], observed: ["a": true], composed: ["a"],
            results: [
                "ReplicaNotMoved: Replica qwen-a-x7k2p stays on a: InferenceCluster a \(gone), "
                    + "and no other selected cluster is eligible for a replacement"
            ],
            scheduled: (
                "NoReplacement",
                "Placed 0 of 1 replicas; replica qwen-a-x7k2p stays on a, which left the selection, until a selected cluster is eligible for its replacement"
            )),
        Case(
            reason: "The Warning for a replica that cannot move is given once: the XR already says NoReplacement",
            answer: [], observed: ["a": true], previousReason: "NoReplacement", composed: ["a"], results: [],
            scheduled: (
                "NoReplacement",
                "Placed 0 of 1 replicas; replica qwen-a-x7k2p stays on a, which left the selection, until a selected cluster is eligible for its replacement"
            )),
        Case(
            reason:
                "The old cluster back before the replacement is Ready: the replacement (not Ready) is the one removed",
            answer: ["a", "b"], observed: ["a": true, "b": false], composed: ["a"],
            results: ["ReplicaRemoved: Replica qwen-b-x7k2p leaves b: spec.replicas is 1"],
            scheduled: ("Scheduled", "Placed 1 of 1 replicas: a")),
        Case(
            reason: "The replacement Ready: the old replica is removed, with an event saying why",
            answer: ["b"], observed: ["a": true, "b": true], composed: ["b"],
            results: [
                "ReplicaRemoved: Replica qwen-a-x7k2p leaves a: InferenceCluster a \(gone); "
                    + "the replicas placed elsewhere are Ready"
            ],
            scheduled: ("Scheduled", "Placed 1 of 1 replicas: b")),
        Case(
            reason: "A replica that is not Ready moves at once, as before",
            answer: ["b"], observed: ["a": false], composed: ["b"],
            results: ["ReplicaMoved: Replica qwen-a-x7k2p leaves a: InferenceCluster a \(gone)"],
            scheduled: ("Scheduled", "Placed 1 of 1 replicas: b")),
        Case(
            reason: "Two Ready replicas moving at once each get a replacement and stay until it is Ready",
            replicas: 2, answer: ["c", "d"], observed: ["a": true, "b": true], composed: ["c", "d", "a", "b"],
            results: [
                "ReplicaMoved: Replica qwen-a-x7k2p moves from a to c: InferenceCluster a \(gone); "
                    + "it keeps serving on a until its replacement is Ready",
                "ReplicaMoved: Replica qwen-b-x7k2p moves from b to d: InferenceCluster b \(gone); "
                    + "it keeps serving on b until its replacement is Ready",
            ],
            scheduled: (
                "Scheduled",
                "Placed 2 of 2 replicas: c, d; moving replica qwen-a-x7k2p from a to c: it serves on a until c is Ready; moving replica qwen-b-x7k2p from b to d: it serves on b until d is Ready"
            )),
        Case(
            reason: "Two Ready replicas moving with one replacement Ready: one old replica goes, the other still waits",
            replicas: 2, answer: ["c", "d"], observed: ["a": true, "b": true, "c": true, "d": false],
            composed: ["c", "d", "a"],
            results: [
                "ReplicaRemoved: Replica qwen-b-x7k2p leaves b: InferenceCluster b \(gone); "
                    + "the replicas placed elsewhere are Ready"
            ],
            scheduled: (
                "Scheduled",
                "Placed 2 of 2 replicas: c, d; moving replica qwen-a-x7k2p from a to d: it serves on a until d is Ready"
            )),
        Case(
            reason:
                "Two Ready replicas moving with room for one replacement: one moves, the other stays with a Warning",
            replicas: 2, answer: ["c"], observed: ["a": true, "b": true], composed: ["c", "a", "b"],
            results: [
                "ReplicaMoved: Replica qwen-a-x7k2p moves from a to c: InferenceCluster a \(gone); "
                    + "it keeps serving on a until its replacement is Ready",
                "ReplicaNotMoved: Replica qwen-b-x7k2p stays on b: InferenceCluster b \(gone), "
                    + "and no other selected cluster is eligible for a replacement",
            ],
            scheduled: (
                "NoReplacement",
                "Placed 1 of 2 replicas: c; moving replica qwen-a-x7k2p from a to c: it serves on a until c is Ready; replica qwen-b-x7k2p stays on b, which left the selection, until a selected cluster is eligible for its replacement"
            )),
    ]

    static func replica(_ cluster: String, ready: Bool) -> Value {
        var r = Workloads.observedReplica(cluster, ready: ready)
        r["metadata"] = ["name": .string("qwen-\(cluster)-x7k2p")]
        return r
    }

    static func reconcile(_ c: Case) -> RunResponse {
        let status: Value? = c.previousReason.map {
            ["conditions": [["type": "ReplicasScheduled", "status": "False", "reason": .string($0)]]]
        }
        return Composer().run(
            Fixtures.request(
                Workloads.deployment(replicas: c.replicas, status: status),
                required: ["clusters": c.answer.map { Fixtures.cluster($0) }],
                observed: Dictionary(
                    uniqueKeysWithValues: c.observed.map { ("replica-\($0.key)", replica($0.key, ready: $0.value)) })))
    }

    @Test("Moves are make-before-break", arguments: cases)
    func plan(_ c: Case) {
        let r = Self.reconcile(c)
        #expect(r.desired.resources.keys.sorted() == c.composed.map { "replica-\($0)" }.sorted())
        #expect(r.results.map { "\($0.reason ?? ""): \($0.message)" } == c.results)
        #expect(cond(r, "ReplicasScheduled")?.reason == c.scheduled.reason)
        #expect(cond(r, "ReplicasScheduled")?.message == c.scheduled.message)
        #expect(r.desired.composite?.object[path: "status", "replicas", "total"] == .int(Int64(c.composed.count)))
    }

    @Test("A cluster missing from one answer: the replacement placed then removed, the Ready replica never leaves")
    func flapOfOneAnswer() {
        let short = Case(
            reason: "", answer: ["b"], observed: ["a": true], composed: [], results: [], scheduled: ("", ""))
        let first = Self.reconcile(short)
        #expect(first.desired.resources.keys.sorted() == ["replica-a", "replica-b"])
        var back = short
        back.answer = ["a", "b"]
        back.observed = ["a": true, "b": false]
        let second = Self.reconcile(back)
        #expect(second.desired.resources.keys.sorted() == ["replica-a"])
        #expect(second.results.map(\.reason) == ["ReplicaRemoved"])
    }

    @Test("Replica names read back from observed ModelReplicas reach events and conditions escaped and bounded")
    func echoedNames() {
        var old = Self.replica("a", ready: true)
        old["metadata"] = ["name": .string("evil\n\u{1b}[31m" + String(repeating: "x", count: 100_000))]
        let r = Composer().run(
            Fixtures.request(
                Workloads.deployment(replicas: 1), required: ["clusters": [Fixtures.cluster("b")]],
                observed: ["replica-a": old]))
        let texts = r.results.map(\.message) + [cond(r, "ReplicasScheduled")?.message ?? ""]
        for t in texts {
            #expect(!t.unicodeScalars.contains { $0.value < 0x20 })
            #expect(t.unicodeScalars.count < 3 * echoLimit)
            #expect(t.contains("evil\\n\\u{1b}[31m"))
        }
    }
}
