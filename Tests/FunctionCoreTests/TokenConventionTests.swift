import Testing

@testable import FunctionCore

/// One way a gated ModelCache's token can be set up, and what the Job must read.
struct TokenCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: String
    /// `tokenSecretRef.key`, nil for the default.
    let key: String?
    /// The `token-secret` answer: the control-plane Secrets found.
    let answer: [Value]
    /// Whether a copy of the Secret is composed on the cluster.
    let copied: Bool
    /// The Secret the Job's HF_TOKEN reads (nil: the copy's name), and its key.
    let jobSecret: String?
    let jobKey: String
    /// The field path both sides of the copy use, when copied.
    let fieldPath: String?
    /// Where the Hydrating message says the token is read from.
    let messageSays: String?
    /// The `ArtifactReady` reason.
    let artifactReady: String
    var testDescription: String { name }
}

func gatedSpec(key: String?) -> Value {
    var ref: Fields = ["name": "hf-token"]
    if let key { ref["key"] = .string(key) }
    return with(
        Fixtures.defaultSpec, "artifact",
        [
            "source": [
                "huggingFace": [
                    "repo": "meta-llama/Llama-3.1-8B-Instruct", "tokenSecretRef": .object(ref),
                ]
            ]
        ])
}

func controlPlaneSecret(_ data: Fields, name: String = "hf-token") -> Value {
    [
        "apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name), "namespace": "ml-team"],
        "data": .object(data),
    ]
}

let tokenCases: [TokenCase] = [
    TokenCase(
        name: "OnWorkloadClusters",
        reason: "No Secret on the control plane: the proposal's convention, the Job reads it in the remote namespace.",
        key: nil, answer: [], copied: false, jobSecret: "hf-token", jobKey: "HF_TOKEN", fieldPath: nil,
        messageSays: "with HF_TOKEN from key HF_TOKEN of Secret default/hf-token on the workload cluster",
        artifactReady: "Hydrating"),
    TokenCase(
        name: "OnControlPlane",
        reason: "A Secret on the control plane is copied to every cluster by provider-kubernetes.",
        key: nil, answer: [controlPlaneSecret(["HF_TOKEN": .string(secretValue)])], copied: true, jobSecret: nil,
        jobKey: "HF_TOKEN", fieldPath: "data.HF_TOKEN",
        messageSays:
            "with HF_TOKEN from key HF_TOKEN of Secret ml-team/hf-token on the control plane, copied to Secret ",
        artifactReady: "Hydrating"),
    TokenCase(
        name: "DottedKeyOnControlPlane",
        reason: "A key with dots is addressed in bracket form, which a dotted path would split.",
        key: "hf.token", answer: [controlPlaneSecret(["hf.token": .string(secretValue)])], copied: true, jobSecret: nil,
        jobKey: "hf.token", fieldPath: "data[hf.token]", messageSays: "key hf.token of Secret ml-team/hf-token",
        artifactReady: "Hydrating"),
    TokenCase(
        name: "DottedKeyOnWorkloadClusters",
        reason: "A key with dots read on the workload cluster is the secretKeyRef's key as written.",
        key: "hf.token", answer: [], copied: false, jobSecret: "hf-token", jobKey: "hf.token", fieldPath: nil,
        messageSays: "key hf.token of Secret default/hf-token on the workload cluster", artifactReady: "Hydrating"),
    TokenCase(
        name: "ControlPlaneSecretWithoutKey",
        reason: "A control-plane Secret that lacks the key is a mistake to report, not a workload-cluster Secret.",
        key: nil, answer: [controlPlaneSecret(["OTHER": "eA=="])], copied: false, jobSecret: nil, jobKey: "",
        fieldPath: nil, messageSays: nil, artifactReady: "TokenSecretMissing"),
    TokenCase(
        name: "ControlPlaneSecretEmptyValue",
        reason: "An empty value counts as missing.",
        key: nil, answer: [controlPlaneSecret(["HF_TOKEN": ""])], copied: false, jobSecret: nil, jobKey: "",
        fieldPath: nil, messageSays: nil, artifactReady: "TokenSecretMissing"),
    TokenCase(
        name: "AnswerNamesAnotherSecret",
        reason: "Only the Secret asked for counts: another one in the answer is as good as none.",
        key: nil, answer: [controlPlaneSecret(["HF_TOKEN": "eA=="], name: "other")], copied: false,
        jobSecret: "hf-token", jobKey: "HF_TOKEN", fieldPath: nil,
        messageSays: "of Secret default/hf-token on the workload cluster", artifactReady: "Hydrating"),
]

@Suite struct TokenConventionTests {
    @Test(arguments: tokenCases)
    func token(_ c: TokenCase) throws {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(spec: gatedSpec(key: c.key)), clusters: [gpuEast],
                required: ["token-secret": c.answer], observed: ["hydrate-sa-gpu-east": Lifecycle.readyAccount]))
        #expect(!r.isFatal, "\(r.results)")
        #expect(cond(r, "ArtifactReady")?.reason == c.artifactReady, "\(c.name): \(c.reason)")
        #expect((r.desired.resources["token-gpu-east"] != nil) == c.copied, "\(c.name): \(c.reason)")
        #expect(!r.canonicalValue.canonicalJSON().contains(secretValue), "the token's value never appears")
        guard c.artifactReady != "TokenSecretMissing" else {
            // The claim is composed; the Job and the copy wait, with one Warning.
            #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
            #expect(r.results.contains { $0.severity == .warning && $0.reason == "TokenSecretMissing" })
            return
        }
        #expect(!r.results.contains { $0.reason == "TokenSecretMissing" })
        let env = try #require(
            manifest(r, "hydrate-gpu-east")?[path: "spec", "template", "spec", "containers"]?
                .listValue?.first?["env"]?.listValue)
        let ref = try #require(env.first { $0["name"] == "HF_TOKEN" }?[path: "valueFrom", "secretKeyRef"])
        let expectedSecret = c.jobSecret ?? manifest(r, "token-gpu-east")?[path: "metadata", "name"]?.stringValue
        #expect(ref["name"]?.stringValue == expectedSecret)
        #expect(ref["key"]?.stringValue == c.jobKey)
        if let path = c.fieldPath {
            let reference = r.desired.resources["token-gpu-east"]?.object[path: "spec", "references"]?.listValue?.first
            #expect(reference?[path: "patchesFrom", "fieldPath"]?.stringValue == path)
            #expect(reference?[path: "patchesFrom", "name"] == "hf-token")
            #expect(reference?[path: "patchesFrom", "namespace"] == "ml-team")
            #expect(reference?["toFieldPath"]?.stringValue == path)
        }
        // Bound claim: the cluster is Hydrating, and its message says where the token is read.
        let bound = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(spec: gatedSpec(key: c.key)), clusters: [gpuEast],
                required: ["token-secret": c.answer],
                observed: [
                    "pvc-gpu-east": Fixtures.claim(phase: "Bound"), "hydrate-sa-gpu-east": Lifecycle.readyAccount,
                ]))
        let message = statusClusters(bound).first?["message"]?.stringValue ?? ""
        #expect(message.contains(c.messageSays ?? "<none>"), "\(c.name): \(message)")
    }

    @Test("Field paths: plain keys stay dotted, keys with dots use brackets")
    func dataPath() {
        #expect(TokenSource.dataPath("HF_TOKEN") == "data.HF_TOKEN")
        #expect(TokenSource.dataPath("hf.token") == "data[hf.token]")
        #expect(TokenSource.dataPath(".hf") == "data[.hf]")
    }
}
