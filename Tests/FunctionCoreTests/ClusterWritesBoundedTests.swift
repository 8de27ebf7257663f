import Testing

@testable import FunctionCore

/// lifecycle.md §7 rule 8, the cache side: a Job's condition reason and message,
/// and every string read back from observed status, reach status, results and
/// events escaped and bounded (at most `echoLimit` scalars each).
@Suite struct ClusterWritesBoundedTests {
    /// A hostile string a cluster might write.
    struct Hostile: Sendable, CustomTestStringConvertible {
        let name: String
        let reason: String
        let message: String
        let why: String
        var testDescription: String { name }
    }

    static let cases: [Hostile] = [
        Hostile(
            name: "HugeReason", reason: String(repeating: "R", count: 100_000), message: "m",
            why: "A 100 KB reason is cut to the echo limit."),
        Hostile(
            name: "HugeMessage", reason: "BackoffLimitExceeded", message: String(repeating: "é", count: 100_000),
            why: "A 100 KB message is cut to the echo limit."),
        Hostile(
            name: "RawNewlines", reason: "Back\noff", message: "line one\nline two\r\n",
            why: "Raw newlines and carriage returns are escaped."),
        Hostile(
            name: "TerminalEscapes", reason: "\u{1B}[2J", message: "\u{1B}]0;pwned\u{07}\u{9B}31m",
            why: "ESC, BEL and C1 control characters are escaped."),
    ]

    /// Whether `s` is bounded by `limit` scalars and has no control character.
    static func clean(_ s: String?, limit: Int = echoLimit) -> Bool {
        guard let s else { return true }
        return s.unicodeScalars.count <= limit
            && !s.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// The strings of a response that reach status and events.
    static func check(_ r: RunResponse, _ why: String) {
        let entry = r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first
        #expect(entry?["phase"] == "Failed", Comment(rawValue: why))
        #expect(clean(entry?[path: "failure", "reason"]?.stringValue), Comment(rawValue: why))
        #expect(clean(entry?[path: "failure", "message"]?.stringValue), Comment(rawValue: why))
        // Our words around two echoes: bounded by both plus the sentence.
        #expect(clean(entry?["message"]?.stringValue, limit: 2 * echoLimit + 400), Comment(rawValue: why))
        for result in r.results { #expect(clean(result.message, limit: 2 * echoLimit + 400), Comment(rawValue: why)) }
        for c in r.conditions { #expect(clean(c.message, limit: 2 * echoLimit + 400), Comment(rawValue: why)) }
    }

    @Test("A failed Job's condition reaches status and the Warning escaped and bounded", arguments: cases)
    func jobCondition(_ h: Hostile) {
        let request = Fixtures.request(
            Fixtures.modelCache(status: Fixtures.status([("gpu-east", "Hydrating")])),
            clusters: [Fixtures.cluster("gpu-east")],
            observed: [
                "pvc-gpu-east": Fixtures.claim(phase: "Bound"),
                "hydrate-gpu-east": Lifecycle.observedJob(Lifecycle.firstJob(), ("Failed", h.reason, h.message)),
            ])
        let r = Composer().run(request)
        Self.check(r, h.why)
        #expect(r.results.count == 1, "one Warning")
    }

    @Test("A failure latched in observed status is read back escaped and bounded", arguments: cases)
    func latchedFailure(_ h: Hostile) {
        var status = Fixtures.status([("gpu-east", "Failed")])
        status["clusters"] = [
            [
                "name": "gpu-east", "phase": "Failed", "source": .string(Lifecycle.qwen.identity),
                "message": .string(h.message),
                "failure": [
                    "job": .string("job-\(h.reason)"),
                    "attempt": .string(Lifecycle.staging().attempt(sizeGiB: 300)),
                    "reason": .string(h.reason), "message": .string(h.message),
                ],
            ]
        ]
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(status: status), clusters: [Fixtures.cluster("gpu-east")],
                observed: ["pvc-gpu-east": Fixtures.claim(phase: "Bound")]))
        Self.check(r, h.why)
        #expect(r.desired.resources["hydrate-gpu-east"] == nil, "a latched failure runs no Job")
    }

    @Test("Every string of a ModelCache's status entry is read back escaped and bounded", arguments: cases)
    func readBack(_ h: Hostile) {
        let cache = Fixtures.modelCache(status: [
            "clusters": [
                [
                    "name": "gpu-east", "phase": "Updating", "message": .string(h.message),
                    "source": .string(h.reason), "staged": .string(h.message),
                ]
            ]
        ])
        let entry = ModelCacheView(cache).clusters["gpu-east"]
        #expect(entry?.phase == .updating)
        for s in [entry?.message, entry?.source, entry?.staged] { #expect(Self.clean(s), Comment(rawValue: h.why)) }
    }
}
