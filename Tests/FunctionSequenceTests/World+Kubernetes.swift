import FunctionCore

/// Kubernetes on the workload clusters of a `World`: time passing between reconciles, and what the provider observes.
extension World {
    // MARK: - Kubernetes and the provider between reconciles

    /// Time passes on every workload cluster; the provider re-creates desired objects that are gone.
    mutating func tick() {
        for pc in remotes.keys.sorted() {
            var r = remotes[pc]!
            for name in r.claims.keys.sorted() {
                if !r.claims[name]!.bound && !unbound.contains(name) { r.claims[name]!.bound = true }
                if r.claims[name]!.deleting && !Self.mounted(name, in: r) { r.claims[name] = nil }
            }
            for name in r.jobs.keys.sorted() { advanceJob(name, &r, pc: pc) }
            for name in r.workloads.keys.sorted() {
                var w = r.workloads[name]!
                for i in w.podSets.indices where !w.podSets[i].available {
                    let set = w.podSets[i]
                    if step - set.startedAt >= startupSteps,
                        Self.mountProblems(set.template, namespace: Self.namespace(w.manifest), in: r).isEmpty
                    {
                        w.podSets[i].available = true
                    }
                }
                if w.podSets.last?.available == true { w.podSets.removeFirst(w.podSets.count - 1) }
                r.workloads[name] = w
            }
            remotes[pc] = r
        }
        // provider-kubernetes: an Object in desired state whose remote object is gone creates it again.
        for id in xrs.keys.sorted() {
            guard let xr = xrs[id] else { continue }
            for key in xr.composed.keys.sorted() {
                let object = xr.composed[key]!.object
                guard object["kind"]?.stringValue == "Object",
                    let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
                    let manifest = object[path: "spec", "forProvider", "manifest"], !Self.observesOnly(object),
                    observedRemote(object).remote == nil
                else { continue }
                provide(manifest, on: pc, owner: id)
            }
        }
    }

