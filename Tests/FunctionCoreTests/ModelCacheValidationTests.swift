import Testing

@testable import FunctionCore

/// A spec that breaks one rule of api.md, and what the message must name.
struct Invalid: Sendable, CustomTestStringConvertible {
    let name: String
    let spec: Value
    let field: String
    let value: String?
    var testDescription: String { name }
}

func hf(_ fields: Fields) -> Value {
    var source: Fields = ["repo": "Qwen/Qwen2.5-0.5B-Instruct"]
    for (k, v) in fields { source[k] = v }
    return with(Fixtures.defaultSpec, "artifact", ["source": ["huggingFace": .object(source)]])
}

let invalidSpecs: [Invalid] = [
    Invalid(
        name: "NoSource", spec: with(Fixtures.defaultSpec, "artifact", [:]), field: "spec.artifact.source", value: nil),
    Invalid(
        name: "UnknownSource", spec: with(Fixtures.defaultSpec, "artifact", ["source": ["gcs": ["bucket": "b"]]]),
        field: "spec.artifact.source", value: "gcs"),
    Invalid(
        name: "TwoSources",
        spec: with(Fixtures.defaultSpec, "artifact", ["source": ["s3": [:], "huggingFace": ["repo": "a/b"]]]),
        field: "spec.artifact.source", value: "huggingFace, s3"),
    Invalid(
        name: "RepoMissing", spec: with(Fixtures.defaultSpec, "artifact", ["source": ["huggingFace": [:]]]),
        field: "spec.artifact.source.huggingFace.repo", value: nil),
    Invalid(
        name: "RepoShellMetacharacters", spec: hf(["repo": "Qwen/x; rm -rf /"]),
        field: "spec.artifact.source.huggingFace.repo", value: "Qwen/x; rm -rf /"),
    Invalid(
        name: "RepoCommandSubstitution", spec: hf(["repo": "$(curl evil)"]),
        field: "spec.artifact.source.huggingFace.repo", value: "$(curl evil)"),
    Invalid(
        name: "RepoDotDot", spec: hf(["repo": "a/..b"]), field: "spec.artifact.source.huggingFace.repo", value: "a/..b"),
    Invalid(
        name: "RepoLeadingDash", spec: hf(["repo": "-rf"]), field: "spec.artifact.source.huggingFace.repo", value: "-rf"
    ),
    Invalid(
        name: "RepoLeadingDot", spec: hf(["repo": "a/.hidden"]), field: "spec.artifact.source.huggingFace.repo",
        value: "a/.hidden"),
    Invalid(
        name: "RepoThreeParts", spec: hf(["repo": "a/b/c"]), field: "spec.artifact.source.huggingFace.repo",
        value: "a/b/c"),
    Invalid(
        name: "RepoPartTooLong", spec: hf(["repo": .string("a/" + String(repeating: "x", count: 97))]),
        field: "spec.artifact.source.huggingFace.repo", value: nil),
    Invalid(name: "RepoNotString", spec: hf(["repo": 42]), field: "spec.artifact.source.huggingFace.repo", value: "42"),
    Invalid(
        name: "RevisionShell", spec: hf(["revision": "main; curl x|sh"]),
        field: "spec.artifact.source.huggingFace.revision", value: "main; curl x|sh"),
    Invalid(
        name: "RevisionBacktick", spec: hf(["revision": "`id`"]),
        field: "spec.artifact.source.huggingFace.revision", value: "`id`"),
    Invalid(
        name: "RevisionLeadingDash", spec: hf(["revision": "--help"]),
        field: "spec.artifact.source.huggingFace.revision", value: "--help"),
    Invalid(
        name: "RevisionDotDot", spec: hf(["revision": "refs/../x"]),
        field: "spec.artifact.source.huggingFace.revision", value: "refs/../x"),
    Invalid(
        name: "RevisionEmpty", spec: hf(["revision": ""]), field: "spec.artifact.source.huggingFace.revision", value: ""
    ),
    Invalid(
        name: "RevisionTooLong", spec: hf(["revision": .string(String(repeating: "a", count: 256))]),
        field: "spec.artifact.source.huggingFace.revision", value: nil),
    Invalid(
        name: "TokenNameMissing", spec: hf(["tokenSecretRef": ["key": "HF_TOKEN"]]),
        field: "spec.artifact.source.huggingFace.tokenSecretRef.name", value: nil),
    Invalid(
        name: "TokenNameNotDNS", spec: hf(["tokenSecretRef": ["name": "Bad_Name"]]),
        field: "spec.artifact.source.huggingFace.tokenSecretRef.name", value: "Bad_Name"),
    Invalid(
        name: "TokenKeyInvalid", spec: hf(["tokenSecretRef": ["name": "hf", "key": "a/b"]]),
        field: "spec.artifact.source.huggingFace.tokenSecretRef.key", value: "a/b"),
    Invalid(name: "MountMissing", spec: with(Fixtures.defaultSpec, "mount", [:]), field: "spec.mount.path", value: nil),
    Invalid(
        name: "MountRelative", spec: with(Fixtures.defaultSpec, "mount", ["path": "models"]), field: "spec.mount.path",
        value: "models"),
    Invalid(
        name: "MountRoot", spec: with(Fixtures.defaultSpec, "mount", ["path": "/"]), field: "spec.mount.path",
        value: "/"),
    Invalid(
        name: "MountDotDot", spec: with(Fixtures.defaultSpec, "mount", ["path": "/models/../etc"]),
        field: "spec.mount.path", value: "/models/../etc"),
    Invalid(
        name: "MountDoubleSlash", spec: with(Fixtures.defaultSpec, "mount", ["path": "/models//qwen"]),
        field: "spec.mount.path", value: "/models//qwen"),
    Invalid(
        name: "MountColon", spec: with(Fixtures.defaultSpec, "mount", ["path": "/models:rw"]),
        field: "spec.mount.path", value: "/models:rw"),
    Invalid(
        name: "SizeZero", spec: with(Fixtures.defaultSpec, "storage", ["sizeGiB": 0]), field: "spec.storage.sizeGiB",
        value: "0"),
    Invalid(
        name: "SizeTooLarge", spec: with(Fixtures.defaultSpec, "storage", ["sizeGiB": 10_001]),
        field: "spec.storage.sizeGiB", value: "10001"),
    Invalid(
        name: "SizeFraction", spec: with(Fixtures.defaultSpec, "storage", ["sizeGiB": 1.5]),
        field: "spec.storage.sizeGiB",
        value: "1.5"),
    Invalid(
        name: "LabelNotString", spec: with(Fixtures.defaultSpec, "clusterSelector", ["matchLabels": ["gpu": true]]),
        field: "spec.clusterSelector.matchLabels.gpu", value: "true"),
    Invalid(
        name: "LabelValueInvalid", spec: with(Fixtures.defaultSpec, "clusterSelector", ["matchLabels": ["gpu": "a b"]]),
        field: "spec.clusterSelector.matchLabels.gpu", value: "a b"),
    Invalid(
        name: "MatchLabelsNotMap", spec: with(Fixtures.defaultSpec, "clusterSelector", ["matchLabels": ["x"]]),
        field: "spec.clusterSelector.matchLabels", value: nil),
]

