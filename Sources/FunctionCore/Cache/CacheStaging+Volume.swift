/// A `volume` source's cache (sources.md §1): the claim is someone else's. The function
/// only observes it (an Object without Create, Update or Delete), and its "hydration"
/// Job is a check Job: the claim mounted read-only at the source's subPath, nothing to
/// prune and no space to check, so it writes nothing on the claim.
extension CacheStaging {
    /// The management policies of the Object observing a volume source's claim: it is
    /// never created, updated or deleted through it (a released cluster, or the ModelCache's
    /// deletion, deletes the Object only).
    static let observeOnly: [Value] = ["Observe"]

    /// The manifest observing the volume source's claim: its name and the remote namespace only.
    func observedClaimManifest(_ volume: VolumeSource) -> Value {
        [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": ["name": .string(volume.claimName), "namespace": .string(settings.remoteNamespace)],
        ]
    }

    /// `manifest` (a hydration Job's) as the check Job of `volume`: the claim volume read-only,
    /// mounted read-only at `HydrationProgram.root` with the source's subPath, no
    /// `MODELCACHE_KEEP` or `MODELCACHE_CLAIM_BYTES`, and no `fsGroup` (the kubelet would
    /// otherwise change the ownership of someone else's files).
    func checkJobManifest(_ manifest: Value, _ volume: VolumeSource) -> Value {
        var out = manifest
        guard var pod = manifest[path: "spec", "template", "spec"] else { return manifest }
        pod["volumes"] = .list(
            (pod["volumes"]?.listValue ?? []).map { v in
                guard v["name"] == "cache" else { return v }
                return ["name": "cache", "persistentVolumeClaim": ["claimName": .string(claimName), "readOnly": true]]
            })
        pod["containers"] = .list((pod["containers"]?.listValue ?? []).map { Self.checking($0, volume) })
        pod["securityContext"]?["fsGroup"] = nil
        pod["securityContext"]?["fsGroupChangePolicy"] = nil
        out["spec"]?["template"]?["spec"] = pod
        return out
    }

    /// The hydration container reading, never writing: its claim mount read-only at the
    /// source's subPath, and without the variables that prune or check space.
    private static func checking(_ container: Value, _ volume: VolumeSource) -> Value {
        var c = container
        c["volumeMounts"] = .list(
            (container["volumeMounts"]?.listValue ?? []).map { m in
                guard m["name"] == "cache" else { return m }
                var mount = m
                mount["readOnly"] = true
                if let subPath = volume.subPath { mount["subPath"] = .string(subPath) }
                return mount
            })
        c["env"] = .list(
            (container["env"]?.listValue ?? []).filter {
                let name = $0["name"]?.stringValue
                return name != "MODELCACHE_KEEP" && name != "MODELCACHE_CLAIM_BYTES"
            })
        return c
    }

    /// A permanent failure of the check Job in words that say what to fix, or nil for
    /// the failures every source shares (bad input, a transient failure run out of retries).
    func volumeFailure(_ failure: StagingFailure, _ volume: VolumeSource, cluster: String) -> String? {
        let cannot = "Cannot stage \(identity) on \(cluster): "
        let place = volume.subPath.map { "directory \($0) of claim \(claimName)" } ?? "claim \(claimName)"
        let retry = "then set annotation \(Self.retryAnnotation) to a new value to check again"
        switch (failure.code, failure.condition.reason) {
        case (HydrationProgram.notFoundExitCode?, _), (_, "NotFound"):
            return cannot + "no files were found in \(place) in namespace \(remoteNamespace) (or the claim is "
                + "missing); a volume source is filled by someone else: fill it, \(retry)"
        case (HydrationProgram.checksumExitCode?, _), (_, "ChecksumMismatch"):
            return cannot + "a file in \(place) does not match its \(HydrationProgram.manifestFile); whoever fills "
                + "the claim must fix the files or the manifest, \(retry)"
        default:
            return nil
        }
    }
}
