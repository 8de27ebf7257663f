import Testing

@testable import FunctionCore

/// The Jobs of `s3` and `oci` sources (common25.md), `hydration.allowedSources` and
/// report warnings (sources.md §1).
@Suite struct SourceJobTests {
    static let hex = String(repeating: "5e", count: 32)
    static let digest = "sha256:" + String(repeating: "d1", count: 32)
    static let s3Keys: Value = [
        "name": "s3-keys", "accessKeyIdKey": "id", "secretAccessKeyKey": "secret", "sessionTokenKey": "session",
    ]

    /// The fixture cache with `source`.
    static func cache(_ source: Value, status: Value? = nil) -> Value {
        Fixtures.modelCache(spec: sourced(source), status: status)
    }

    /// The input with `hydration`.
    static func input(_ hydration: Value) -> Value {
        ["apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input", "hydration": hydration]
    }

    /// A cluster whose rwxCache carries `hydration`.
    static func cluster(_ name: String, hydration: Value) -> Value {
        Fixtures.cluster(name, rwx: ["storageClassName": "fast-rwx", "defaultSizeGiB": 300, "hydration": hydration])
    }

    /// One reconcile of `xr` on `clusters`, every hydration ServiceAccount observed Ready.
    static func run(_ xr: Value, clusters: [Value] = [gpuEast], input: Value? = nil, observed: [String: Value] = [:])
        -> RunResponse
    {
        var objects = observed
        for c in clusters {
            let name = c[path: "metadata", "name"]?.stringValue ?? ""
            objects["hydrate-sa-\(name)"] = Lifecycle.readyAccount
        }
        return Composer().run(Fixtures.request(xr, clusters: clusters, observed: objects, input: input))
    }

    func env(_ r: RunResponse, _ cluster: String = "gpu-east") -> [Value] {
        manifest(r, "hydrate-\(cluster)")?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?
            .listValue ?? []
    }

    @Test("An s3 Job gets the AWS settings and the keys of Secret <namespace>.<name> on the workload cluster")
    func s3Job() throws {
        let r = Self.run(
            Self.cache([
                "s3": [
                    "uri": "s3://models-bucket/llm/tiny/", "endpoint": "http://minio.storage:9000",
                    "region": "us-east-1", "credentialsSecretRef": Self.s3Keys,
                ]
            ]))
        let e = env(r)
        #expect(e.contains(["name": "MODELCACHE_SOURCE", "value": "s3://models-bucket/llm/tiny"]))
        #expect(e.contains(["name": "AWS_ENDPOINT_URL", "value": "http://minio.storage:9000"]))
        #expect(e.contains(["name": "AWS_REGION", "value": "us-east-1"]))
        for (name, key) in [
            ("AWS_ACCESS_KEY_ID", "id"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_SESSION_TOKEN", "session"),
        ] {
            #expect(
                e.contains([
                    "name": .string(name),
                    "valueFrom": ["secretKeyRef": ["name": "ml-team.s3-keys", "key": .string(key)]],
                ]))
        }
        #expect(!e.contains { $0["name"] == "HF_TOKEN" || $0["name"] == "MODELCACHE_COMMIT" })
        // Never copied: no token Object, no Secret asked for on the control plane.
        #expect(manifest(r, "token-gpu-east") == nil)
        #expect(r.requirements?[.tokenSecret] == nil)
    }

