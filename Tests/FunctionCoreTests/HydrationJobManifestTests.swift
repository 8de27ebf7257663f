import Testing

@testable import FunctionCore

/// The hydration Job's manifest (hydrator.md §1, §4, §5) and how the Jobs of
/// the previous release are read and adopted (§2, upgrade).
@Suite struct HydrationJobManifestTests {
    static let commit = "3f1c2a7e9b0d4c6f8a1b2c3d4e5f60718293a4b5"

    /// The pod spec of the Job `job` of `staging`.
    func pod(_ staging: CacheStaging, _ job: HydrationJob) -> Value? {
        staging.jobManifest(job)[path: "spec", "template", "spec"]
    }

    /// The env list of a composed Job's only container.
    func env(_ manifest: Value?) -> [Value] {
        manifest?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?.listValue ?? []
    }

    /// The env list every Job without platform settings gets, in order.
    func expectedEnv(_ s: CacheStaging, commit: String? = nil, keep: String = "", bytes: String, epoch: String)
        -> [Value]
    {
        var env: [Value] = [["name": "MODELCACHE_SOURCE", "value": .string(s.identity)]]
        if let commit { env.append(["name": "MODELCACHE_COMMIT", "value": .string(commit)]) }
        return env + [
            ["name": "MODELCACHE_ROOT", "value": "/cache"],
            ["name": "MODELCACHE_KEEP", "value": .string(keep)],
            ["name": "MODELCACHE_CLAIM_BYTES", "value": .string(bytes)],
            ["name": "MODELCACHE_EPOCH", "value": .string(epoch)],
            ["name": "MODELCACHE_JOB", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['job-name']"]]],
            ["name": "MODELCACHE_POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
            ["name": "MODELCACHE_REPORT_CONFIGMAP", "value": .string(s.reportName)],
            ["name": "HOME", "value": "/tmp"],
        ]
    }

    @Test("A first Job's environment, exactly: the source verbatim, the claim in bytes, epoch <generation>.0")
    func firstJobEnvironment() {
        let s = Lifecycle.staging(Lifecycle.qwenV2)
        let job = s.newJob(named: "j", keep: [], attempt: "a", claimBytes: HydrationJob.claimBytes(sizeGiB: 300))
        #expect(env(s.jobManifest(job)) == expectedEnv(s, bytes: "322122547200", epoch: "0.0"))
        #expect(s.identity == "hf://Qwen/Qwen2.5-0.5B-Instruct@v2")
    }

    @Test("A pinned Job carries MODELCACHE_COMMIT and its epoch; pruning keeps are space-separated")
    func pinnedJobEnvironment() {
        let s = Lifecycle.staging()
        var job = s.newJob(
            named: "j", keep: ["rev-0123456789ab", "rev-ba9876543210"], attempt: "a", claimBytes: 1 << 30)
        job.commit = Self.commit
        job.epoch = "4.2"
        #expect(
            env(s.jobManifest(job))
                == expectedEnv(
                    s, commit: Self.commit, keep: "rev-0123456789ab rev-ba9876543210", bytes: "1073741824",
                    epoch: "4.2"))
    }

    @Test("The pod: program command, its own ServiceAccount with only a projected token, non-root, read-only root")
    func podShape() throws {
        let s = Lifecycle.staging()
        let manifest = s.jobManifest(s.newJob(named: "j", keep: [], attempt: "a", claimBytes: 1))
        let spec = try #require(manifest[path: "spec", "template", "spec"])
        let container = try #require(spec["containers"]?.listValue?.first)
        #expect(container["command"] == ["python", "-m", "modelcache_hydrator"])
        #expect(container["args"] == nil)
        #expect(container["image"] == .string(FunctionVersion.hydratorImage))
        #expect(container[path: "securityContext", "readOnlyRootFilesystem"] == true)
        #expect(spec["restartPolicy"] == "Never")
        #expect(spec["serviceAccountName"] == .string(s.accountName))
        #expect(spec["automountServiceAccountToken"] == false)
        #expect(spec[path: "securityContext", "runAsNonRoot"] == true)
        #expect(spec[path: "securityContext", "runAsUser"] == .int(HydrationProgram.uid))
        #expect(
            container["volumeMounts"] == [
                ["name": "cache", "mountPath": "/cache"], ["name": "tmp", "mountPath": "/tmp"],
                [
                    "name": "serviceaccount", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    "readOnly": true,
                ],
            ])
        let token = spec["volumes"]?.listValue?.first { $0["name"] == "serviceaccount" }
        #expect(
            token?["projected"] == [
                "sources": [
                    ["serviceAccountToken": ["path": "token", "expirationSeconds": 3600]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    [
                        "downwardAPI": [
                            "items": [["path": "namespace", "fieldRef": ["fieldPath": "metadata.namespace"]]]
                        ]
                    ],
                ]
            ])
        #expect(spec["volumes"]?.listValue?.contains(["name": "tmp", "emptyDir": [:]]) == true)
        #expect(spec["nodeSelector"] == nil && spec["tolerations"] == nil && spec["imagePullSecrets"] == nil)
    }

