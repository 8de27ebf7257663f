import FunctionCore
import Testing

/// The `s3` and `oci` sources (sources.md) through whole sequences: the pin is the
/// S3 listing digest or the OCI manifest digest, it holds while the bucket or the
/// tag moves, a refresh moves it with every cluster updating side by side, and a
/// cache that changes kind while serving keeps its pods on what is staged.
@Suite struct SourceSequenceCases {
    /// A source kind as the spec writes it, with its identity and a new pin of its shape.
    struct Kind: CustomTestStringConvertible, Sendable {
        /// `spec.artifact.source`.
        let source: Value
        /// The identity the function derives from it.
        let identity: String
        /// What the source resolves to after the bucket is overwritten or the tag moves.
        let moved: String
        /// The kind's name in the test's title.
        var testDescription: String { String(identity.prefix { $0 != ":" }) }
    }

    static let s3 = Kind(
        source: [
            "s3": [
                "uri": "s3://models-bucket/llm/qwen", "endpoint": "http://minio.storage:9000",
                "credentialsSecretRef": [
                    "name": "s3-keys", "accessKeyIdKey": "id", "secretAccessKeyKey": "secret",
                ],
            ]
        ],
        identity: "s3://models-bucket/llm/qwen", moved: String(repeating: "5a", count: 32))
    static let oci = Kind(
        source: ["oci": ["reference": "registry.internal/models/qwen:v1"]],
        identity: "oci://registry.internal/models/qwen:v1", moved: "sha256:" + String(repeating: "0c", count: 32))

    /// The cache spec of `kind` on every cluster.
    static func spec(_ kind: Kind) -> Value {
        var spec = Build.cacheSpec()
        spec["artifact"] = ["source": kind.source]
        return spec
    }

    @Test(
        "The pin is the listing or manifest digest: it holds while the source moves; a refresh moves every cluster",
        arguments: [s3, oci])
    func pinHoldsThenRefreshMovesIt(_ kind: Kind) {
        var w = World(clusters: [Build.cluster("gpu-east"), Build.cluster("gpu-west")])
        w.startupSteps = 2
        w.add(.cache("qwen"), spec: Self.spec(kind))
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen"))
        w.run(until: "the replica serves, the cache Ready on both clusters") { w in
            w.xrs[.replica("solo")]?.isReady == true
                && ["gpu-east", "gpu-west"].allSatisfy { w.entry(cache: "qwen", cluster: $0)?["phase"] == "Ready" }
        }
        let before = w.pinned(kind.identity)
        #expect(before == ResolvedPin.identity(of: kind.identity, at: w.commit(for: kind.identity)))
        #expect(w.xrs[.cache("qwen")]?.status[path: "resolved", "commit"] == .string(w.commit(for: kind.identity)))
        for c in ["gpu-east", "gpu-west"] { #expect(w.entry(cache: "qwen", cluster: c)?["staged"] == .string(before)) }

        // The bucket is overwritten (the tag moved): nothing moves without a refresh, and a
        // cluster that joins now stages the pinned digest too.
        w.commits[kind.identity] = kind.moved
        w.clusters["gpu-north"] = Build.cluster("gpu-north")
        w.run(until: "the new cluster Ready") { $0.entry(cache: "qwen", cluster: "gpu-north")?["phase"] == "Ready" }
        for c in ["gpu-east", "gpu-west", "gpu-north"] {
            #expect(w.entry(cache: "qwen", cluster: c)?["staged"] == .string(before), "\(c) on the pinned digest")
        }

        // A refresh moves the pin; every cluster updates side by side while the replica serves.
        w.xrs[.cache("qwen")]?.annotations[CacheStaging.refreshAnnotation] = "2026-12-06"
        w.run(until: "the new digest everywhere, the replica rolled") { w in
            ["gpu-east", "gpu-west", "gpu-north"].allSatisfy {
                w.entry(cache: "qwen", cluster: $0)?["staged"]
                    == .string(ResolvedPin.identity(of: kind.identity, at: kind.moved))
            } && !w.rollingOut("solo", on: "gpu-east") && w.xrs[.replica("solo")]?.isReady == true
        }
        #expect(w.xrs[.cache("qwen")]?.status[path: "resolved", "commit"] == .string(kind.moved))
        #expect(w.xrs[.cache("qwen")]?.status[path: "resolved", "epoch"] == 1)
        w.expectNoViolations()
    }

    @Test("A serving Hugging Face cache switched to S3, then to OCI: pods keep what is staged until the new kind is")
    func kindSwitchedWhileServing() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.startupSteps = 2
        w.add(.cache("qwen"), spec: Build.cacheSpec())
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "qwen"))
        w.run(until: "the replica serves") { $0.xrs[.replica("solo")]?.isReady == true }
        for kind in [Self.s3, Self.oci] {
            w.setSpec(.cache("qwen"), Self.spec(kind))
            w.run(until: "\(kind.identity) staged and the replica rolled onto it") { w in
                w.entry(cache: "qwen", cluster: "gpu-east")?["staged"] == .string(w.pinned(kind.identity))
                    && !w.rollingOut("solo", on: "gpu-east") && w.xrs[.replica("solo")]?.isReady == true
            }
            #expect(w.xrs[.cache("qwen")]?.status[path: "resolved", "source"] == .string(kind.identity))
        }
        w.expectNoViolations()
    }
}