@Suite struct ModelCacheValidationTests {
    @Test(arguments: invalidSpecs)
    func rejected(_ c: Invalid) throws {
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(spec: c.spec), clusters: [gpuEast]))
        let fatal = try #require(r.results.first { $0.severity == .fatal })
        #expect(fatal.message.hasPrefix("Invalid ModelCache ml-team/qwen-2-5: "))
        #expect(fatal.message.contains(c.field + " "), "\(c.name): \(fatal.message)")
        if let v = c.value { #expect(fatal.message.contains(quote(v)), "\(c.name): \(fatal.message)") }
        #expect(cond(r, "ArtifactReady")?.reason == "InvalidSpec")
        #expect(cond(r, "ArtifactReady")?.message == fatal.message)
        #expect(r.desired.resources.isEmpty, "nothing composed from an invalid spec")
        #expect(r.requirements == nil)
    }

    @Test("The documented revision example reads as the spec shows it")
    func documentedMessage() throws {
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(spec: hf(["revision": "main; curl x|sh"]))))
        #expect(
            r.results.first?.message
                == #"Invalid ModelCache ml-team/qwen-2-5: spec.artifact.source.huggingFace.revision "main; curl x|sh" is not a valid revision: use 1 to 255 letters, digits, '-', '_', '.', '/', not starting with '-', without '..'"#
        )
    }

    @Test("Every broken rule is reported in one message")
    func allErrors() {
        var spec = hf(["revision": "`x`"])
        spec["mount"] = ["path": "rel"]
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(spec: spec)))
        let message = r.results.first?.message ?? ""
        #expect(message.contains("huggingFace.revision") && message.contains("spec.mount.path"))
    }

    @Test(
        "Valid edge values are accepted",
        arguments: [
            hf(["repo": "gpt2"]), hf(["revision": "refs/pr/1"]), hf(["revision": "a1b2c3d4e5f6"]),
            hf(["repo": "org_1/model.v2-gguf"]), with(Fixtures.defaultSpec, "storage", ["sizeGiB": 10_000]),
            with(Fixtures.defaultSpec, "mount", ["path": "/a"]),
        ])
    func accepted(_ spec: Value) {
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(spec: spec), clusters: [gpuEast]))
        #expect(!r.isFatal, "\(r.results.map(\.message))")
    }

    @Test("A bad step input is FATAL naming the field")
    func badInput() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [gpuEast],
                input: [
                    "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input",
                    "remoteNamespace": "Not_A_Namespace",
                ]))
        #expect(r.results.first?.message.contains(#"input.remoteNamespace "Not_A_Namespace""#) == true)
        #expect(r.isFatal)
    }

    @Test("Step input settings reach the composed Job")
    func inputSettings() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [gpuEast], observed: ["hydrate-sa-gpu-east": Lifecycle.readyAccount],
                input: [
                    "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input",
                    "remoteNamespace": "models", "hydrationImage": "registry.example/hf:1",
                    "jobTTLSeconds": 60,
                ]))
        for key in Lifecycle.reportKeys("gpu-east") {
            #expect(manifest(r, key)?[path: "metadata", "namespace"] == "models", "\(key)")
        }
        let job = manifest(r, "hydrate-gpu-east")
        #expect(job?[path: "metadata", "namespace"] == "models")
        #expect(job?[path: "spec", "ttlSecondsAfterFinished"] == 60)
        #expect(
            job?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["image"] == "registry.example/hf:1")
        #expect(manifest(r, "pvc-gpu-east")?[path: "metadata", "namespace"] == "models")
    }
}