    @Test("An s3 source without keys runs as hydration.serviceAccount; without either, the cluster starts no Job")
    func s3Identity() throws {
        let source: Value = ["s3": ["uri": "s3://models-bucket/llm"]]
        let platform = Self.run(Self.cache(source), input: Self.input(["serviceAccount": "hydrator-irsa"]))
        let job = try #require(manifest(platform, "hydrate-gpu-east"))
        #expect(job[path: "spec", "template", "spec", "serviceAccountName"] == "hydrator-irsa")
        #expect(!env(platform).contains { $0["name"] == "AWS_ACCESS_KEY_ID" })

        let none = Self.run(
            Self.cache(source), clusters: [gpuEast, Self.cluster("gpu-irsa", hydration: ["serviceAccount": "irsa"])])
        #expect(!none.isFatal, "one cluster's identity never takes down the others")
        #expect(manifest(none, "hydrate-gpu-east") == nil)
        #expect(manifest(none, "hydrate-gpu-irsa") != nil, "a cluster with its own serviceAccount stages")
        let line = statusClusters(none).first { $0["name"] == "gpu-east" }
        #expect(line?["phase"] == "Pending")
        #expect(
            line?["message"]?.stringValue?.hasPrefix(
                "spec.artifact.source.s3.credentialsSecretRef is required on InferenceCluster gpu-east") == true)
    }

    @Test("An oci Job mounts the pull Secret <namespace>.<name> as a Docker config; plain HTTP only where listed")
    func ociJob() throws {
        let source: Value = [
            "oci": ["reference": "registry.internal:5000/models/tiny:v1", "pullSecretRef": ["name": "regcred"]]
        ]
        let plain = Self.cluster("gpu-lab", hydration: ["plainHTTPRegistries": ["registry.internal:5000"]])
        let r = Self.run(Self.cache(source), clusters: [gpuEast, plain])
        #expect(env(r).contains(["name": "MODELCACHE_SOURCE", "value": "oci://registry.internal:5000/models/tiny:v1"]))
        #expect(env(r).contains(["name": "DOCKER_CONFIG", "value": "/var/run/modelcache/docker"]))
        #expect(!env(r).contains { $0["name"] == "MODELCACHE_OCI_PLAIN_HTTP" })
        #expect(env(r, "gpu-lab").contains(["name": "MODELCACHE_OCI_PLAIN_HTTP", "value": "1"]))
        let spec = try #require(manifest(r, "hydrate-gpu-east")?[path: "spec", "template", "spec"])
        #expect(
            spec["volumes"]?.listValue?.last == [
                "name": "docker-config",
                "secret": [
                    "secretName": "ml-team.regcred", "items": [["key": ".dockerconfigjson", "path": "config.json"]],
                ],
            ])
        #expect(
            spec["containers"]?.listValue?.first?["volumeMounts"]?.listValue?.last == [
                "name": "docker-config", "mountPath": "/var/run/modelcache/docker", "readOnly": true,
            ])
        #expect(manifest(r, "token-gpu-east") == nil)
    }

    @Test("An oci reference by digest pins itself: MODELCACHE_COMMIT from the first Job, status.resolved at once")
    func ociDigest() throws {
        let r = Self.run(Self.cache(["oci": ["reference": .string("registry.internal/models/tiny@" + Self.digest)]]))
        #expect(env(r).contains(["name": "MODELCACHE_COMMIT", "value": .string(Self.digest)]))
        let resolved = Lifecycle.statusWritten(by: r)["resolved"]
        #expect(resolved?["commit"] == .string(Self.digest))
        #expect(!env(r).contains { $0["name"] == "DOCKER_CONFIG" })
    }

    @Test(
        "A Complete s3 report stages s3://…@<listing digest>; its warnings become one Warning naming the cluster, once")
    func s3CompleteWithWarnings() throws {
        let xr = Self.s3Cache
        let observed = try Self.ended(xr) { job in
            var report = JSONReader.parse(
                Lifecycle.report(job: job, source: "s3://models-bucket/llm", commit: Self.hex, phase: "Complete"))
            report?["warnings"] = ["llm/a.bin: no checksum and a multipart ETag: verified by size only"]
            return report?.canonicalJSON() ?? ""
        }
        let done = Self.run(xr, observed: observed)
        let line = try #require(statusClusters(done).first)
        #expect(line["staged"] == .string("s3://models-bucket/llm@" + Self.hex))
        #expect(line["phase"] == "Ready")
        #expect(Lifecycle.statusWritten(by: done)["resolved"]?["commit"] == .string(Self.hex))
        let warnings = done.results.filter { $0.reason == "StagedWithWarnings" }
        #expect(warnings.count == 1)
        #expect(warnings.first?.severity == .warning)
        #expect(
            warnings.first?.message
                == "Staged s3://models-bucket/llm@\(Self.hex) on gpu-east with 1 warning: llm/a.bin: no checksum and "
                + "a multipart ETag: verified by size only")
        // The next reconcile, with the status written, says nothing again.
        let again = Self.run(
            Fixtures.modelCache(spec: xr["spec"] ?? [:], status: Lifecycle.statusWritten(by: done)), observed: observed)
        #expect(again.results.filter { $0.reason == "StagedWithWarnings" }.isEmpty)
    }

    @Test("A report commit of another kind's shape is no commit: an s3 source is never pinned to 40 hex")
    func wrongShape() throws {
        let xr = Self.s3Cache
        let observed = try Self.ended(xr) { job in
            Lifecycle.report(job: job, source: "s3://models-bucket/llm", commit: Lifecycle.commit, phase: "Complete")
        }
        let r = Self.run(xr, observed: observed)
        #expect(statusClusters(r).first?["phase"] != "Ready")
        #expect(Lifecycle.statusWritten(by: r)["resolved"] == nil)
    }

    @Test("A source outside hydration.allowedSources starts no Job on that cluster, naming the field and the cluster")
    func allowedSources() throws {
        let xr = Self.cache(["oci": ["reference": "registry.internal/models/tiny:v1"]])
        let open = Self.cluster("gpu-open", hydration: ["allowedSources": ["oci://registry.internal/models/"]])
        let r = Self.run(
            xr, clusters: [gpuEast, open], input: Self.input(["allowedSources": ["s3://models-bucket/"]]))
        #expect(!r.isFatal, "one cluster's policy never takes down the others")
        #expect(manifest(r, "hydrate-gpu-east") == nil)
        #expect(manifest(r, "hydrate-gpu-open") != nil, "the cluster's own list wins there")
        let line = statusClusters(r).first { $0["name"] == "gpu-east" }
        #expect(line?["phase"] == "Pending")
        #expect(
            line?["message"]
                == #"spec.artifact.source "oci://registry.internal/models/tiny:v1" is not allowed on InferenceCluster gpu-east: input.hydration.allowedSources ["s3://models-bucket/"] has no prefix of it; no hydration Job starts on this cluster until it is fixed"#
        )
    }

    @Test("A Ready cluster outside allowedSources stays Ready: the policy gates new Jobs, never what serves")
    func allowedSourcesKeepsServing() throws {
        let xr = Self.s3Cache
        let observed = try Self.ended(xr) { job in
            Lifecycle.report(job: job, source: "s3://models-bucket/llm", commit: Self.hex, phase: "Complete")
        }
        let done = Self.run(xr, observed: observed)
        let later = Self.run(
            Fixtures.modelCache(spec: xr["spec"] ?? [:], status: Lifecycle.statusWritten(by: done)),
            input: Self.input(["allowedSources": ["oci://registry.internal/"]]),
            observed: ["pvc-gpu-east": Lifecycle.observedClaim(providerConfig: "gpu-east")])
        #expect(statusClusters(later).first?["phase"] == "Ready")
    }

    @Test("A bad allowedSources entry names its field: FATAL in the input, the cluster refused per cluster")
    func badAllowedSources() throws {
        let xr = Self.cache(["oci": ["reference": "registry.internal/models/tiny:v1"]])
        let input = Self.run(xr, input: Self.input(["allowedSources": ["registry.internal/"]]))
        #expect(input.isFatal)
        #expect(
            input.results.first?.message.contains(
                #"input.hydration.allowedSources[0] "registry.internal/" \#(SourcePrefix.rule)"#) == true)
        let bad = Self.cluster("gpu-bad", hydration: ["allowedSources": ["gs://bucket/"]])
        let r = Self.run(xr, clusters: [bad, gpuEast])
        #expect(!r.isFatal)
        #expect(manifest(r, "hydrate-gpu-bad") == nil)
        #expect(manifest(r, "hydrate-gpu-east") != nil)
        let line = statusClusters(r).first { $0["name"] == "gpu-bad" }
        #expect(
            line?["message"]?.stringValue?.hasPrefix(
                #"InferenceCluster gpu-bad spec.storage.rwxCache.hydration.allowedSources[0] "gs://bucket/""#) == true)
    }

    @Test("A running s3 Job is composed as it was sent when the source's settings change (a pod template is immutable)")
    func frozenWhileRunning() throws {
        let before = Self.cache([
            "s3": ["uri": "s3://models-bucket/llm", "region": "us-east-1", "credentialsSecretRef": Self.s3Keys]
        ])
        let job = try #require(manifest(Self.run(before), "hydrate-gpu-east"))
        let after = Self.cache([
            "s3": [
                "uri": "s3://models-bucket/llm", "region": "eu-west-1", "endpoint": "https://s3.internal",
                "credentialsSecretRef": Self.s3Keys,
            ]
        ])
        var observed = Lifecycle.observedJob(job)
        observed["spec"] = ["forProvider": ["manifest": job]]
        let r = Self.run(
            after,
            observed: [
                "pvc-gpu-east": Lifecycle.observedClaim(providerConfig: "gpu-east"), "hydrate-gpu-east": observed,
            ])
        #expect(manifest(r, "hydrate-gpu-east") == job)
        // The next Job gets the new settings.
        #expect(env(Self.run(after)).contains(["name": "AWS_REGION", "value": "eu-west-1"]))
    }

    @Test("A prefix matches whole path segments")
    func prefixes() {
        let cases: [(String, String, Bool)] = [
            ("s3://models-bucket/", "s3://models-bucket/x", true),
            ("s3://models-bucket/", "s3://models-bucket", true),
            ("s3://models-bucket", "s3://models-bucket/x", true),
            ("s3://models-bucket", "s3://models-bucket2", false),
            ("s3://models-bucket/", "s3://models-bucket2/x", false),
            ("s3://models-bucket/llm", "s3://models-bucket/llm-v2", false),
            ("oci://registry.internal/models/", "oci://registry.internal/models/tiny:v1", true),
            ("oci://registry.internal/models/tiny", "oci://registry.internal/models/tiny:v1", true),
            ("oci://registry.internal/models/tiny", "oci://registry.internal/models/tiny@" + Self.digest, true),
            ("oci://registry.internal/models/tiny", "oci://registry.internal/models/tiny2:v1", false),
            ("oci://registry.internal", "oci://registry.internal:5000/models/tiny:v1", false),
            ("oci://registry.internal", "oci://registry.internal/models/tiny:v1", true),
            ("hf://Qwen/", "hf://Qwen/Qwen3-8B", true),
            ("hf://Qwen/Qwen3-8B", "hf://Qwen/Qwen3-8B@main", true),
            ("hf://Qwen", "hf://QwenLM/x", false),
            ("hf://qwen/", "hf://Qwen/Qwen3-8B", false),
        ]
        for (prefix, identity, expected) in cases {
            #expect(SourcePrefix.matches(prefix, identity) == expected, "\(prefix) \(identity)")
        }
        #expect(SourcePrefix.allows(nil, "s3://x/y"))
        #expect(!SourcePrefix.allows([], "s3://x/y"))
        #expect(SourcePrefix.problem("gs://bucket") != nil)
        #expect(SourcePrefix.problem("s3://") != nil)
        #expect(SourcePrefix.problem("s3://a b") != nil)
    }

    /// The s3 cache every test of a finished Job uses.
    static let s3Cache = cache(["s3": ["uri": "s3://models-bucket/llm", "credentialsSecretRef": s3Keys]])

    /// What gpu-east holds once the first Job of `xr` ended with `condition`: its claim, that Job,
    /// and the report `report` writes for the Job's name.
    static func ended(
        _ xr: Value, _ condition: (type: String, reason: String, message: String) = ("Complete", "", ""),
        report: (String) -> String
    ) throws -> [String: Value] {
        let job = try #require(manifest(run(xr), "hydrate-gpu-east"))
        let name = job[path: "metadata", "name"]?.stringValue ?? ""
        return [
            "pvc-gpu-east": Lifecycle.observedClaim(providerConfig: "gpu-east"),
            "hydrate-gpu-east": Lifecycle.observedJob(job, condition),
            "report-gpu-east": Lifecycle.observedReport(report(name)),
        ]
    }

    /// The status message of the cache of `source` once its Job failed with exit 10 and a report
    /// saying `reason` and `message`, pinned at `commit`.
    static func failedMessage(_ source: Value, reason: String, message: String = "", commit: String?) throws -> String?
    {
        let xr = cache(source)
        let identity = try ModelCacheSpec.parse(sourced(source)).get().source.identity
        let observed = try ended(xr, Lifecycle.failedWith(exitCode: 10)) { job in
            Lifecycle.report(
                job: job, source: identity, commit: commit, phase: "Failed", failure: 10, reason: reason,
                message: message)
        }
        return statusClusters(run(xr, observed: observed)).first?["message"]?.stringValue
    }

    @Test("An s3 or oci failure reads in the source's own words")
    func failureWords() throws {
        let message = try Self.failedMessage(
            ["s3": ["uri": "s3://models-bucket/llm", "credentialsSecretRef": Self.s3Keys]], reason: "SourceChanged",
            commit: Self.hex)
        #expect(
            message
                == "Cannot stage s3://models-bucket/llm on gpu-east: the bucket changed since it was pinned: set "
                + "annotation modelplane.ai/refresh-revision to a new value to stage the new content")
    }

    @Test(
        "Not an artifact reads as what the report found: too many S3 objects, or an OCI image index",
        arguments: [
            (
                ["s3": ["uri": "s3://models-bucket/llm", "credentialsSecretRef": s3Keys]] as Value,
                "s3://models-bucket/llm: more than 100,000 objects, the hydrator's limit for one source",
                "Cannot stage s3://models-bucket/llm on gpu-east: the prefix holds more objects than the hydrator "
                    + "stages from one source (s3://models-bucket/llm: more than 100,000 objects, the hydrator's "
                    + "limit for one source); retry with the `modelplane.ai/retry-hydration` annotation"
            ),
            (
                ["oci": ["reference": "registry.internal/models/tiny:v1"]] as Value,
                "registry.internal/models/tiny:v1 is an image index",
                "Cannot stage oci://registry.internal/models/tiny:v1 on gpu-east: the reference is not one artifact "
                    + "the hydrator stages (registry.internal/models/tiny:v1 is an image index): reference a single "
                    + "artifact's manifest (not an image index); retry with the `modelplane.ai/retry-hydration` "
                    + "annotation"
            ),
        ])
    func notAnArtifact(_ source: Value, _ reported: String, _ expected: String) throws {
        #expect(try Self.failedMessage(source, reason: "NotAnArtifact", message: reported, commit: nil) == expected)
    }
}
