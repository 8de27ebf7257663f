/// What a cache holds (sources.md §1): exactly one of the four kinds of
/// `spec.artifact.source`, validated. Each kind names its identity (`source` in
/// status, `MODELCACHE_SOURCE`) and says whether it pins itself.
public enum CacheSource: Sendable, Hashable {
    /// A Hugging Face repo at a revision.
    case huggingFace(ArtifactSource)
    /// A directory of an S3-compatible bucket.
    case s3(S3Source)
    /// An OCI artifact in a registry.
    case oci(OCISource)
    /// An existing ReadWriteMany claim someone else fills.
    case volume(VolumeSource)

    /// The kinds, as `spec.artifact.source` names them, in the order messages list them.
    public static let kinds = ["huggingFace", "s3", "oci", "volume"]

    /// The field under `spec.artifact.source` naming this kind.
    public var kind: String {
        switch self {
        case .huggingFace: return "huggingFace"
        case .s3: return "s3"
        case .oci: return "oci"
        case .volume: return "volume"
        }
    }

    /// The identity (common25.md): `hf://<repo>[@<revision>]`, `s3://<bucket>[/<prefix>]`,
    /// `oci://<reference>` or `pvc://<claimName>[/<subPath>]`.
    public var identity: String {
        switch self {
        case .huggingFace(let s): return s.identity
        case .s3(let s): return s.identity
        case .oci(let s): return s.identity
        case .volume(let s): return s.identity
        }
    }

    /// The pin this source carries itself, nil when a hydrator must resolve it: a Hugging Face
    /// revision given as 40 hex, an OCI reference by digest, and a volume (its identity).
    public var selfPin: String? {
        switch self {
        case .huggingFace(let s): return s.revision.flatMap { isCommit($0) ? $0 : nil }
        case .s3: return nil
        case .oci(let s): return s.digest
        case .volume(let s): return s.identity
        }
    }

    /// Whether it is a Hugging Face source (the kind every release before sources.md knew).
    public var isHuggingFace: Bool {
        if case .huggingFace = self { return true }
        return false
    }

    /// Whether the Job needs the platform's `hydration.serviceAccount`: an `s3` source without
    /// `credentialsSecretRef`.
    public var needsPlatformIdentity: Bool {
        if case .s3(let s) = self { return s.credentials == nil }
        return false
    }

    /// What messages call the source: the Hugging Face repo id, or the identity of any other kind.
    public var displayName: String {
        if case .huggingFace(let s) = self { return s.repo }
        return identity
    }

    /// The Hugging Face part, if that is the kind.
    public var huggingFace: ArtifactSource? {
        if case .huggingFace(let s) = self { return s }
        return nil
    }
}
