/// What a source kind adds to the hydration Job (common25.md): the platform's
/// `hydration.allowedSources` and workload identity, the S3 and OCI environment,
/// and the Secrets they name, read on the workload cluster only (`<namespace>.<name>`).
extension CacheStaging {
    /// Why no Job may stage this source on `cluster` with its `hydration` settings, or nil: the source is
    /// outside the effective `hydration.allowedSources`, or an `s3` source has neither
    /// `credentialsSecretRef` nor a `hydration.serviceAccount`. Evaluated only when a Job is planned.
    func refusal(cluster: String, _ hydration: ClusterHydration?) -> String? {
        // Field by field, as `over` lays them: no settings are copied for a cluster that runs a Job.
        let own = hydration?.settings?.allowedSources
        if let allowed = own ?? settings.hydration.allowedSources, !SourcePrefix.allows(allowed, identity) {
            let field =
                own != nil
                ? "InferenceCluster \(cluster) spec.storage.rwxCache.hydration.allowedSources"
                : "input.hydration.allowedSources"
            return "spec.artifact.source \(quote(identity)) is not allowed on InferenceCluster \(cluster): "
                + "\(field) [\(allowed.map(quote).joined(separator: ", "))] has no prefix of it"
        }
        if source.needsPlatformIdentity,
            (hydration?.settings?.serviceAccount ?? settings.hydration.serviceAccount) == nil
        {
            return "spec.artifact.source.s3.credentialsSecretRef is required on InferenceCluster \(cluster): "
                + "without it the Job runs as the platform's hydration.serviceAccount, and none is set"
        }
        return nil
    }

    /// The Secret a source names, on the workload cluster: `<namespace>.<name>` in the remote namespace.
    func sourceSecret(_ name: String) -> String { SourceSecret.remoteName(namespace: owner[1], name: name) }

    /// The source's own environment: AWS settings and credentials for `s3`, the Docker config and
    /// plain HTTP for `oci` (only when its registry is in `h.plainHTTPRegistries`); nothing otherwise.
    func sourceEnvironment(_ h: HydrationSettings) -> [Value] {
        switch source {
        case .s3(let s3):
            var env: [Value] = []
            if let endpoint = s3.endpoint { env.append(["name": "AWS_ENDPOINT_URL", "value": .string(endpoint)]) }
            if let region = s3.region { env.append(["name": "AWS_REGION", "value": .string(region)]) }
            guard let c = s3.credentials else { return env }
            let secret = Value.string(sourceSecret(c.name))
            func key(_ name: String, _ key: String) -> Value {
                ["name": .string(name), "valueFrom": ["secretKeyRef": ["name": secret, "key": .string(key)]]]
            }
            env.append(key("AWS_ACCESS_KEY_ID", c.accessKeyIdKey))
            env.append(key("AWS_SECRET_ACCESS_KEY", c.secretAccessKeyKey))
            if let session = c.sessionTokenKey { env.append(key("AWS_SESSION_TOKEN", session)) }
            return env
        case .oci(let oci):
            var env: [Value] = []
            if oci.pullSecret != nil {
                env.append(["name": "DOCKER_CONFIG", "value": .string(HydrationProgram.dockerConfigDirectory)])
            }
            if h.plainHTTPRegistries?.contains(oci.registry) == true {
                env.append(["name": "MODELCACHE_OCI_PLAIN_HTTP", "value": "1"])
            }
            return env
        case .huggingFace, .volume:
            return []
        }
    }

    /// The Docker config volume of an `oci` source with a `pullSecretRef`, and its mount; nil otherwise.
    var dockerConfig: (volume: Value, mount: Value)? {
        guard case .oci(let oci) = source, let name = oci.pullSecret else { return nil }
        let volume: Value = [
            "name": "docker-config",
            "secret": [
                "secretName": .string(sourceSecret(name)),
                "items": [["key": ".dockerconfigjson", "path": "config.json"]],
            ],
        ]
        let mount: Value = [
            "name": "docker-config", "mountPath": .string(HydrationProgram.dockerConfigDirectory), "readOnly": true,
        ]
        return (volume, mount)
    }
}

extension ClusterStaging {
    /// The most Unicode scalars of a warnings event's message.
    static let warningEventLimit = 1_024

    /// One Warning naming `cluster` for the warnings of the Complete report this staging advanced
    /// from (sources.md §1: what could not be verified), or nil without any. Called only for a
    /// cluster whose staged revision just advanced, never on a steady state.
    func warning(cluster: String) -> FunctionResult? {
        guard let report = resolved, report.phase == .complete, !report.warnings.isEmpty, let staged else {
            return nil
        }
        let n = report.warnings.count
        let text =
            "Staged \(staged) on \(cluster) with \(n) \(n == 1 ? "warning" : "warnings"): "
            + report.warnings.joined(separator: "; ")
        return .warning(bounded(text, Self.warningEventLimit), reason: "StagedWithWarnings")
    }
}

extension CacheStaging {
    /// A report's failure `reason` in the words of an `s3` or `oci` source (sources.md §1), or nil
    /// (Hugging Face's words, and any reason without words of its own here, are `translate`'s);
    /// `detail` is the report's own message, bounded and in brackets (or empty).
    func sourceWords(_ reason: String, detail: String = "", hints: FailureHints) -> String? {
        let what: (notFound: String, corrupt: String)
        switch source {
        case .s3:
            what = ("the bucket or the prefix was not found, or it is empty", "an object did not match its checksum")
        case .oci: what = ("the repository, tag or digest was not found", "a layer did not match its digest")
        case .huggingFace, .volume: return nil
        }
        let retry = "retry with the `\(Self.retryAnnotation)` annotation"
        switch reason {
        case "NotFound": return "\(what.notFound); \(hints.notFound)"
        case "AccessDenied": return "access was denied; \(hints.notFound)"
        case "SourceChanged":
            return
                (source.kind == "s3"
                ? "the bucket changed since it was pinned"
                : "the source changed since it was "
                    + "pinned") + ": set annotation \(Self.refreshAnnotation) to a new value to stage the new content"
        case "ChecksumMismatch":
            return "\(what.corrupt) twice: the source or the storage is corrupting data; \(retry)"
        case "NotAnArtifact":
            // An image index, or more files than the hydrator stages from one source: the report says which.
            return source.kind == "s3"
                ? "the prefix holds more objects than the hydrator stages from one source\(detail); \(retry)"
                : "the reference is not one artifact the hydrator stages\(detail): reference a single artifact's "
                    + "manifest (not an image index); \(retry)"
        case "UnsafePath":
            return "a key, layer path or archive entry is unsafe (absolute, '..', an empty segment, a control "
                + "character, a link or a collision): nothing was staged; \(retry)"
        default: return nil
        }
    }
}
