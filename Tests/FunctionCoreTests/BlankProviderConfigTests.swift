import Testing

@testable import FunctionCore

/// lifecycle.md §7 rule 7: a provider config blank for one reconcile keeps the
/// cluster's previous phase, and the message describes no Job (none is in desired state).
@Suite struct BlankProviderConfigTests {
    @Test(
        "A blank provider config keeps the previous phase and the claim, composes no Job, and says only what is true",
        arguments: [("Ready", true), ("Hydrating", false), ("Pending", false)])
    func keepsPhase(_ phase: String, _ staged: Bool) {
        var blank = Fixtures.cluster("gpu-east")
        blank["status"]?["providerConfigRef"] = ["name": ""]
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(
                    status: Lifecycle.status(
                        [("gpu-east", phase, staged ? Lifecycle.qwen.identity : nil)],
                        artifactReady: phase == "Ready" ? ("True", "Staged") : ("False", "Hydrating"))),
                clusters: [blank],
                observed: ["pvc-gpu-east": Lifecycle.observedClaim(providerConfig: "pc-gpu-east")]))
        let entry = r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first
        #expect(entry?["phase"] == .string(phase))
        #expect(r.desired.resources.keys.sorted() == ["pvc-gpu-east"])
        #expect(entry?["message"]?.stringValue?.contains("Downloading") == false, "no Job is described")
        #expect(r.results.isEmpty, "no transition, no event")
    }
}

/// lifecycle.md §7 rule 7: a message never describes a Job that is not in desired state.
@Suite struct MessagesDescribeDesiredStateTests {
    @Test(
        "A Job held back for an unusable token is not described as downloading",
        arguments: [(nil, "Pending"), (Lifecycle.qwen.identity, "Updating")])
    func tokenHeldBack(_ staged: String?, _ phase: String) {
        let r = Composer().run(
            Fixtures.request(
                Fixtures.modelCache(
                    spec: tokenSpec(), status: Lifecycle.status([("gpu-east", "Hydrating", staged)], source: "hf://x")),
                clusters: [Fixtures.cluster("gpu-east")],
                required: ["token-secret": [tokenSecret(["OTHER": "eA=="])]],
                observed: ["pvc-gpu-east": Fixtures.claim(phase: "Bound")]))
        let entry = r.desired.composite?.object[path: "status", "clusters"]?.listValue?.first
        #expect(r.desired.resources["hydrate-gpu-east"] == nil)
        #expect(entry?["phase"] == .string(phase))
        #expect(entry?["message"]?.stringValue?.contains("Downloading") == false)
        #expect(entry?["message"]?.stringValue?.contains("hydration waits for it") == true)
    }
}