@Suite struct ChildNameTests {
    @Test("Golden names match the reference implementation")
    func goldens() {
        #expect(childName("modelcache", "ml-team", "qwen-2-5") == "modelcache-ml-team-qwen-2-5-b6b9a")
        #expect(
            childName("modelcache", "ml-team", "qwen-2-5", "hydrate") == "modelcache-ml-team-qwen-2-5-hydrate-84346")
        #expect(childName("qwen-demo") == "qwen-demo-86093")
    }

    @Test("Long inputs give at most 63 characters ending in -<5 hex>, and stay distinct")
    func long() {
        let a = childName("modelcache", String(repeating: "n", count: 60), String(repeating: "x", count: 100))
        let b = childName("modelcache", String(repeating: "n", count: 60), String(repeating: "x", count: 101))
        for name in [a, b] {
            #expect(name.count <= 63)
            #expect(name.range(of: "-[0-9a-f]{5}$", options: .regularExpression) != nil)
            #expect(Rules.isDNSLabel(name))
        }
        #expect(a != b)
        // A cut that lands on '-' does not leave "--".
        let c = childName(String(repeating: "a", count: 56), "b")
        #expect(!c.contains("--"))
    }
}

@Suite struct HydrationTests {
    @Test("No string from the spec occurs in the Job's command or args")
    func constantCommand() throws {
        let spec = hf([
            "repo": "evil-org/evil-model", "revision": "evil-revision-123",
            "tokenSecretRef": ["name": "evil-secret", "key": "EVIL_KEY"],
        ])
        var s = spec
        s["mount"] = ["path": "/evil/mount"]
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(spec: s), clusters: [gpuEast],
                required: ["token-secret": [tokenSecret(["EVIL_KEY": "eA=="])]].mapValues {
                    $0.map { with($0, "metadata", ["name": "evil-secret", "namespace": "ml-team"]) }
                }, observed: ["hydrate-sa-gpu-east": Lifecycle.readyAccount]))
        let container = try #require(
            manifest(r, "hydrate-gpu-east")?[path: "spec", "template", "spec", "containers"]?.listValue?.first)
        let text = (container["command"]?.canonicalJSON() ?? "") + (container["args"]?.canonicalJSON() ?? "")
        for needle in ["evil", "EVIL", "/evil/mount"] { #expect(!text.contains(needle)) }
        #expect(container["command"] == ["python", "-m", "modelcache_hydrator"])
        #expect(container["args"] == nil)
        // The values arrive as environment variables instead.
        #expect(container["env"]?.canonicalJSON().contains("evil-org/evil-model") == true)
    }
}

