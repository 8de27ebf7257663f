import FunctionCore

/// Crossplane and provider-kubernetes in a `World`: the requirements loop, applying and deleting desired state.
extension World {
    // MARK: - Crossplane

    /// One reconcile of `id`: the requirements loop, then desired state applied unless the answer is Fatal.
    mutating func reconcile(_ id: XRID) {
        guard var xr = xrs[id] else { return }
        if xr.spec != xr.specAtGeneration {
            xr.generation += 1
            xr.specAtGeneration = xr.spec
            xrs[id] = xr
        }
        let observed = State(composite: Resource(object: xr.object), resources: observedResources(xr))
        func call(_ required: [String: [Resource]]) -> RunResponse {
            Composer().run(
                RunRequest(tag: "\(id)", observed: observed, input: input(id), requiredResources: required))
        }
        // Crossplane calls again with the resources asked for until the requirements settle.
        var response = call([:])
        var previous: Requirements?
        var calls = 1
        while let asked = response.requirements, asked != previous, calls < 6 {
            previous = asked
            response = call(answer(asked, for: id))
            calls += 1
        }
        responses[id] = response
        for r in response.results { events.append((step, id, r)) }
        guard !response.isFatal else { return }  // Crossplane applies and deletes nothing.
        apply(response, to: id)
    }

    /// The requirement answers Crossplane fetches for `id`.
    func answer(_ asked: Requirements, for id: XRID) -> [String: [Resource]] {
        var out: [String: [Resource]] = [:]
        for (key, selector) in asked.resources {
            var items: [Value]
            switch selector.kind {
            case "InferenceCluster": items = clusters.keys.sorted().map { clusters[$0]! }
            case "ModelCache": items = xrs.values.filter { $0.id.kind == .cache }.sorted { $0.id < $1.id }.map(\.object)
            case "Usage": items = usages.keys.sorted().map { usages[$0]! }
            default: items = []
            }
            items = items.filter { item in
                switch selector.match {
                case .name(let n): return item[path: "metadata", "name"]?.stringValue == n
                case .labels(let labels):
                    return labels.allSatisfy { item[path: "metadata", "labels", $0.key]?.stringValue == $0.value }
                }
            }
            out[key] = answerEdit(step, id, key, items).map { Resource(object: $0) }
        }
        return out
    }

    /// What Crossplane observes of `xr`'s composed resources.
    func observedResources(_ xr: XRState) -> [String: Resource] {
        var out: [String: Resource] = [:]
        for (key, sent) in xr.composed {
            var object = sent.object
            if object["metadata"] == nil { object["metadata"] = [:] }
            object["metadata"]?["name"] = .string("\(xr.id.name)-\(key)")
            switch object["kind"]?.stringValue {
            case "Object":
                let (remote, ready) = observedRemote(object)
                object["status"] = [
                    "atProvider": ["manifest": remote ?? .null],
                    "conditions": [
                        [
                            "type": "Ready", "status": ready ? "True" : "False",
                            "reason": ready ? "Available" : "Creating",
                        ],
                        ["type": "Synced", "status": "True", "reason": "ReconcileSuccess"],
                    ],
                ]
                if remote == nil { object["status"]?["atProvider"] = [:] }
            case "Usage":
                object["status"] = ["conditions": [["type": "Ready", "status": "True", "reason": "Available"]]]
            case "ModelReplica":
                if let replica = xrs[.replica(replicaName(owner: xr.id, key: key))] { object = replica.object }
            default: break
            }
            out[key] = Resource(object: object)
        }
        return out
    }

    /// The name of the ModelReplica `owner` composes under `key` (`replica-<cluster>`).
    func replicaName(owner: XRID, key: String) -> String {
        "\(owner.name)-\(key.dropFirst("replica-".count))"
    }

