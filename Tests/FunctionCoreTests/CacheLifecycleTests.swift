import Testing

@testable import FunctionCore

/// The phase machine of lifecycle.md §2 across a source change, driven through
/// a simulated control loop (`CacheWorld`) on one and on several clusters.
@Suite struct CacheLifecycleTests {
    static let fleets: [[String]] = [["gpu-east"], ["gpu-east", "gpu-west"]]
    static let v1 = Lifecycle.qwen.identity
    static let v2 = Lifecycle.qwenV2.identity
    /// What `staged` reads once v1's and v2's Jobs reported their commits.
    static let s1 = Lifecycle.pinned(Lifecycle.qwen)
    static let s2 = Lifecycle.pinned(Lifecycle.qwenV2)

    func world(_ names: [String]) -> CacheWorld { CacheWorld(clusters: names.map { Fixtures.cluster($0) }) }

    func spec(revision: String?) -> Value {
        var hf: Value = ["repo": "Qwen/Qwen2.5-0.5B-Instruct"]
        if let revision { hf["revision"] = .string(revision) }
        return with(Fixtures.defaultSpec, "artifact", ["source": ["huggingFace": hf]])
    }

    func env(_ r: RunResponse, _ cluster: String, _ name: String) -> Value? {
        manifest(r, "hydrate-\(cluster)")?[path: "spec", "template", "spec", "containers"]?.listValue?.first?["env"]?
            .listValue?.first { $0["name"]?.stringValue == name }?["value"]
    }

    /// The revision directory the cluster's Job writes (its `modelplane.ai/cache-revision` label).
    func revision(_ r: RunResponse, _ cluster: String) -> Value? {
        manifest(r, "hydrate-\(cluster)")?[path: "metadata", "labels", CacheStaging.revisionLabel]
    }

    /// Completes every Job currently composed.
    func completeAll(_ w: inout CacheWorld, _ names: [String]) {
        for c in names { w.finish(c, ("Complete", "Completed", "done")) }
    }

    /// A world where `v1` is staged and Ready on every cluster and the Jobs are gone.
    func staged(_ names: [String]) -> CacheWorld {
        var w = world(names)
        w.reconcile()
        completeAll(&w, names)
        w.reconcile()
        w.reconcile()
        return w
    }

    @Test(
        "First staging: Pending, then Hydrating, then Ready with staged set; the latch holds after the Job is dropped",
        arguments: fleets)
    func firstStaging(_ names: [String]) {
        var w = world(names)
        let first = w.reconcile()
        #expect(names.allSatisfy { w.entry($0)?["phase"] == "Pending" }, "the claim is not observed yet")
        #expect(first.results.map(\.reason) == ["Staging"])
        for c in names {
            #expect(revision(first, c) == nil, "before a pin the directory is the hydrator's to compute")
            #expect(env(first, c, "MODELCACHE_SOURCE") == .string(Lifecycle.qwen.identity))
            #expect(manifest(first, "hydrate-\(c)")?[path: "spec", "template", "spec", "restartPolicy"] == "Never")
        }
        w.reconcile()
        #expect(names.allSatisfy { w.entry($0)?["phase"] == "Hydrating" && w.entry($0)?["staged"] == nil })
        completeAll(&w, names)
        let done = w.reconcile()
        #expect(names.allSatisfy { w.entry($0)?["phase"] == "Ready" && w.entry($0)?["staged"] == .string(Self.s1) })
        #expect(done.desired.resources.keys.filter { isJobKey($0) }.isEmpty, "the Job leaves desired state")
        #expect(done.desired.composite?.ready == .ready)
        #expect(done.results.map(\.reason) == ["Staged"])
        let latched = w.reconcile()
        #expect(w.composed.keys.filter { isJobKey($0) }.isEmpty)
        #expect(names.allSatisfy { w.entry($0)?["phase"] == "Ready" && w.entry($0)?["staged"] == .string(Self.s1) })
        #expect(latched.results.isEmpty)
        #expect(Composer().run(w.request) == Composer().run(w.request), "deterministic")
    }

