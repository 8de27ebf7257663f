import FunctionCore
import Testing

/// The harness itself: the XRD pruning, a sequence every invariant holds
/// through, and each pod invariant catching a violation planted by hand.
@Suite struct HarnessTests {
    @Test("The XRD status schemas of every composed kind are read from apis/")
    func schemasLoaded() {
        #expect(Set(XRDSchemas.status.keys).isSuperset(of: ["ModelCache", "ModelDeployment", "ModelReplica"]))
    }

    @Test("Structural pruning drops undeclared status fields and keeps Crossplane's conditions")
    func pruning() {
        let written: Value = [
            "clusters": [
                [
                    "name": "gpu-east", "phase": "Failed", "failure": ["attempt": "a1", "extra": 2], "staged": "hf://x",
                    "x": 1,
                ]
            ],
            "summary": ["ready": "0/1", "extra": 1],
            "undeclared": true,
            "conditions": [["type": "Ready", "status": "False", "reason": "Creating"]],
        ]
        let pruned = XRDSchemas.prune(written, XRDSchemas.status["ModelCache"])
        #expect(
            pruned == [
                "clusters": [
                    ["name": "gpu-east", "phase": "Failed", "failure": ["attempt": "a1"], "staged": "hf://x"]
                ],
                "summary": ["ready": "0/1"],
                "conditions": [["type": "Ready", "status": "False", "reason": "Creating"]],
            ])
        let preserving: Value = [
            "type": "object",
            "properties": ["kept": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
        ]
        #expect(
            XRDSchemas.prune(["kept": ["any": 1], "dropped": 2], preserving) == ["kept": ["any": 1]],
            "x-kubernetes-preserve-unknown-fields keeps what it declares nothing about")
    }

    @Test("An update after the previous rollout completed keeps every pod on a complete revision")
    func updateAfterRollout() {
        var w = World.servingUpdates(["v2", "v3"])
        let claim = w.remotes[Build.providerConfig("gpu-east")]?.claims.values.first
        let onDisk = Set(claim?.dirs.values.map(\.identity) ?? [])
        #expect(
            onDisk == [w.pinned("hf://\(Build.repo)@v2"), w.pinned("hf://\(Build.repo)@v3")],
            "the v3 Job pruned v1 and kept v2, staged and mounted when it started")
        #expect(w.step < 20)
        w.expectNoViolations()
    }

    @Test("The pod invariant catches a revision removed under running pods")
    func plantedViolation() {
        var w = World.servingDeployment()
        let pc = Build.providerConfig("gpu-east")
        for name in w.remotes[pc]!.claims.keys { w.remotes[pc]!.claims[name]!.dirs = [:] }
        w.step()
        #expect(w.violations.map(\.invariant) == [.podMountsCompleteRevision])
        #expect(
            w.violations.first?.message.hasSuffix("the revision is missing on the claim (pruned or never staged)")
                == true)
    }

    @Test("The Job invariant catches a permanently failed Job created again with nothing changed")
    func plantedRecreation() {
        var w = World(clusters: [Build.cluster("gpu-east")])
        w.hydration = { _ in .fail(exitCode: 11) }
        w.add(.cache("big"), spec: Build.cacheSpec())
        w.run(until: "the cluster is Failed") { $0.entry(cache: "big", cluster: "gpu-east")?["phase"] == "Failed" }
        let pc = Build.providerConfig("gpu-east")
        let failed = w.remotes[pc]!.jobs.values.first!.manifest
        w.remotes[pc]!.jobs = [:]  // as if the TTL had removed it, and a provider created it again
        w.provide(failed, on: pc, owner: .cache("big"))
        #expect(w.violations.map(\.invariant) == [.noJobAfterPermanentFailure])
    }
}