    /// Applies a non-Fatal response: status, then composed resources (deleting what left desired state).
    mutating func apply(_ response: RunResponse, to id: XRID) {
        guard var xr = xrs[id] else { return }
        let before = xr.composed
        let desired = response.desired.resources
        if id.kind == .deployment { checkReadyCapacity(id, before: before, desired: desired) }
        if id.kind == .replica { checkCacheReady(id, response) }

        // Status: the function's, then its conditions merged by type, then Ready; pruned by the XRD.
        var status = response.desired.composite?.object["status"] ?? [:]
        var conditions: [String: Value] = [:]
        for c in xr.status["conditions"]?.listValue ?? [] { conditions[c["type"]?.stringValue ?? ""] = c }
        for c in response.conditions {
            let s = c.status == .true ? "True" : c.status == .false ? "False" : "Unknown"
            conditions[c.type] = [
                "type": .string(c.type), "status": .string(s), "reason": .string(c.reason),
                "message": .string(c.message ?? ""),
            ]
        }
        let ready: Bool
        switch response.desired.composite?.ready ?? .unspecified {
        case .ready: ready = true
        case .notReady: ready = false
        case .unspecified: ready = desired.values.allSatisfy { $0.ready == .ready }
        }
        conditions["Ready"] = [
            "type": "Ready", "status": ready ? "True" : "False", "reason": ready ? "Available" : "Creating",
        ]
        status["conditions"] = .list(conditions.keys.sorted().map { conditions[$0]! })
        xr.status = XRDSchemas.prune(status, XRDSchemas.status[id.kind.name])
        xr.composed = desired
        xrs[id] = xr
        checkNothingMoves(id, before: before, desired: desired)

        // Deletions first (what left desired state), then creations and updates, claims before Jobs.
        var deletedClaims: [(pc: String, claim: String)] = []
        for key in before.keys.sorted() where desired[key] == nil {
            deletedClaims += delete(before[key]!, key: key, owner: id)
        }
        checkClaimsInUse(id, deleted: deletedClaims)
        func order(_ r: Resource) -> Int {
            switch r.object[path: "spec", "forProvider", "manifest", "kind"]?.stringValue {
            case "PersistentVolumeClaim": return 0
            case "Job": return 2
            default: return 1
            }
        }
        for key in desired.keys.sorted(by: { (order(desired[$0]!), $0) < (order(desired[$1]!), $1) }) {
            applyComposed(desired[key]!, key: key, owner: id)
        }
    }

    /// Creates or updates one composed resource.
    mutating func applyComposed(_ resource: Resource, key: String, owner: XRID) {
        let object = resource.object
        switch object["kind"]?.stringValue {
        case "Object":
            guard let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
                let manifest = object[path: "spec", "forProvider", "manifest"], !Self.observesOnly(object)
            else { return }
            provide(manifest, on: pc, owner: owner)
        case "Usage":
            var usage = object
            usage["metadata"]?["name"] = .string("\(owner.name)-\(key)")
            usages["\(owner.name)-\(key)"] = usage
        case "ModelReplica":
            let id = XRID.replica(replicaName(owner: owner, key: key))
            let spec = object["spec"] ?? [:]
            if xrs[id] == nil {
                xrs[id] = XRState(id: id, spec: spec, owner: owner)
            } else {
                xrs[id]?.spec = spec
            }
            // Annotations the owner composes (e.g. modelplane.ai/refresh-revision) are applied too.
            for (k, v) in object[path: "metadata", "annotations"]?.objectValue ?? [:] {
                xrs[id]?.annotations[k] = v.stringValue
            }
        default: break
        }
    }

    /// Whether an Object only observes its remote object (`managementPolicies: [Observe]`, a
    /// volume source's claim): the provider never creates, updates or deletes it.
    static func observesOnly(_ object: Value) -> Bool {
        object[path: "spec", "managementPolicies"] == ["Observe"]
    }

