import FunctionCore
import Testing

/// A `volume` source (sources.md §1) through whole sequences: the claim is someone
/// else's, filled by hand before the ModelCache exists; nothing the function does
/// may create, write, resize or delete it, while every invariant keeps holding.
@Suite struct VolumeSequenceCases {
    /// The user's claim on every cluster.
    static let claim = "shared-weights"
    /// The ModelCache spec adopting it, on the clusters labelled `pool: serving`.
    static let spec: Value = [
        "artifact": ["source": ["volume": ["claimName": .string(claim), "subPath": "llama"]]],
        "mount": ["path": .string(Build.mountPath)],
        "clusterSelector": ["matchLabels": ["pool": "serving"]],
    ]

    /// A world of `names` (no rwxCache: a volume cache needs none), each holding the user's
    /// bound claim with a complete `llama` directory written by hand.
    static func world(_ names: [String]) -> World {
        var w = World(clusters: names.map { Build.cluster($0, labels: ["pool": "serving"], rwx: false) })
        for name in names {
            var r = w.remotes[Build.providerConfig(name)] ?? Remote()
            r.claims[claim] = Claim(
                manifest: ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": .string(claim)]],
                bound: true, dirs: ["llama": RevisionDir(identity: "by hand", complete: true, generation: 0)])
            w.remotes[Build.providerConfig(name)] = r
        }
        return w
    }