    @Test(
        "Update: the old revision stays staged while the new one downloads (Updating), then each cluster switches when its Job completes",
        arguments: fleets)
    func update(_ names: [String]) {
        var w = staged(names)
        w.spec = spec(revision: "v2")
        let started = w.reconcile()
        for c in names {
            #expect(w.entry(c)?["phase"] == "Updating")
            #expect(w.entry(c)?["staged"] == .string(Self.s1), "the old revision keeps serving")
            #expect(w.entry(c)?["source"] == .string(Self.v2))
            #expect(w.entry(c)?["message"]?.stringValue?.hasSuffix("\(Self.s1) keeps serving") == true)
            #expect(env(started, c, "MODELCACHE_SOURCE") == .string(Lifecycle.qwenV2.identity))
            #expect(
                env(started, c, "MODELCACHE_KEEP") == .string(revisionDirectory(Self.s1)),
                "pruning keeps the staged revision"
            )
        }
        #expect(cond(started, "ArtifactReady")?.reason == "Updating")
        #expect(started.desired.composite?.ready == .notReady)
        let n = names.count
        #expect(
            started.results.map(\.message)
                == [
                    "Updating \(Self.s1) → \(Self.v2) on \(n) \(n == 1 ? "cluster" : "clusters"): \(names.joined(separator: ", "))"
                ])
        #expect(w.reconcile().results.isEmpty, "the update event is not repeated")

        // The first cluster's Job completes: it switches; the others keep serving v1.
        w.finish(names[0], ("Complete", "Completed", "done"))
        let switched = w.reconcile()
        #expect(w.entry(names[0])?["phase"] == "Ready")
        #expect(w.entry(names[0])?["staged"] == .string(Self.s2))
        #expect(switched.results.contains { $0.message == "Switched \(names[0]) from \(Self.s1) to \(Self.s2)" })
        for c in names.dropFirst() {
            #expect(w.entry(c)?["phase"] == "Updating")
            #expect(w.entry(c)?["staged"] == .string(Self.s1))
            #expect(cond(switched, "ArtifactReady")?.reason == "Updating")
        }
        completeAll(&w, names)
        w.reconcile()
        let cleaned = w.reconcile()
        #expect(
            names.allSatisfy { w.entry($0)?["phase"] == "Ready" && w.entry($0)?["staged"] == .string(Self.s2) },
            "the latch holds after the Jobs are cleaned up")
        #expect(cleaned.desired.composite?.ready == .ready)
        #expect(cleaned.results.isEmpty)
    }

    @Test(
        "Failed update: the old revision still serves, the cluster is Failed with the translated message and one Warning naming it",
        arguments: [
            (
                10,
                "the repo, revision or commit was not found; check spec.artifact.source.huggingFace.repo and revision"
            ),
            (
                11,
                "it does not fit in claim modelcache-ml-team-qwen-2-5-b6b9a; the model does not fit: raise "
                    + "spec.storage.sizeGiB"
            ),
        ])
    func failedUpdate(_ code: Int, _ words: String) {
        var w = staged(["gpu-east"])
        w.spec = spec(revision: "v2")
        w.reconcile()
        w.finish("gpu-east", Lifecycle.failedWith(exitCode: code))
        let failed = w.reconcile()
        let message = w.entry("gpu-east")?["message"]?.stringValue ?? ""
        #expect(w.entry("gpu-east")?["phase"] == "Failed")
        #expect(w.entry("gpu-east")?["staged"] == .string(Self.s1))
        #expect(message.hasPrefix("Cannot stage \(Self.v2) on gpu-east: "))
        #expect(message.contains(words))
        #expect(message.hasSuffix("; \(Self.s1) keeps serving"))
        #expect(message.unicodeScalars.count <= statusMessageLimit)
        let warnings = failed.results.filter { $0.severity == .warning }.map(\.message)
        #expect(warnings.count == 1 && statusMessage(warnings[0]) == message, "the Warning carries the whole message")
        #expect(cond(failed, "ArtifactReady")?.reason == "Failed")
        #expect(w.reconcile().results.isEmpty, "no second Warning")
        // The provider re-creates the expired Job and it runs again: still Failed, nothing new to say.
        w.finish("gpu-east", nil)
        let rerun = w.reconcile()
        #expect(w.entry("gpu-east")?["phase"] == "Failed")
        #expect(w.entry("gpu-east")?["message"]?.stringValue == message)
        #expect(rerun.results.isEmpty)
    }

    @Test(
        "Back to an older revision still on disk: a fresh Job (never the old completed one) that keeps the staged revision, then a switch"
    )
    func switchBack() {
        var w = staged(["gpu-east"])
        let firstV1Job = Lifecycle.firstJob()[path: "metadata", "name"]?.stringValue
        w.spec = spec(revision: "v2")
        w.reconcile()
        completeAll(&w, ["gpu-east"])
        w.reconcile()
        w.reconcile()
        #expect(w.entry("gpu-east")?["staged"] == .string(Self.s2))
        w.spec = spec(revision: nil)
        let back = w.reconcile()
        #expect(w.entry("gpu-east")?["phase"] == "Updating")
        #expect(w.entry("gpu-east")?["staged"] == .string(Self.s2))
        #expect(
            w.jobName("gpu-east") != firstV1Job, "an old completed Job of the same source is never taken for this one")
        #expect(env(back, "gpu-east", "MODELCACHE_SOURCE") == .string(Lifecycle.qwen.identity))
        #expect(env(back, "gpu-east", "MODELCACHE_KEEP") == .string(revisionDirectory(Self.s2)))
        completeAll(&w, ["gpu-east"])
        let switched = w.reconcile()
        #expect(w.entry("gpu-east")?["phase"] == "Ready")
        #expect(w.entry("gpu-east")?["staged"] == .string(Self.s1))
        #expect(switched.results.map(\.message).contains("Switched gpu-east from \(Self.s2) to \(Self.s1)"))
    }

    @Test(
        "A Job's template values are frozen while it runs: a new consumer changes MODELCACHE_KEEP only for the next Job"
    )
    func frozenTemplate() {
        var w = staged(["gpu-east"])
        w.spec = spec(revision: "v2")
        let started = w.reconcile()
        let job = manifest(started, "hydrate-gpu-east")
        w.usages = [Lifecycle.usage("r1", cluster: "gpu-east", revision: "rev-0123456789ab")]
        let later = w.reconcile()
        #expect(manifest(later, "hydrate-gpu-east") == job, "a Job's pod template is immutable")
        #expect(w.entry("gpu-east")?["consumers"] == 1)
    }

    @Test("The retry annotation gives Failed clusters a new Job and leaves running ones alone")
    func retry() {
        var w = world(["gpu-east", "gpu-west"])
        w.reconcile()
        w.reconcile()
        let eastJob = w.jobName("gpu-east")!
        let westJob = w.jobName("gpu-west")!
        w.finish("gpu-east", ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"))
        let failed = w.reconcile()
        let message = w.entry("gpu-east")?["message"]?.stringValue ?? ""
        #expect(
            message
                == "Hydration Job \(eastJob) on gpu-east failed: BackoffLimitExceeded: \"Job has reached the specified "
                + "backoff limit\"; set annotation modelplane.ai/retry-hydration to a new value to retry")
        #expect(failed.results.map(\.message) == [message])
        w.annotations = ["modelplane.ai/retry-hydration": "1"]
        let retried = w.reconcile()
        #expect(w.jobName("gpu-east") != eastJob, "a new Job for the Failed cluster")
        #expect(w.jobName("gpu-west") == westJob, "the running Job is kept")
        #expect(w.entry("gpu-east")?["phase"] == "Hydrating")
        #expect(
            manifest(retried, "hydrate-gpu-east")?[path: "metadata", "labels", "modelplane.ai/hydration-attempt"]
                != manifest(failed, "hydrate-gpu-east")?[path: "metadata", "labels", "modelplane.ai/hydration-attempt"])
        // The same annotation value again does not retry again.
        w.finish("gpu-east", ("Failed", "BackoffLimitExceeded", "again"))
        w.reconcile()
        let stuck = w.jobName("gpu-east")
        w.reconcile()
        #expect(w.jobName("gpu-east") == stuck)
        #expect(w.entry("gpu-east")?["phase"] == "Failed")
    }

    @Test("A queued update keeps serving the staged revision and says it is queued")
    func queuedUpdate() {
        var w = staged(["gpu-east", "gpu-west"])
        w.input = ["apiVersion": "modelcache.fn.modelplane.ai/v1alpha1", "kind": "Input", "maxParallelHydrations": 1]
        w.spec = spec(revision: "v2")
        let r = w.reconcile()
        #expect(r.desired.resources.keys.filter { isJobKey($0) } == ["hydrate-gpu-east"])
        #expect(w.entry("gpu-west")?["phase"] == "Updating")
        #expect(w.entry("gpu-west")?["staged"] == .string(Self.s1))
        #expect(
            w.entry("gpu-west")?["message"]
                == .string("Queued: at most 1 hydration Jobs run at once; \(Self.s1) keeps serving"))
    }

    @Test("A gated model's token value never appears in any response across an update, a failure and a retry")
    func tokenNeverInOutput() {
        var w = world(["gpu-east"])
        w.spec = tokenSpec()
        w.required = ["token-secret": [tokenSecret(["HF_TOKEN": .string(secretValue)])]]
        var responses = [w.reconcile()]
        w.finish("gpu-east", ("Complete", "Completed", "done"))
        responses.append(w.reconcile())
        w.spec = with(
            tokenSpec(), "artifact",
            [
                "source": [
                    "huggingFace": [
                        "repo": "meta-llama/Llama-3.1-8B-Instruct", "revision": "v2",
                        "tokenSecretRef": ["name": "hf-token"],
                    ]
                ]
            ])
        responses.append(w.reconcile())
        #expect(responses.last?.desired.resources["token-gpu-east"] != nil, "the copy is back while updating")
        w.finish("gpu-east", Lifecycle.failedWith(exitCode: 10))
        responses.append(w.reconcile())
        w.annotations = ["modelplane.ai/retry-hydration": "now"]
        responses.append(w.reconcile())
        for r in responses { #expect(!r.canonicalValue.canonicalJSON().contains(secretValue)) }
    }

    @Test(
        "The control-plane token Secret vanishing while a Job runs changes neither the running Job's template nor its token copy; the next Job reads the workload cluster's Secret"
    )
    func tokenSourceFrozenForRunningJob() {
        var w = world(["gpu-east"])
        w.spec = tokenSpec()
        w.required = ["token-secret": [tokenSecret(["HF_TOKEN": .string(secretValue)])]]
        let first = w.reconcile()
        let job = manifest(first, "hydrate-gpu-east")
        let copy = first.desired.resources["token-gpu-east"]?.object
        #expect(copy != nil)
        w.required = ["token-secret": []]
        let flapped = w.reconcile()
        #expect(manifest(flapped, "hydrate-gpu-east") == job, "a Job's template is immutable: it is sent as it was")
        #expect(
            flapped.desired.resources["token-gpu-east"]?.object[path: "spec"] == copy?[path: "spec"],
            "the copy the running Job reads stays")
        // The Job fails; its retry is a new Job, which reads the Secret on the workload cluster.
        w.finish("gpu-east", ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"))
        _ = w.reconcile()
        w.annotations = ["modelplane.ai/retry-hydration": "1"]
        let retried = w.reconcile()
        let env = manifest(retried, "hydrate-gpu-east")?[path: "spec", "template", "spec", "containers"]?.listValue?
            .first?["env"]?.listValue?.first { $0["name"] == "HF_TOKEN" }
        #expect(manifest(retried, "hydrate-gpu-east")?[path: "metadata", "name"] != job?[path: "metadata", "name"])
        #expect(env?[path: "valueFrom", "secretKeyRef", "name"] == "hf-token")
    }

    @Test(
        "Clusters whose staged identities differ only in Unicode normalization get the Job names their own bytes give"
    )
    func jobNamesFollowBytes() throws {
        // Job names are digests of bytes; Swift's == equates canonically equivalent strings,
        // so a name worked out once for several clusters must be keyed by bytes.
        let composed = "hf://org/caf\u{E9}"  // é, one scalar
        let decomposed = "hf://org/cafe\u{301}"  // e + combining acute
        #expect(composed == decomposed && !utf8Equal(composed, decomposed))
        var w = world(["gpu-a", "gpu-b"])
        w.reconcile()
        // The first Jobs are gone (expired); each cluster had another revision staged.
        w.composed = w.composed.filter { !$0.key.hasPrefix("hydrate-") }
        w.status = Lifecycle.status([("gpu-a", "Ready", composed), ("gpu-b", "Ready", decomposed)])
        let r = w.reconcile()
        // The XR's generation (1) is part of every Job name.
        let s = CacheStaging(
            ownerKind: "modelcache", namespace: "ml-team", name: "qwen-2-5", source: .huggingFace(Lifecycle.qwen),
            token: nil,
            labels: [:], settings: Settings(), generation: w.generation)
        let a = try #require(manifest(r, "hydrate-gpu-a")?[path: "metadata", "name"]?.stringValue)
        let b = try #require(manifest(r, "hydrate-gpu-b")?[path: "metadata", "name"]?.stringValue)
        #expect(a == s.newJobName(staged: composed, replacing: nil))
        #expect(b == s.newJobName(staged: decomposed, replacing: nil))
        #expect(a != b)
    }

    // A source that comes back after its revision was pruned is staged again.

    /// A spec that stages `repo`.
    func spec(_ repo: String) -> Value {
        with(Fixtures.defaultSpec, "artifact", ["source": ["huggingFace": ["repo": .string(repo)]]])
    }

    /// Changes the source (a spec change: the generation goes up) and completes the Job it starts.
    func stage(_ w: inout CacheWorld, _ repo: String) {
        w.spec = spec(repo)
        w.generation += 1
        w.reconcile()
        w.finish("gpu-east", ("Complete", "Completed", "done"))
        w.reconcile()
        w.reconcile()
    }

    @Test(
        "A → B → C → A → B while B's finished Job is still on the cluster: B is downloaded again, not taken as staged")
    func sourceReturnsAfterPrune() {
        var w = CacheWorld(clusters: [Fixtures.cluster("gpu-east")])
        w.spec = spec("o/a")
        w.reconcile()
        w.finish("gpu-east", ("Complete", "Completed", "done"))
        w.reconcile()
        stage(&w, "o/b")
        let firstB = w.jobOutcome.keys.sorted()
        #expect(w.entry("gpu-east")?["staged"] == .string(Lifecycle.pinned(ArtifactSource(repo: "o/b", revision: nil))))
        stage(&w, "o/c")
        stage(&w, "o/a")  // its Job prunes rev-<b>: neither staged nor mounted
        #expect(w.entry("gpu-east")?["staged"] == .string(Lifecycle.pinned(ArtifactSource(repo: "o/a", revision: nil))))

        w.spec = spec("o/b")
        w.generation += 1
        w.reconcile()
        w.reconcile()
        let name = w.jobName("gpu-east")
        #expect(name != nil && !firstB.contains("gpu-east/\(name ?? "")"), "a new Job, not B's earlier finished one")
        #expect(
            w.entry("gpu-east")?["staged"] == .string(Lifecycle.pinned(ArtifactSource(repo: "o/a", revision: nil))),
            "the pods stay on A until B is downloaded again")
        #expect(w.entry("gpu-east")?["phase"] == "Updating")
    }
}