    /// provider-kubernetes: creates the remote object, or updates it.
    mutating func provide(_ manifest: Value, on pc: String, owner: XRID) {
        let name = Self.remoteKey(manifest)
        var remote = remotes[pc] ?? Remote()
        defer { remotes[pc] = remote }
        switch manifest["kind"]?.stringValue {
        case "PersistentVolumeClaim":
            if remote.claims[name] == nil || remote.claims[name]?.deleting == true {
                remote.claims[name] = Claim(manifest: manifest, dirs: remote.claims[name]?.dirs ?? [:])
                remote.claims[name]?.deleting = false
            } else {
                remote.claims[name]?.manifest = manifest  // a larger request expands the claim
            }
        case "Job":
            // A Job's template is immutable: an existing Job is left as it is.
            if remote.jobs[name] == nil {
                remote.jobs[name] = createJob(manifest, on: pc, remote: remote, owner: owner)
            }
        case "Deployment", "LeaderWorkerSet":
            let template = RemoteWorkload.template(manifest)
            guard var w = remote.workloads[name] else {
                remote.workloads[name] = RemoteWorkload(
                    manifest: manifest, podSets: [PodSet(template: template, startedAt: step)], owner: owner)
                return
            }
            if w.manifest != manifest { w.generation += 1 }
            w.manifest = manifest
            if w.podSets.last?.template != template {
                // A new revision: pods of templates that never became available are scaled away,
                // available ones keep running until the new pods are available.
                w.podSets.removeAll { !$0.available }
                w.podSets.append(PodSet(template: template, startedAt: step))
                w.templates += 1
            }
            remote.workloads[name] = w
        case "ConfigMap":
            // The report ConfigMap's Object observes and creates, never updates: what the Job wrote stays.
            if remote.others["ConfigMap/\(name)"] == nil { remote.others["ConfigMap/\(name)"] = manifest }
        default:
            remote.others["\(manifest["kind"]?.stringValue ?? "")/\(name)"] = manifest
        }
    }

    /// A new hydration Job (first creation or a re-creation by the provider).
    mutating func createJob(_ manifest: Value, on pc: String, remote: Remote, owner: XRID) -> RemoteJob {
        let name = manifest[path: "metadata", "name"]?.stringValue ?? ""
        let spec = manifest[path: "spec", "template", "spec"]
        let container = spec?["containers"]?.listValue?.first
        func env(_ n: String) -> String? {
            container?["env"]?.listValue?.first { $0["name"]?.stringValue == n }?["value"]?.stringValue
        }
        let repo = env("MODEL_REPO") ?? ""
        let source = env("MODELCACHE_SOURCE") ?? (env("MODEL_REVISION").map { "hf://\(repo)@\($0)" } ?? "hf://\(repo)")
        let namespace = manifest[path: "metadata", "namespace"]?.stringValue
        let claim = Self.remoteKey(
            spec?["volumes"]?.listValue?.first?[path: "persistentVolumeClaim", "claimName"]?.stringValue ?? "",
            namespace: namespace)
        // A volume source's check Job (sources.md §1) reads the directory it mounts and writes nothing.
        let checks = source.hasPrefix("pvc://")
        let checked = container?["volumeMounts"]?.listValue?.first?["subPath"]?.stringValue ?? ""
        // The hydrator resolves the source to a commit (the pinned one when the Job carries it) and
        // writes that commit's directory; a Job of the previous release writes MODEL_DIR.
        let labels = manifest[path: "metadata", "labels"]
        let legacy = labels?[CacheStaging.intentLabel] == nil
        let pinnedDir = labels?[CacheStaging.revisionLabel]?.stringValue
        let commit =
            legacy
            ? nil
            : env("MODELCACHE_COMMIT") ?? pinnedDir.flatMap { resolvedDirs[$0] } ?? clusterCommits[cluster(pc)]
                ?? self.commit(for: source)
        let identity = commit.map { ResolvedPin.identity(of: source, at: $0) } ?? source
        let dir = checks ? checked : commit == nil ? env("MODEL_DIR") ?? "" : revisionDirectory(identity)
        if let commit, !checks { resolvedDirs[dir] = commit }
        let size = remote.claims[claim]?.manifest[path: "spec", "resources", "requests", "storage"]?.stringValue ?? ""
        let gib = Int64(size.dropLast(2)) ?? 0
        let o = xrs[owner]
        let fingerprint =
            (o?.spec.canonicalJSON() ?? "") + " " + Value.object(Fields(o?.annotations ?? [:])).canonicalJSON() + " "
            + size
        jobCreations["\(pc)/\(name)", default: 0] += 1
        let failureKey = "\(pc)/\(claim)/\(dir)"
        if let failed = permanentFailures[failureKey], failed.fingerprint == fingerprint {
            record(
                .noJobAfterPermanentFailure, object: "Job \(name) on \(cluster(pc))",
                "created again (creation \(jobCreations["\(pc)/\(name)"]!)) for \(identity) on claim \(claim) after Job "
                    + "\(failed.job) failed for good (\(failed.why)) at step \(failed.step), "
                    + "with nothing changed since (\(owner) spec, annotations and claim size)")
        }
        var outcome = hydration(
            JobRun(
                cluster: cluster(pc), name: name, identity: identity, claim: claim, claimGiB: gib,
                run: jobCreations["\(pc)/\(name)"]!))
        // The hydrator exits at once when the marker already holds this identity.
        if !checks, let d = remote.claims[claim]?.dirs[dir], d.complete, d.identity == identity {
            outcome = .complete()
        }
        var job = RemoteJob(
            manifest: manifest, outcome: outcome, claim: claim, dir: dir, identity: identity,
            keep: (env("MODELCACHE_KEEP") ?? env("KEEP_DIRS") ?? "").split(separator: " ").map(String.init),
            generation: Self.epoch(env("MODELCACHE_EPOCH"), legacy: env("MODEL_GENERATION")), owner: owner,
            fingerprint: fingerprint)
        job.checks = checks
        if !legacy {
            (job.commit, job.source, job.startedAt) = (commit, source, step)
            job.reportConfigMap = Self.remoteKey(
                env("MODELCACHE_REPORT_CONFIGMAP") ?? Self.reportConfigMap(owner: owner), namespace: namespace)
        }
        return job
    }