    /// Records an issue for every cluster whose user claim is gone, deleted, or holds more than it was given.
    static func expectClaimsUntouched(_ w: World, sourceLocation: SourceLocation = #_sourceLocation) {
        for (pc, r) in w.remotes.sorted(by: { $0.key < $1.key }) {
            let c = r.claims[claim]
            #expect(c != nil && c?.deleting == false, "claim on \(pc)", sourceLocation: sourceLocation)
            #expect(
                c.map { Array($0.dirs.keys) } == ["llama"], "nothing written on \(pc)", sourceLocation: sourceLocation)
            #expect(r.claims.count == 1, "no claim of ours on \(pc)", sourceLocation: sourceLocation)
        }
    }

    @Test("Adopted, consumed, deselected while serving, deleted while in use: the claim is never touched")
    func adoptedConsumedDeselectedDeleted() {
        var w = Self.world(["gpu-east", "gpu-west"])
        w.add(.cache("weights"), spec: Self.spec)
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "weights"))
        w.run(until: "the replica serves from the claim, the cache Ready everywhere") { w in
            w.xrs[.replica("solo")]?.isReady == true
                && ["gpu-east", "gpu-west"].allSatisfy { w.entry(cache: "weights", cluster: $0)?["phase"] == "Ready" }
        }
        #expect(w.entry(cache: "weights", cluster: "gpu-east")?["staged"] == "pvc://shared-weights/llama")
        #expect(w.entry(cache: "weights", cluster: "gpu-east")?["consumers"] == 1)
        Self.expectClaimsUntouched(w)

        // Both clusters deselected: the one serving is Retained, the idle one released; nothing deleted.
        w.clusters["gpu-east"] = Build.cluster("gpu-east", rwx: false)
        w.clusters["gpu-west"] = Build.cluster("gpu-west", rwx: false)
        w.step(3)
        #expect(w.entry(cache: "weights", cluster: "gpu-east")?["phase"] == "Retained")
        #expect(w.entry(cache: "weights", cluster: "gpu-west") == nil)
        #expect(w.xrs[.replica("solo")]?.isReady == true)
        Self.expectClaimsUntouched(w)

        // Deleting the cache while in use is refused (its Usage); once the replica is gone it goes.
        let refused = !w.deleteCache(.cache("weights"))
        #expect(refused)
        w.deleteReplica(.replica("solo"))
        w.step()
        let deleted = w.deleteCache(.cache("weights"))
        #expect(deleted)
        w.step(2)
        Self.expectClaimsUntouched(w)
        w.expectNoViolations()
    }

    @Test(
        "A serving volume cache switched to Hugging Face and back: pods keep the claim they read until the new one is staged"
    )
    func kindSwitchedWhileServing() {
        var w = Self.world(["gpu-east"])
        w.clusters["gpu-east"] = Build.cluster("gpu-east", labels: ["pool": "serving"])
        w.startupSteps = 2
        w.add(.cache("weights"), spec: Self.spec)
        w.add(.replica("solo"), spec: Build.replicaSpec(cluster: "gpu-east", cache: "weights"))
        w.run(until: "the replica serves from the user's claim") { $0.xrs[.replica("solo")]?.isReady == true }
        var hf = Build.cacheSpec(selector: ["pool": "serving"])
        hf["mount"] = Self.spec["mount"]
        w.setSpec(.cache("weights"), hf)
        w.run(until: "the replica serves the Hugging Face revision") { w in
            w.entry(cache: "weights", cluster: "gpu-east")?["phase"] == "Ready"
                && w.xrs[.replica("solo")]?.status[path: "cache", "volume"]?.stringValue != Self.claim
                && w.xrs[.replica("solo")]?.isReady == true && !w.rollingOut("solo", on: "gpu-east")
        }
        w.setSpec(.cache("weights"), Self.spec)
        w.run(until: "the replica serves from the user's claim again") { w in
            w.xrs[.replica("solo")]?.status[path: "cache", "volume"]?.stringValue == Self.claim
                && w.xrs[.replica("solo")]?.isReady == true && !w.rollingOut("solo", on: "gpu-east")
        }
        let east = w.remotes[Build.providerConfig("gpu-east")]
        #expect(east?.claims[Self.claim]?.deleting == false)
        #expect(
            east?.claims[Self.claim].map { Array($0.dirs.keys) } == ["llama"], "nothing written on the user's claim")
        w.expectNoViolations()
    }

    @Test("A check Job that finds nothing fails at once, and the fixed claim is checked again on retry")
    func emptyThenFilled() {
        var w = Self.world(["gpu-east"])
        w.remotes[Build.providerConfig("gpu-east")]?.claims[Self.claim]?.dirs = [:]
        w.add(.cache("weights"), spec: Self.spec)
        w.run(until: "the cluster fails") { $0.entry(cache: "weights", cluster: "gpu-east")?["phase"] == "Failed" }
        #expect(
            w.entry(cache: "weights", cluster: "gpu-east")?["message"]?.stringValue?.contains("no files were found")
                == true)
        w.step(2)
        #expect(w.jobCreations.values.reduce(0, +) == 1, "a failure stays failed")
        w.remotes[Build.providerConfig("gpu-east")]?.claims[Self.claim]?.dirs["llama"] = RevisionDir(
            identity: "by hand", complete: true, generation: 0)
        w.xrs[.cache("weights")]?.annotations["modelplane.ai/retry-hydration"] = "1"
        w.run(until: "the cache is Ready") { $0.entry(cache: "weights", cluster: "gpu-east")?["phase"] == "Ready" }
        Self.expectClaimsUntouched(w)
        w.expectNoViolations()
    }
}

extension World {
    /// Deletes the ModelCache `id` as Crossplane would: refused while a Usage names it
    /// (answers false); otherwise every resource it composed is deleted and it is gone.
    mutating func deleteCache(_ id: XRID) -> Bool {
        let inUse = usages.values.contains { $0[path: "spec", "of", "resourceRef", "name"]?.stringValue == id.name }
        guard !inUse else { return false }
        guard let xr = xrs[id] else { return true }
        var claims: [(pc: String, claim: String)] = []
        for key in xr.composed.keys.sorted() { claims += delete(xr.composed[key]!, key: key, owner: id) }
        checkClaimsInUse(id, deleted: claims)
        xrs[id] = nil
        return true
    }

    /// Deletes the ModelReplica `id` (not owned by a deployment) and everything it composed.
    mutating func deleteReplica(_ id: XRID) {
        guard let xr = xrs[id] else { return }
        for key in xr.composed.keys.sorted() { _ = delete(xr.composed[key]!, key: key, owner: id) }
        xrs[id] = nil
    }
}
