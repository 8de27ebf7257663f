/// A ModelCache's spec, validated: after parsing, code works with typed values only.
public struct ModelCacheSpec: Sendable, Hashable {
    /// What the cache holds: exactly one kind of `spec.artifact.source` (sources.md §1).
    public var source: CacheSource
    /// The Secret holding a HuggingFace token, for gated models.
    public var token: SecretKeyRef?
    /// Where consuming pods see the files.
    public var mountPath: String
    /// Size override in GiB; nil means the cluster's default.
    public var sizeGiB: Int64?
    /// Which InferenceClusters to stage on; empty means all.
    public var matchLabels: [String: String]
    /// How vLLM engines mounting the cache read the weights (`spec.mount.loader`), if set.
    public var loader: LoaderSpec? = nil

    /// What messages call the source: the HuggingFace repo id, or another kind's identity.
    public var repo: String { source.displayName }

    /// Parses and validates `spec`; every broken rule is reported.
    public static func parse(_ spec: Value?) -> Result<ModelCacheSpec, FieldErrors> {
        var v = Validator()
        let spec = v.object(spec, "spec")
        let source = v.object(spec?[path: "artifact", "source"], "spec.artifact.source").map { parseSource($0, &v) }
        var mountPath: String?
        if let mount = v.object(spec?["mount"], "spec.mount"), let p = v.string(mount["path"], "spec.mount.path") {
            if let problem = MountPath.problem(p) {
                v.fail("spec.mount.path", .string(p), problem)
            } else {
                mountPath = p
            }
        }
        let loader = LoaderSpec.parse(spec?[path: "mount", "loader"], &v)
        let size = v.integer(spec?[path: "storage", "sizeGiB"], "spec.storage.sizeGiB", in: 1...10_000)
        let labels = v.labels(spec?[path: "clusterSelector", "matchLabels"], "spec.clusterSelector.matchLabels")

        guard v.errors.isEmpty, let kind = source?.kind, let mountPath else { return .failure(FieldErrors(v.errors)) }
        return .success(
            ModelCacheSpec(
                source: kind, token: source?.token, mountPath: mountPath, sizeGiB: size, matchLabels: labels,
                loader: loader))
    }

    /// What `spec.artifact.source` names, as far as it is valid.
    private struct Source {
        var kind: CacheSource?
        var token: SecretKeyRef?
    }

    /// Reads `spec.artifact.source`: exactly one of the kinds of `CacheSource.kinds`.
    private static func parseSource(_ source: Value, _ v: inout Validator) -> Source {
        var out = Source()
        let keys = source.objectValue!.keys
        let unknown = keys.filter { !CacheSource.kinds.contains($0) }
        let given = CacheSource.kinds.filter { keys.contains($0) && !(source[$0]?.isNull ?? true) }
        if !unknown.isEmpty {
            v.fail(
                "spec.artifact.source", .string(unknown.sorted().joined(separator: ", ")),
                "is not a source kind: set exactly one of huggingFace, s3, oci, volume")
        } else if given.count != 1 {
            v.fail(
                "spec.artifact.source", given.isEmpty ? nil : .string(given.joined(separator: ", ")),
                given.isEmpty
                    ? "must set exactly one of huggingFace, s3, oci, volume"
                    : "sets more than one kind: set exactly one of huggingFace, s3, oci, volume")
        }
        guard unknown.isEmpty, given.count == 1, let kind = given.first else { return out }
        let field = "spec.artifact.source.\(kind)"
        guard let body = v.object(source[kind], field) else { return out }
        switch kind {
        case "s3": out.kind = S3Source.parse(body, field, &v).map(CacheSource.s3)
        case "oci": out.kind = OCISource.parse(body, field, &v).map(CacheSource.oci)
        case "volume": out.kind = VolumeSource.parse(body, field, &v).map(CacheSource.volume)
        default: parseHuggingFace(body, field, &v, into: &out)
        }
        return out
    }

    /// Reads `spec.artifact.source.huggingFace` (at `field`).
    private static func parseHuggingFace(_ hf: Value, _ field: String, _ v: inout Validator, into out: inout Source) {
        var repo: String?
        var revision: String?
        if let r = v.string(hf["repo"], "\(field).repo") {
            if ArtifactSource.isRepo(r) {
                repo = r
            } else {
                v.fail(
                    "\(field).repo", .string(r),
                    "is not a valid HuggingFace repo id: use owner/name or name, "
                        + "each part up to 96 letters, digits, '-', '_', '.', not starting with '-' or '.', without '..'"
                )
            }
        }
        if let r = v.string(hf["revision"], "\(field).revision", required: false) {
            if ArtifactSource.isRevision(r) {
                revision = r
            } else {
                v.fail(
                    "\(field).revision", .string(r),
                    "is not a valid revision: use 1 to 255 letters, digits, "
                        + "'-', '_', '.', '/', not starting with '-', without '..'")
            }
        }
        if let ref = v.object(hf["tokenSecretRef"], "\(field).tokenSecretRef", required: false) {
            out.token = SecretKeyRef.parse(ref, "\(field).tokenSecretRef", defaultKey: "HF_TOKEN", &v)
        }
        out.kind = repo.map { .huggingFace(ArtifactSource(repo: $0, revision: revision)) }
    }
}

/// A reference to one key of a Secret in the XR's namespace.
public struct SecretKeyRef: Sendable, Hashable {
    /// The Secret's name.
    public var name: String
    /// The data key.
    public var key: String

    /// Parses `{name, key}`; `key` defaults to `defaultKey`.
    static func parse(_ ref: Value, _ field: String, defaultKey: String, _ v: inout Validator) -> SecretKeyRef? {
        let name = v.string(ref["name"], "\(field).name")
        if let name, !Rules.isDNSSubdomain(name) {
            v.fail(
                "\(field).name", .string(name),
                "is not a valid Secret name: use a DNS-1123 subdomain "
                    + "(lowercase letters, digits, '-', '.')")
            return nil
        }
        let key = v.string(ref["key"], "\(field).key", required: false) ?? defaultKey
        if !Rules.isSecretKey(key) {
            v.fail("\(field).key", .string(key), "is not a valid Secret key: use letters, digits, '-', '_', '.'")
            return nil
        }
        guard let name else { return nil }
        return SecretKeyRef(name: name, key: key)
    }
}

/// The artifact a cache holds: a HuggingFace repo at a revision.
public struct ArtifactSource: Sendable, Hashable {
    /// The repo id.
    public var repo: String
    /// The revision; nil means the default branch.
    public var revision: String?

    /// A stable identity: `hf://<repo>` for the repo's default branch,
    /// `hf://<repo>@<revision>` when a revision is set (lifecycle.md §1).
    /// Status records it, the completion marker stores it and Job names carry its digest.
    public var identity: String { revision.map { "hf://\(repo)@\($0)" } ?? "hf://\(repo)" }

    /// The directory at the claim's root that holds this source: `revisionDirectory(identity)`.
    public var directory: String { revisionDirectory(identity) }

    static func isRepo(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !s.contains("..") else { return false }
        return parts.allSatisfy { part in
            let b = Array(part.utf8)
            guard (1...96).contains(b.count), b.first != UInt8(ascii: "-"), b.first != UInt8(ascii: ".") else {
                return false
            }
            return b.allSatisfy {
                Rules.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            }
        }
    }

    static func isRevision(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...255).contains(b.count), b.first != UInt8(ascii: "-"), !s.contains("..") else { return false }
        return b.allSatisfy {
            Rules.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "/")
        }
    }
}