    /// The staging epoch `<generation>.<n>` as one comparable number (a bare generation is `<g>.0`).
    static func epoch(_ epoch: String?, legacy: String?) -> Int64 {
        let parts = (epoch ?? legacy ?? "0").split(separator: ".").map { Int64($0) ?? 0 }
        return (parts.first ?? 0) * 1_000_000 + (parts.count > 1 ? parts[1] : 0)
    }

    /// The report ConfigMap of the cache `owner` composes (hydrator.md §4's remote name).
    static func reportConfigMap(owner: XRID) -> String {
        childName(owner.kind == .cache ? "modelcache" : "modelreplica", Build.namespace, owner.name, "report")
    }

    /// Deletes one composed resource that left desired state; answers the claims deleted.
    mutating func delete(_ resource: Resource, key: String, owner: XRID) -> [(pc: String, claim: String)] {
        let object = resource.object
        switch object["kind"]?.stringValue {
        case "Object":
            let policies = object[path: "spec", "managementPolicies"]?.listValue?.compactMap(\.stringValue) ?? ["*"]
            guard policies.contains("*") || policies.contains("Delete"),
                let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
                let manifest = object[path: "spec", "forProvider", "manifest"],
                manifest[path: "metadata", "name"]?.stringValue != nil
            else { return [] }  // orphaned: the remote object stays
            let name = Self.remoteKey(manifest)
            switch manifest["kind"]?.stringValue {
            case "PersistentVolumeClaim":
                remotes[pc]?.claims[name]?.deleting = true
                return [(pc, name)]
            case "Job": remotes[pc]?.jobs[name] = nil
            case "Deployment", "LeaderWorkerSet": remotes[pc]?.workloads[name] = nil
            default: remotes[pc]?.others["\(manifest["kind"]?.stringValue ?? "")/\(name)"] = nil
            }
        case "Usage":
            usages["\(owner.name)-\(key)"] = nil
        case "ModelReplica":
            // Deleting the replica deletes everything it composed.
            let id = XRID.replica(replicaName(owner: owner, key: key))
            guard let replica = xrs[id] else { return [] }
            xrs[id] = nil
            var claims: [(pc: String, claim: String)] = []
            for k in replica.composed.keys.sorted() { claims += delete(replica.composed[k]!, key: k, owner: id) }
            return claims
        default: break
        }
        return []
    }
}
