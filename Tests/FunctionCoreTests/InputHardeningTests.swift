import Foundation
import Testing

@testable import FunctionCore

/// A mount path and whether the function accepts it.
struct MountCase: Sendable, CustomTestStringConvertible {
    let path: String
    /// nil when the path is accepted; otherwise a part of the rule the message must state.
    let rule: String?
    var testDescription: String { path }
}

let mountCases: [MountCase] = [
    // The function's own mount and everything under the system trees.
    MountCase(path: "/dev/shm", rule: "nothing may be mounted at or under /dev (the function mounts /dev/shm there"),
    MountCase(path: "/dev/shm/models", rule: "at or under /dev"),
    MountCase(path: "/dev", rule: "at or under /dev"),
    MountCase(path: "/proc/models", rule: "at or under /proc (a system directory)"),
    MountCase(path: "/sys", rule: "at or under /sys"),
    MountCase(path: "/etc", rule: "at or under /etc"),
    MountCase(path: "/etc/models", rule: "at or under /etc"),
    MountCase(path: "/usr/share/models", rule: "at or under /usr"),
    MountCase(path: "/bin", rule: "at or under /bin"),
    MountCase(path: "/lib64", rule: "at or under /lib64"),
    MountCase(path: "/var/run/secrets", rule: "at or under /var/run"),
    MountCase(path: "/run", rule: "at or under /run"),
    // Writable directories: reserved as they are, fine beneath.
    MountCase(path: "/tmp", rule: "a read-only cache at /tmp would hide a directory containers write to"),
    MountCase(path: "/var", rule: "a read-only cache at /var"),
    MountCase(path: "/root", rule: "a read-only cache at /root"),
    MountCase(path: "/home", rule: "a read-only cache at /home"),
    MountCase(path: "/opt", rule: "a read-only cache at /opt"),
    MountCase(path: "/", rule: "must not be '/'"),
    // Accepted: beneath writable directories, and names that only start like a reserved one.
    MountCase(path: "/mnt/models", rule: nil),
    MountCase(path: "/models/qwen", rule: nil),
    MountCase(path: "/tmp/models", rule: nil),
    MountCase(path: "/var/models", rule: nil),
    MountCase(path: "/opt/models", rule: nil),
    MountCase(path: "/home/user/models", rule: nil),
    MountCase(path: "/devices", rule: nil),
    MountCase(path: "/usr2", rule: nil),
    MountCase(path: "/etc-models", rule: nil),
    MountCase(path: "/var/runtime", rule: nil),
]

/// Answers to the `clusters` requirement that a hand-built request can carry.
struct AnswerCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: String
    let clusters: [Value]
    /// The clusters the cache stages on (status.clusters names), in order.
    let staged: [String]
    /// Parts the Warning must contain; empty means no Warning.
    let warning: [String]
    var testDescription: String { name }
}

func named(_ name: Value, providerConfig: Value? = nil) -> Value {
    var c = Fixtures.cluster("placeholder")
    c["metadata"]?["name"] = name
    if let providerConfig { c["status"]?["providerConfigRef"] = ["name": providerConfig] }
    return c
}