@Suite struct ModelCacheScaleTests {
    @Test("1,000 matched clusters compose correctly and deterministically, well under 4 MiB")
    func thousandClusters() {
        let clusters = (0..<1000).map { Fixtures.cluster(String(format: "gpu-%04d", $0)) }
        let request = Fixtures.request(Fixtures.modelCache(), clusters: clusters.reversed())
        let r = Composer().run(request)
        // Every claim, and the ServiceAccounts of the first wave only (its Jobs wait for them).
        #expect(r.desired.resources.keys.filter { $0.hasPrefix("pvc-") }.count == 1000)
        #expect(r.desired.resources.keys.filter { $0.hasPrefix("report-") }.isEmpty)
        #expect(
            r.desired.resources.keys.filter { $0.hasPrefix("hydrate-sa-") }.count == Settings().maxParallelHydrations)
        #expect(r.desired.resources.keys.filter { isJobKey($0) }.isEmpty)
        #expect(statusClusters(r).count == 1000)
        #expect(statusClusters(r).last?["message"] == "Queued: at most 256 hydration Jobs run at once")
        #expect(statusClusters(r).first?["name"] == "gpu-0000")
        #expect(statusClusters(r).last?["name"] == "gpu-0999")
        #expect(r.results.first?.message.hasSuffix("gpu-0009 and 990 more") == true)
        let again = Composer().run(request)
        #expect(again == r)
        let bytes = r.canonicalValue.canonicalJSON().utf8.count
        #expect(bytes < 2 * 1024 * 1024, "response JSON is \(bytes) bytes")
    }

    @Test("Running Jobs keep their slot in the hydration wave; free slots go to clusters by name")
    func waves() {
        let clusters = ["c-1", "c-2", "c-3", "c-4"].map { Fixtures.cluster($0) }
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(
                    status: Fixtures.status([
                        ("c-1", "Pending"), ("c-2", "Pending"), ("c-3", "Pending"), ("c-4", "Hydrating"),
                    ])),
                clusters: clusters,
                observed: [
                    "hydrate-c-4": Lifecycle.observedJob(firstJob), "pvc-c-4": Fixtures.claim(phase: "Bound"),
                    "hydrate-sa-c-1": Lifecycle.readyAccount,
                ],
                input: [
                    "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input", "maxParallelHydrations": 2,
                ]))
        #expect(
            r.desired.resources.keys.filter { isJobKey($0) }.sorted() == ["hydrate-c-1", "hydrate-c-4"])
        #expect(
            statusClusters(r).map { $0["phase"]?.stringValue ?? "" } == ["Pending", "Pending", "Pending", "Hydrating"])
        #expect(statusClusters(r)[1]["message"] == "Queued: at most 2 hydration Jobs run at once")
    }
}