    @Test("The Job fails at once on exit codes 2, 10, 11 and 12, ignores disruptions, and ends after 24 h by default")
    func jobPolicy() {
        let s = Lifecycle.staging()
        let manifest = s.jobManifest(s.newJob(named: "j", keep: [], attempt: "a", claimBytes: 1))
        #expect(manifest[path: "spec", "activeDeadlineSeconds"] == 86_400)
        #expect(
            manifest[path: "spec", "podFailurePolicy"] == [
                "rules": [
                    [
                        "action": "FailJob",
                        "onExitCodes": ["containerName": "hydrate", "operator": "In", "values": [2, 10, 11, 12]],
                    ],
                    ["action": "Ignore", "onPodConditions": [["type": "DisruptionTarget", "status": "True"]]],
                ]
            ])
    }

    @Test("Every input.hydration setting reaches the Job, and NO_PROXY gains the API server with a proxy")
    func inputSettingsReachTheJob() throws {
        var settings = try Settings.parse([
            "hydration": [
                "image": "registry.internal/hydrator:1", "endpoint": "https://hub.internal/api/hf",
                "httpsProxy": "http://proxy.internal:3128", "noProxy": ["10.0.0.0/8", ".internal"],
                "caBundle": ["configMapName": "corp-ca", "key": "bundle.pem"],
                "resources": ["requests": ["cpu": "1", "memory": "2Gi"]],
                "nodeSelector": ["pool": "io"], "tolerations": [["operator": "Exists"]],
                "imagePullSecrets": ["regcred"], "deadline": "2h", "serviceAccount": "platform-hydrator",
                "plainHTTPRegistries": ["registry.internal:5000"],
            ]
        ]).get()
        settings.remoteNamespace = "models"
        let s = CacheStaging(
            ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5", source: .huggingFace(Lifecycle.qwen),
            token: nil,
            labels: [:], settings: settings)
        let manifest = s.jobManifest(s.newJob(named: "j", keep: [], attempt: "a", claimBytes: 5))
        let spec = try #require(manifest[path: "spec", "template", "spec"])
        let container = try #require(spec["containers"]?.listValue?.first)
        #expect(
            env(manifest).suffix(4) == [
                ["name": "HF_ENDPOINT", "value": "https://hub.internal/api/hf"],
                ["name": "HTTPS_PROXY", "value": "http://proxy.internal:3128"],
                ["name": "NO_PROXY", "value": "10.0.0.0/8,.internal,$(KUBERNETES_SERVICE_HOST),.svc,.cluster.local"],
                ["name": "MODELCACHE_CA_BUNDLE", "value": "/etc/modelcache/ca/ca.crt"],
            ])
        // plainHTTPRegistries concerns OCI sources only (MODELCACHE_OCI_PLAIN_HTTP, SourceJobTests).
        #expect(!env(manifest).contains { $0["name"]?.stringValue?.contains("PLAIN_HTTP") == true })
        #expect(container["image"] == "registry.internal/hydrator:1")
        #expect(container["resources"] == ["requests": ["cpu": "1", "memory": "2Gi"]])
        #expect(
            container["volumeMounts"]?.listValue?.last == [
                "name": "ca-bundle", "mountPath": "/etc/modelcache/ca", "readOnly": true,
            ])
        #expect(
            spec["volumes"]?.listValue?.last == [
                "name": "ca-bundle",
                "configMap": ["name": "corp-ca", "items": [["key": "bundle.pem", "path": "ca.crt"]]],
            ])
        #expect(spec["nodeSelector"] == ["pool": "io"])
        #expect(spec["tolerations"] == [["operator": "Exists"]])
        #expect(spec["imagePullSecrets"] == [["name": "regcred"]])
        #expect(spec["serviceAccountName"] == "platform-hydrator")
        #expect(s.jobAccount(nil) == "platform-hydrator")
        #expect(manifest[path: "spec", "activeDeadlineSeconds"] == 7200)
        #expect(manifest[path: "metadata", "namespace"] == "models")
    }

    @Test("A NO_PROXY entry without a proxy changes nothing: the variable is written only with HTTPS_PROXY")
    func noProxyAlone() throws {
        var s = Settings()
        s.hydration.noProxy = [".internal"]
        let staging = CacheStaging(
            ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5", source: .huggingFace(Lifecycle.qwen),
            token: nil,
            labels: [:], settings: s)
        let names = env(staging.jobManifest(staging.newJob(named: "j", keep: [], attempt: "a"))).map { $0["name"] }
        #expect(!names.contains("NO_PROXY"))
    }
}