let answerCases: [AnswerCase] = [
    AnswerCase(
        name: "AllValid", reason: "Valid, distinct names: nothing to say.",
        clusters: [Fixtures.cluster("gpu-east"), Fixtures.cluster("gpu-west")], staged: ["gpu-east", "gpu-west"],
        warning: []),
    AnswerCase(
        name: "InvalidNameSkipped", reason: "A name that is not an object name is never composed under.",
        clusters: [Fixtures.cluster("gpu-east"), named("Bad_Name")], staged: ["gpu-east"],
        warning: [#"requirement "clusters": an InferenceCluster "Bad_Name" was skipped"#, "DNS-1123 subdomain"]),
    AnswerCase(
        name: "NewlineInNameEscaped", reason: "A name with a newline is skipped, and the message stays one line.",
        clusters: [named("gpu\nevil")], staged: [], warning: [#""gpu\nevil""#]),
    AnswerCase(
        name: "NamelessSkipped", reason: "A cluster without a name is skipped.",
        clusters: [named(.null), named(42)], staged: [],
        warning: ["without a name", #"InferenceCluster "42" was skipped"#]),
    AnswerCase(
        name: "DuplicateReported", reason: "Two answers with one name: the later is used, and that is said.",
        clusters: [
            Fixtures.cluster("gpu-east", providerConfig: "first"),
            Fixtures.cluster("gpu-east", providerConfig: "second"),
        ],
        staged: ["gpu-east"], warning: ["InferenceCluster gpu-east was answered 2 times: the last answer is used"]),
    AnswerCase(
        name: "InvalidProviderConfigIgnored",
        reason: "A provider config name that is not an object name is never written into an Object.",
        clusters: [Fixtures.cluster("gpu-east", providerConfig: "Bad Config\n")], staged: ["gpu-east"],
        warning: [#"InferenceCluster gpu-east status.providerConfigRef.name "Bad Config\n" is not a valid object name"#]
    ),
    AnswerCase(
        name: "EmptyProviderConfigIsAState", reason: "An empty provider config name means none yet, not a problem.",
        clusters: [Fixtures.cluster("gpu-east", providerConfig: "")], staged: ["gpu-east"], warning: []),
]

@Suite struct InputHardeningTests {
    @Test(arguments: mountCases)
    func mountPath(_ c: MountCase) {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(spec: with(Fixtures.defaultSpec, "mount", ["path": .string(c.path)])),
                clusters: [gpuEast]))
        guard let rule = c.rule else {
            #expect(!r.isFatal, "\(r.results.map(\.message))")
            return
        }
        let message = r.results.first { $0.severity == .fatal }?.message ?? ""
        #expect(message.contains("spec.mount.path \(quote(c.path)) "), "\(message)")
        #expect(message.contains(rule), "\(message)")
        #expect(r.desired.resources.isEmpty)
    }

    @Test("The XRD's CEL rule reserves exactly the paths the function reserves")
    func mountPathRuleMatchesXRD() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let xrd = try String(
            contentsOf: root.appendingPathComponent("apis/modelcache/definition.yaml"), encoding: .utf8)
        let rule = try #require(xrd.split(separator: "\n").first { $0.contains("'/var/run'") })
        let exact = "!(self in [" + MountPath.reservedExact.map { "'\($0)'" }.joined(separator: ", ") + "])"
        let trees =
            "[" + MountPath.reservedTrees.map { "'\($0)'" }.joined(separator: ", ")
            + "].exists(r, self == r || self.startsWith(r + '/'))"
        #expect(rule.contains(exact), "\(rule)")
        #expect(rule.contains(trees), "\(rule)")
    }

    @Test(arguments: answerCases)
    func clusterAnswers(_ c: AnswerCase) {
        let request = Fixtures.request(Fixtures.modelCache(), clusters: c.clusters)
        let r = Composer().run(request)
        #expect(statusClusters(r).compactMap { $0["name"]?.stringValue } == c.staged, "\(c.name): \(c.reason)")
        let warnings = r.results.filter { $0.reason == ClusterAnswers.reason }
        if c.warning.isEmpty {
            #expect(warnings.isEmpty, "\(warnings)")
        } else {
            #expect(warnings.count == 1 && warnings.first?.severity == .warning)
            let message = warnings.first?.message ?? ""
            for part in c.warning { #expect(message.contains(part), "\(c.name): \(message)") }
            #expect(!message.contains("\n"), "one line")
        }
        // Every provider config an Object targets is a valid name, and the same request gives the same answer.
        for (_, resource) in r.desired.resources {
            let pc = resource.object[path: "spec", "providerConfigRef", "name"]?.stringValue ?? ""
            #expect(Rules.isDNSSubdomain(pc), "\(pc)")
        }
        #expect(Composer().run(request) == r)
    }

    @Test("Of duplicate clusters the later answer is the one composed for")
    func duplicateLaterWins() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(),
                clusters: [
                    Fixtures.cluster("gpu-east", providerConfig: "first"),
                    Fixtures.cluster("gpu-east", providerConfig: "second"),
                ]))
        #expect(r.desired.resources["pvc-gpu-east"]?.object[path: "spec", "providerConfigRef", "name"] == "second")
    }

    @Test("A provider config with an invalid name leaves its cluster Pending, composing nothing there")
    func invalidProviderConfigPends() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [Fixtures.cluster("gpu-east", providerConfig: "Bad Config")]))
        #expect(statusClusters(r).first?["phase"] == "Pending")
        #expect(r.desired.resources.isEmpty)
    }

    @Test("Values echoed into a message are escaped and cut: no raw newline, no megabyte message")
    func boundedMessages() throws {
        let huge = String(repeating: "x", count: 1 << 20)
        var spec = with(
            Fixtures.defaultSpec, "clusterSelector",
            [
                "matchLabels": .object(
                    Fields(
                        lastWins: [
                            (huge, "v"), ("gpu", .string("a\nb" + huge)), ("line\nbreak", "v"),
                        ] as [(String, Value)]))
            ])
        spec["mount"] = ["path": .string("/models\n" + huge)]
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(spec: spec), clusters: [gpuEast]))
        let message = try #require(r.results.first { $0.severity == .fatal }?.message)
        #expect(message.utf8.count < 4_000, "\(message.utf8.count) bytes")
        #expect(!message.contains("\n"))
        #expect(message.contains(#"spec.clusterSelector.matchLabels.gpu "a\nbxxx"#))
        #expect(
            message.contains(#"spec.clusterSelector.matchLabels.["line\nbreak"]"#)
                || message.contains(#""line\nbreak""#))
        #expect(message.contains(#"..." "#), "a cut value is marked")
    }

    @Test("Quoting counts Unicode scalars, so one character of a million combining marks is cut too")
    func combiningMarks() {
        let s = "a" + String(repeating: "\u{301}", count: 1 << 20)
        #expect(s.count == 1, "one Character")
        let q = quote(s)
        #expect(q.unicodeScalars.count <= quoteLimit + 2 + 6 * quoteLimit, "bounded even when every scalar is escaped")
        #expect(q.hasSuffix(#"...""#))
        #expect(quote("short") == #""short""#)
        #expect(
            quote(String(repeating: "y", count: quoteLimit)) == "\"" + String(repeating: "y", count: quoteLimit) + "\"")
        #expect(quote(String(repeating: "y", count: quoteLimit + 1)).count == quoteLimit + 2)
    }

    @Test("A spec with thousands of errors lists ten and counts the rest")
    func manyErrors() throws {
        let labels = Fields(lastWins: (0..<1_000).map { ("k\($0)", Value.int(Int64($0))) })
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(
                    spec: with(
                        Fixtures.defaultSpec, "clusterSelector",
                        ["matchLabels": .object(labels)])), clusters: [gpuEast]))
        let message = try #require(r.results.first { $0.severity == .fatal }?.message)
        #expect(message.hasSuffix("; and 990 more errors"), "\(message.suffix(60))")
        #expect(message.utf8.count < 2_000)
    }

    @Test("Map keys in field paths: plain keys as they are, others quoted in brackets")
    func pathKeys() {
        #expect(pathKey("modelplane.ai/gpu") == "modelplane.ai/gpu")
        #expect(pathKey("a b") == #"["a b"]"#)
        #expect(pathKey("") == #"[""]"#)
        #expect(pathKey(String(repeating: "k", count: 300)).count == quoteLimit + 4)
    }
}
