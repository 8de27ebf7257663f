import Testing

@testable import FunctionCore

/// One `input.hydration` block and what the function makes of it.
struct HydrationSettingsCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: String
    /// The `input.hydration` block.
    let block: Value
    /// nil when accepted; otherwise the whole error (field, quoted value, rule).
    let error: String?
    var testDescription: String { name }
}

let hydrationSettingsCases: [HydrationSettingsCase] = [
    // Accepted.
    .init(
        name: "MirrorUnderPathPrefix", reason: "Artifactory serves a hub mirror under a path prefix.",
        block: ["endpoint": "https://artifactory.example.com/artifactory/api/huggingfaceml/hf"], error: nil),
    .init(
        name: "PlainHTTPMirrorWithPort", reason: "A mirror inside a trusted network may be plain HTTP on a port.",
        block: ["endpoint": "http://10.0.0.5:8080"], error: nil),
    .init(
        name: "ProxyWithPort", reason: "A proxy is a scheme, a host and a port.",
        block: ["httpsProxy": "http://proxy.corp:3128", "noProxy": ["10.0.0.0/8", ".internal", "registry:5000", "*"]],
        error: nil),
    .init(
        name: "CABundleDefaultKey", reason: "The key defaults to ca.crt.",
        block: ["caBundle": ["configMapName": "corp-ca"]], error: nil),
    .init(
        name: "ResourcesQuantities", reason: "Quantities in every Kubernetes spelling, integers too.",
        block: ["resources": ["requests": ["cpu": "250m", "memory": "512Mi"], "limits": ["cpu": 4, "memory": "8G"]]],
        error: nil),
    .init(
        name: "SchedulingFields", reason: "A node selector, tolerations and pull secrets as Kubernetes takes them.",
        block: [
            "nodeSelector": ["node.kubernetes.io/pool": "io"],
            "tolerations": [
                ["key": "dedicated", "operator": "Equal", "value": "io", "effect": "NoSchedule"],
                ["operator": "Exists"],
                ["key": "spot", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60],
            ],
            "imagePullSecrets": ["regcred"],
        ], error: nil),
    .init(
        name: "DeadlineDuration", reason: "A deadline may be a duration with units.",
        block: ["deadline": "1h30m"], error: nil),
    .init(
        name: "DeadlineSeconds", reason: "A deadline may be a number of seconds.", block: ["deadline": 7200],
        error: nil),
    .init(
        name: "PlatformIdentity", reason: "A platform ServiceAccount and plain-HTTP registries are names.",
        block: ["serviceAccount": "hydrator-irsa", "plainHTTPRegistries": ["registry.internal:5000", "10.1.2.3"]],
        error: nil),
    // Refused, naming the field, the value and the rule.
    .init(
        name: "EndpointNotHTTP", reason: "Only http and https reach a hub mirror.",
        block: ["endpoint": "ftp://mirror.example.com"],
        error: #"input.hydration.endpoint "ftp://mirror.example.com" \#(HydrationRules.endpointRule)"#),
    .init(
        name: "EndpointWithQuery", reason: "A query would be lost when the client appends its paths.",
        block: ["endpoint": "https://mirror.example.com/hf?x=1"],
        error: #"input.hydration.endpoint "https://mirror.example.com/hf?x=1" \#(HydrationRules.endpointRule)"#),
    .init(
        name: "EndpointWithVariable", reason: "Kubernetes would expand $(VAR) in an env value.",
        block: ["endpoint": "https://mirror.example.com/$(HF_TOKEN)"],
        error: #"input.hydration.endpoint "https://mirror.example.com/$(HF_TOKEN)" \#(HydrationRules.endpointRule)"#),
    .init(
        name: "ProxyWithPassword", reason: "A password in the proxy URL would be in every Job manifest.",
        block: ["httpsProxy": "http://user:secret@proxy:3128"],
        error: #"input.hydration.httpsProxy "http://user:secret@proxy:3128" \#(HydrationRules.proxyRule)"#),
    .init(
        name: "ProxyBadPort", reason: "A port is 1 to 65535.", block: ["httpsProxy": "http://proxy:99999"],
        error: #"input.hydration.httpsProxy "http://proxy:99999" \#(HydrationRules.proxyRule)"#),
    .init(
        name: "NoProxyWithComma", reason: "Entries are list items: a comma would smuggle two.",
        block: ["noProxy": ["a.example,b.example"]],
        error: #"input.hydration.noProxy[0] "a.example,b.example" \#(HydrationRules.noProxyRule)"#),
    .init(
        name: "CABundleBadKey", reason: "A ConfigMap key has no slash.",
        block: ["caBundle": ["configMapName": "corp-ca", "key": "certs/ca.pem"]],
        error:
            #"input.hydration.caBundle.key "certs/ca.pem" is not a valid ConfigMap key: use letters, digits, '-', '_', '.'"#
    ),
    .init(
        name: "CABundleNoName", reason: "The ConfigMap's name is required.", block: ["caBundle": ["key": "ca.crt"]],
        error: "input.hydration.caBundle.configMapName is required"),
    .init(
        name: "BadQuantity", reason: "A quantity has one number and one suffix.",
        block: ["resources": ["limits": ["memory": "4 GiB"]]],
        error: #"input.hydration.resources.limits.memory "4 GiB" \#(HydrationRules.quantityRule)"#),
    .init(
        name: "RequestAboveLimit", reason: "Kubernetes refuses a pod whose request exceeds its limit.",
        block: ["resources": ["requests": ["memory": "8Gi"], "limits": ["memory": "4096Mi"]]],
        error:
            #"input.hydration.resources.requests.memory "8Gi" must not exceed input.hydration.resources.limits.memory "4096Mi""#
    ),
    .init(
        name: "RequestEqualsLimitAcrossSpellings", reason: "1 CPU and 1000m are the same amount.",
        block: ["resources": ["requests": ["cpu": "1"], "limits": ["cpu": "1000m"]]], error: nil),
    .init(
        name: "UnknownResource", reason: "Only cpu, memory and ephemeral-storage are set on the Job.",
        block: ["resources": ["requests": ["nvidia.com/gpu": "1"]]],
        error:
            "input.hydration.resources.requests.nvidia.com/gpu is not a resource the hydration Job sets: use cpu, memory or ephemeral-storage"
    ),
    .init(
        name: "BadNodeSelectorValue", reason: "Selector values are label values.",
        block: ["nodeSelector": ["pool": "io pool"]],
        error:
            #"input.hydration.nodeSelector.pool "io pool" is not a valid label value: use up to 63 letters, digits, '-', '_', '.', beginning and ending with a letter or digit"#
    ),
    .init(
        name: "TolerationBadOperator", reason: "Kubernetes knows Equal and Exists.",
        block: ["tolerations": [["key": "a", "operator": "In"]]],
        error: #"input.hydration.tolerations[0].operator "In" must be Equal or Exists"#),
    .init(
        name: "TolerationExistsWithValue", reason: "An Exists toleration matches any value, so it has none.",
        block: ["tolerations": [["key": "a", "operator": "Exists", "value": "b"]]],
        error: #"input.hydration.tolerations[0].value "b" must be empty when operator is Exists"#),
    .init(
        name: "TolerationSecondsWithoutNoExecute", reason: "tolerationSeconds only means something for NoExecute.",
        block: ["tolerations": [["key": "a", "operator": "Exists", "tolerationSeconds": 5]]],
        error: "input.hydration.tolerations[0].tolerationSeconds \"5\" is allowed only with effect NoExecute"),
    .init(
        name: "PullSecretNotAName", reason: "Pull secrets are Secret names.",
        block: ["imagePullSecrets": ["Reg_Cred"]],
        error: #"input.hydration.imagePullSecrets[0] "Reg_Cred" \#(HydrationRules.secretNameRule)"#),
    .init(
        name: "DeadlineTooShort", reason: "A Job that ends before it could download anything is a mistake.",
        block: ["deadline": "5m"], error: #"input.hydration.deadline "5m" \#(HydrationRules.deadlineRule)"#),
    .init(
        name: "DeadlineTooLong", reason: "An orphaned Job must end within a week.", block: ["deadline": "8d"],
        error: #"input.hydration.deadline "8d" \#(HydrationRules.deadlineRule)"#),
    .init(
        name: "DeadlineGarbled", reason: "Units are s, m, h and d.", block: ["deadline": "1 hour"],
        error: #"input.hydration.deadline "1 hour" \#(HydrationRules.deadlineRule)"#),
    .init(
        name: "ServiceAccountNotAName", reason: "A ServiceAccount is named like any object.",
        block: ["serviceAccount": "Hydrator"],
        error:
            #"input.hydration.serviceAccount "Hydrator" is not a valid ServiceAccount name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.')"#
    ),
    .init(
        name: "RegistryWithScheme", reason: "A registry is host[:port], not a URL.",
        block: ["plainHTTPRegistries": ["http://registry.internal"]],
        error: #"input.hydration.plainHTTPRegistries[0] "http://registry.internal" \#(HydrationRules.registryRule)"#),
    .init(
        name: "NamespaceNotALabel", reason: "A namespace is a DNS-1123 label.", block: ["namespace": "ML.Team"],
        error: #"input.hydration.namespace "ML.Team" must be a DNS-1123 label (lowercase letters, digits, '-')"#),
    .init(
        name: "UnknownSetting", reason: "A typo is refused rather than ignored.", block: ["endpiont": "https://x"],
        error:
            "input.hydration.endpiont is not a hydration setting: use \(HydrationSettings.fields.joined(separator: ", "))"
    ),
]

@Suite struct HydrationSettingsTests {
    @Test(
        "Each input.hydration setting is accepted or refused naming the field, the value and the rule",
        arguments: hydrationSettingsCases)
    func setting(_ c: HydrationSettingsCase) {
        let parsed = Settings.parse(["hydration": c.block])
        switch (parsed, c.error) {
        case (.success, nil): break
        case (.failure(let e), let expected?): #expect(e.description == expected, "\(c.reason)")
        case (.success, let expected?): Issue.record("accepted, expected \(expected): \(c.reason)")
        case (.failure(let e), nil): Issue.record("refused (\(e)): \(c.reason)")
        }
    }

    @Test("Durations read as seconds")
    func durations() {
        #expect(HydrationRules.durationSeconds("90m") == 5400)
        #expect(HydrationRules.durationSeconds("1h30m") == 5400)
        #expect(HydrationRules.durationSeconds("7d") == 604_800)
        #expect(HydrationRules.durationSeconds("3600") == 3600)
        #expect(HydrationRules.durationSeconds("h") == nil)
        #expect(HydrationRules.durationSeconds("10") == 10)
        #expect(HydrationRules.durationSeconds("") == nil)
    }

    @Test("input.hydrationImage and input.remoteNamespace are aliases; both spellings set and different is an error")
    func aliases() throws {
        let old = try Settings.parse(["hydrationImage": "registry.example/h:1", "remoteNamespace": "models"]).get()
        #expect(old.hydrationImage == "registry.example/h:1")
        #expect(old.remoteNamespace == "models")
        let new = try Settings.parse(["hydration": ["image": "registry.example/h:1", "namespace": "models"]]).get()
        #expect(new.hydrationImage == "registry.example/h:1")
        #expect(new.remoteNamespace == "models")
        let same = Settings.parse(["hydrationImage": "a/b:1", "hydration": ["image": "a/b:1"]])
        #expect((try? same.get()) != nil, "the same value twice is fine")
        let differ = Settings.parse([
            "hydrationImage": "a/b:1", "remoteNamespace": "x",
            "hydration": ["image": "a/b:2", "namespace": "y"],
        ])
        guard case .failure(let e) = differ else {
            Issue.record("accepted differing aliases")
            return
        }
        #expect(
            e.description
                == #"input.hydration.image "a/b:2" differs from input.hydrationImage "a/b:1": input.hydrationImage is an alias of input.hydration.image; set one of them; "#
                + #"input.hydration.namespace "y" differs from input.remoteNamespace "x": input.remoteNamespace is an alias of input.hydration.namespace; set one of them"#
        )
    }

    @Test("The default image is the hydrator of this function's version")
    func defaultImage() {
        #expect(
            Settings().hydrationImage
                == "xpkg.crossplane.io/modelplane/function-modelcache-hydrator:v\(FunctionVersion.current)")
        #expect(FunctionVersion.description.hasPrefix(FunctionVersion.current + "\n"))
        #expect(FunctionVersion.description.hasSuffix(Settings().hydrationImage))
    }

    @Test("A bad input.hydration is FATAL for the whole request, naming the field")
    func fatal() {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(), clusters: [gpuEast],
                input: [
                    "apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input",
                    "hydration": ["endpoint": "mirror.example.com"],
                ]))
        #expect(r.isFatal)
        #expect(r.results.first?.message.contains(#"input.hydration.endpoint "mirror.example.com""#) == true)
        #expect(r.desired.resources.isEmpty)
    }
}