    /// One step of a Job: it runs while its claim is bound, then ends; the TTL removes it once finished.
    mutating func advanceJob(_ key: String, _ r: inout Remote, pc: String) {
        var job = r.jobs[key]!
        let name = job.manifest[path: "metadata", "name"]?.stringValue ?? key
        if let finished = job.finishedAt {
            if step - finished == reportLagSteps { writeReport(job, name: name, &r) }  // the last report, late
            if step - finished >= ttlSteps { r.jobs[key] = nil }  // Kubernetes' TTL controller
            return
        }
        guard var claim = r.claims[job.claim], claim.bound, !claim.deleting else { return }
        defer {
            r.jobs[key] = job
            r.claims[job.claim] = claim
            if job.finishedAt == nil || reportLagSteps == 0 { writeReport(job, name: name, &r) }
        }
        job.age += 1
        if job.checks {
            // A check Job writes nothing; it finds no files when its directory holds no complete one.
            let found = job.dir.isEmpty ? !claim.dirs.isEmpty : claim.dirs[job.dir]?.complete == true
            if case .complete = job.outcome, !found { job.outcome = .fail(exitCode: 10) }
        } else {
            var dir = claim.dirs[job.dir] ?? RevisionDir(identity: job.identity, complete: false, generation: 0)
            if dir.identity != job.identity {
                dir = RevisionDir(identity: job.identity, complete: false, generation: 0)
            }
            dir.generation = max(dir.generation, job.generation)
            claim.dirs[job.dir] = dir
        }
        switch job.outcome {
        case .running: return
        case .complete(let after):
            guard job.age >= after else { return }
            if job.checks {
                job.condition = ["type": "Complete", "status": "True", "reason": "Completed", "message": ""]
                break
            }
            claim.dirs[job.dir]?.complete = true
            // The hydration program's pruning: every other revision except those kept, those
            // being written, and those written by the same or a newer generation.
            let active = Set(
                r.jobs.values.filter { $0.finishedAt == nil && $0.claim == job.claim && $0.dir != job.dir }.map(\.dir))
            for (other, d) in claim.dirs
            where other != job.dir && !job.keep.contains(other) && !active.contains(other)
                && d.generation < job.generation
            {
                claim.dirs[other] = nil
            }
            job.condition = ["type": "Complete", "status": "True", "reason": "Completed", "message": ""]
        case .fail(let code, let after):
            guard job.age >= after else { return }
            job.exitCode = code
            // The Job's own podFailurePolicy decides: a FailJob rule on the exit code fails it at once;
            // any other code is retried until the backoff limit is exhausted (`after` steps in all).
            let rules = job.manifest[path: "spec", "podFailurePolicy", "rules"]?.listValue ?? []
            if let index = rules.firstIndex(where: {
                $0["action"] == "FailJob"
                    && ($0[path: "onExitCodes", "values"]?.listValue ?? []).contains(.int(Int64(code)))
            }) {
                job.condition = [
                    "type": "Failed", "status": "True", "reason": "PodFailurePolicy",
                    "message": .string(
                        "Container hydrate for pod \(Self.namespace(job.manifest))/\(name)-x7k2p failed with exit code \(code) matching "
                            + "FailJob rule at index \(index)"),
                ]
                permanentFailures["\(pc)/\(job.claim)/\(job.dir)"] = (step, name, "exit \(code)", job.fingerprint)
            } else {
                job.condition = [
                    "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                ]
                // lifecycle.md §7 rule 5: a Job whose backoff is exhausted is as final as a permanent failure.
                permanentFailures["\(pc)/\(job.claim)/\(job.dir)"] = (
                    step, name, "exit \(code), backoff limit exhausted", job.fingerprint
                )
            }
        }
        job.finishedAt = step
    }

    /// The hydrator's report (hydrator.md §4) of `job`, written into its ConfigMap when that
    /// exists: Downloading with progress while it runs, then Complete with the commit, or Failed
    /// with the exit code and its reason. A Job of the previous release writes none.
    func writeReport(_ job: RemoteJob, name: String, _ r: inout Remote) {
        guard let commit = job.commit, let configMap = job.reportConfigMap,
            var cm = r.others["ConfigMap/\(configMap)"]
        else { return }
        let total: Int64 = 16 << 30
        var report: Value = [
            "version": 1, "job": .string(name), "source": .string(job.source), "commit": .string(commit),
            "dir": .string(job.dir), "totalBytes": .int(total), "files": 8, "verifiedFiles": 0,
            "startedAt": .string(Self.time(job.startedAt)), "updatedAt": .string(Self.time(step)),
        ]
        switch job.condition?["type"]?.stringValue {
        case "Complete":
            report["phase"] = "Complete"
            (report["doneBytes"], report["filesDone"], report["verifiedFiles"]) = (.int(total), 8, 8)
            report["completedAt"] = .string(Self.time(step))
        case "Failed":
            let code = job.exitCode ?? 1
            let reasons = [2: "BadInput", 10: "NotFound", 11: "DoesNotFit", 12: "ChecksumMismatch"]
            report["phase"] = "Failed"
            report["completedAt"] = .string(Self.time(step))
            report["failure"] = [
                "code": .int(Int64(code)), "reason": .string(reasons[code] ?? "Transient"), "message": "",
            ]
        default:
            let done = min(total, Int64(job.age) * (2 << 30))
            report["phase"] = "Downloading"
            (report["doneBytes"], report["filesDone"]) = (.int(done), .int(Int64(job.age)))
            report["bytesPerSecond"] = .int(200 << 20)
        }
        cm["data"] = ["report.json": .string(report.canonicalJSON())]
        r.others["ConfigMap/\(configMap)"] = cm
    }

    /// The key of the remote object `manifest` describes: its name in the default namespace,
    /// `<namespace>/<name>` in any other.
    static func remoteKey(_ manifest: Value) -> String {
        remoteKey(manifest[path: "metadata", "name"]?.stringValue ?? "", namespace: namespace(manifest))
    }

    /// The key of the remote object `name` in `namespace` (nil: the default one).
    static func remoteKey(_ name: String, namespace: String?) -> String {
        namespace == nil || namespace == "default" ? name : "\(namespace!)/\(name)"
    }

    /// The namespace of the remote object `manifest` describes.
    static func namespace(_ manifest: Value) -> String {
        manifest[path: "metadata", "namespace"]?.stringValue ?? "default"
    }

    /// An RFC 3339 time for `step` (a step is a minute).
    static func time(_ step: Int) -> String {
        let s = max(0, step)
        let (h, m) = (s / 60 % 24, s % 60)
        return "2026-12-06T\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00Z"
    }

    // MARK: - Observing remote objects

    /// The remote object of an Object as provider-kubernetes reports it, and its readiness.
    func observedRemote(_ object: Value) -> (remote: Value?, ready: Bool) {
        guard let pc = object[path: "spec", "providerConfigRef", "name"]?.stringValue,
            let manifest = object[path: "spec", "forProvider", "manifest"],
            manifest[path: "metadata", "name"]?.stringValue != nil, let r = remotes[pc]
        else { return (nil, false) }
        let name = Self.remoteKey(manifest)
        switch manifest["kind"]?.stringValue {
        case "PersistentVolumeClaim":
            guard let claim = r.claims[name] else { return (nil, false) }
            var o = claim.manifest
            o["status"] = ["phase": claim.bound ? "Bound" : "Pending"]
            return (o, claim.bound)
        case "Job":
            guard let job = r.jobs[name] else { return (nil, false) }
            var o = job.manifest
            o["status"] = job.condition.map { ["conditions": [$0]] } ?? ["active": 1]
            return (o, job.condition?["type"] == "Complete")
        case "Deployment", "LeaderWorkerSet":
            guard let w = r.workloads[name] else { return (nil, false) }
            let count = w.manifest[path: "spec", "replicas"]?.intValue ?? 1
            let total = count * Int64(w.podSets.count)
            let available = count * Int64(w.podSets.filter(\.available).count)
            let isAvailable = available >= count
            var o = w.manifest
            o["metadata"]?["generation"] = .int(w.generation)
            var status: Value = [
                "observedGeneration": .int(w.generation), "replicas": .int(total), "updatedReplicas": .int(count),
                "conditions": [["type": "Available", "status": isAvailable ? "True" : "False", "reason": "x"]],
            ]
            if manifest["kind"] == "Deployment" {
                status["availableReplicas"] = .int(available)
                status["readyReplicas"] = .int(available)
            } else {
                status["readyReplicas"] = .int(available)
            }
            o["status"] = status
            return (o, isAvailable)
        case "ConfigMap":
            // The report ConfigMap's readiness query: true once the report says Complete or Failed.
            guard let o = r.others["ConfigMap/\(name)"] else { return (nil, false) }
            let report = o[path: "data", "report.json"]?.stringValue ?? ""
            return (o, report.contains(#""phase":"Complete""#) || report.contains(#""phase":"Failed""#))
        default:
            guard let o = r.others["\(manifest["kind"]?.stringValue ?? "")/\(name)"] else { return (nil, false) }
            return (o, true)
        }
    }
}
