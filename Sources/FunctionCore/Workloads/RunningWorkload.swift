/// What the running workload of a replica mounts, and whether its rollout is
/// over, read from the observed workload Object (lifecycle.md §7 rules 1–2).
struct RunningWorkload {
    /// The claim the engine's cache volume mounts, if any.
    var claim: String?
    /// Where the engine sees it.
    var path: String?
    /// The revision directory mounted (its `subPath`), when it is one.
    var revision: String?
    /// The mounted `subPath` when it is no revision directory but a safe relative path (a
    /// `volume` source's directory, sources.md §1).
    var subPath: String?
    /// Whether the claim's pod volume is read-only (a `volume` source's).
    var readOnlyClaim = false
    /// Whether the workload's observed status shows the rollout complete, the
    /// `kubectl rollout status` rule: no pod of an earlier template may still run.
    var rolledOut: Bool
    /// Every revision directory of each claim that the observed remote template or
    /// the last applied one mounts.
    var mounted: [String: Set<String>] = [:]

    /// Reads the observed workload Object (nil: no workload): the remote object as
    /// provider-kubernetes observed it, else the manifest last applied.
    init(_ resource: Resource?) {
        let remote = resource?.object[path: "status", "atProvider", "manifest"].flatMap {
            $0.objectValue == nil ? nil : $0
        }
        let applied = resource?.object[path: "spec", "forProvider", "manifest"]
        let read = [remote, applied].compactMap { $0 }.map(Self.cacheMount)
        // A remote object read back without a cache mount (garbled, or of another shape) does
        // not hide the one last applied: pods may still mount it (lifecycle.md §7 rule 2).
        let first = read.first { $0.claim != nil }
        (claim, path, revision) = (first?.claim, first?.path, first?.revision)
        (subPath, readOnlyClaim) = (first?.subPath, first?.readOnly ?? false)
        for m in read {
            if let c = m.claim, let r = m.revision { mounted[c, default: []].insert(r) }
        }
        rolledOut = resource == nil ? true : remote.map(Self.rolloutComplete) ?? false
    }

    /// The running mount as a volume source's: whether it is one (its claim read-only, no
    /// revision directory) and its directory.
    var volumeMount: (isVolume: Bool, subPath: String?) {
        revision == nil && readOnlyClaim ? (true, subPath) : (false, nil)
    }

    /// What the running pods read: the revision directory, or a volume source's mount.
    var served: (revision: String?, volume: (isVolume: Bool, subPath: String?)) { (revision, volumeMount) }

    /// The claim, mount path, revision directory, other safe subPath and read-only flag of
    /// the engine's cache mount in a workload manifest.
    private static func cacheMount(_ manifest: Value) -> (
        claim: String?, path: String?, revision: String?, subPath: String?, readOnly: Bool
    ) {
        let template =
            manifest[path: "spec", "template"] ?? manifest[path: "spec", "leaderWorkerTemplate", "leaderTemplate"]
        let engine = template?[path: "spec", "containers"]?.listValue?.first { $0["name"]?.stringValue == "engine" }
        let mount = engine?["volumeMounts"]?.listValue?.first {
            $0["name"]?.stringValue == WorkloadBuilder.cacheVolume
        }
        let volume = template?[path: "spec", "volumes"]?.listValue?.first {
            $0["name"]?.stringValue == WorkloadBuilder.cacheVolume
        }
        let subPath = mount?["subPath"]?.stringValue
        return (
            volume?[path: "persistentVolumeClaim", "claimName"]?.stringValue,
            mount?["mountPath"]?.stringValue.flatMap { MountPath.problem($0) == nil ? $0 : nil },
            subPath.flatMap { isRevisionDirectory($0) ? $0 : nil },
            subPath.flatMap { !isRevisionDirectory($0) && SafePath.isSafe($0, extra: "", maxBytes: 1024) ? $0 : nil },
            volume?[path: "persistentVolumeClaim", "readOnly"]?.boolValue ?? false
        )
    }

    /// The `kubectl rollout status` rule on an observed Deployment
    /// (`observedGeneration` at the generation and `replicas == updatedReplicas ==
    /// availableReplicas` at `spec.replicas`: a surge pod of the old template still
    /// counts) or LeaderWorkerSet (`replicas == updatedReplicas == readyReplicas` at
    /// `spec.replicas`, and `Available=True`). Absent counts are zero, as Kubernetes omits them.
    static func rolloutComplete(_ manifest: Value) -> Bool {
        guard let status = manifest["status"], status.objectValue != nil else { return false }
        let wanted = manifest[path: "spec", "replicas"]?.intValue ?? 1
        func count(_ key: String) -> Int64 { status[key]?.intValue ?? 0 }
        let updated = count("updatedReplicas")
        guard updated == wanted, count("replicas") == updated else { return false }
        if manifest["kind"]?.stringValue == "LeaderWorkerSet" {
            return count("readyReplicas") == updated && conditionStatus(manifest, "Available") == "True"
        }
        let generation = manifest[path: "metadata", "generation"]?.intValue
        return generation != nil && status["observedGeneration"]?.intValue == generation
            && count("availableReplicas") == updated
    }
}

extension ReplicaContext {
    /// The workload running now, as observed.
    var running: RunningWorkload { RunningWorkload(request.observed.resources[.workload]) }

    /// The revision directories of `claim` that pods of the running workload may
    /// still mount, whatever the new pod template mounts: the one the observed
    /// template mounts and, until the observed rollout is complete, every one
    /// remembered from the last reconcile (`status.cache.revisions`, and the
    /// `modelplane.ai/cache-revisions` annotation of an observed Usage of that
    /// claim's cache). Sorted (lifecycle.md §7 rule 1).
    func stillMounted(claim: String) -> [String] {
        let now = running
        var out = Set<String>()
        out.formUnion(now.mounted[claim] ?? [])
        if !now.rolledOut {
            if xr[path: "status", "cache", "volume"]?.stringValue == claim {
                // At most as many as a Usage's annotation is read for: status read back may be hostile.
                for r in (xr[path: "status", "cache", "revisions"]?.listValue ?? []).prefix(CacheUsage.revisionsLimit) {
                    if let s = r.stringValue, isRevisionDirectory(s) { out.insert(s) }
                }
            }
            for usage in observedUsages where usage.claim == claim { out.formUnion(usage.revisions) }
        }
        return out.sorted()
    }

    /// Every revision of the mounted cache the pods may mount: the new template's
    /// and what `stillMounted(claim:)` keeps. Sorted.
    func mayMount(_ mount: WorkloadBuilder.Mount) -> [String] {
        Array(Set(stillMounted(claim: mount.claimName) + [mount.revision].compactMap { $0 })).sorted()
    }

    /// The observed Usages of shared caches (under both keys), with the claim of their cache.
    var observedUsages: [(cache: String, claim: String, revisions: [String])] {
        [ResourceKey.cacheUsage, .previousCacheUsage].compactMap { key in
            guard let usage = request.observed.resources[key]?.object,
                let cache = usage[path: "spec", "of", "resourceRef", "name"]?.stringValue, Rules.isDNSSubdomain(cache)
            else { return nil }
            let claim = CacheStaging.claimName(ownerKind: "modelcache", namespace: namespace, name: cache)
            return (cache, claim, CacheUsage.revisions(of: usage))
        }
    }
}

extension ResourceKey {
    /// The Usage of the cache a replica switched away from, while pods of the
    /// earlier template may still mount it (lifecycle.md §7 rule 2).
    static let previousCacheUsage = ResourceKey(rawValue: "usage-modelcache-previous")
}
