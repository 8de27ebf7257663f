/// The hydration program's contract as the function sees it (hydrator.md §1):
/// where the claim is mounted, the files it writes beside the weights, and its
/// exit codes. The program itself lives in `hydrator/` and runs in its own image.
public enum HydrationProgram {
    /// Where the claim is mounted inside the Job (`MODELCACHE_ROOT`).
    public static let root = "/cache"

    /// The file, inside a revision directory, holding the exact staged identity; written last.
    public static let markerFile = ".modelcache-complete"
    /// The lease file, inside a revision directory, refreshed every 30 s while a run writes there.
    public static let activeFile = ".modelcache-active"
    /// The file, inside a revision directory, holding the staging epoch `<generation>.<n>`.
    public static let epochFile = ".modelcache-epoch"
    /// The previous release's generation file (read as epoch `<g>.0`).
    public static let generationFile = ".modelcache-generation"
    /// The manifest of verified files, beside the weights.
    public static let manifestFile = ".modelcache-manifest.json"

    /// Exit code: transient failure, retried by the Job.
    public static let transientExitCode: Int64 = 1
    /// Exit code: bad invocation (missing or malformed input).
    public static let badInputExitCode: Int64 = 2
    /// Exit code: not found, access denied, gated, or the source changed since it was pinned.
    public static let notFoundExitCode: Int64 = 10
    /// Exit code: does not fit (found before downloading) or the disk filled.
    public static let diskFullExitCode: Int64 = 11
    /// Exit code: a file failed verification twice.
    public static let checksumExitCode: Int64 = 12

    /// The exit codes the Job's podFailurePolicy fails at once (never retried).
    public static let permanentExitCodes: [Int64] = [
        badInputExitCode, notFoundExitCode, diskFullExitCode, checksumExitCode,
    ]

    /// The ConfigMap data key holding the report.
    public static let reportKey = "report.json"

    /// The user and group the program runs as (the image's non-root `USER`).
    public static let uid: Int64 = 65_532
    /// The command that runs the program (the image's own entrypoint too).
    public static let command = ["python", "-m", "modelcache_hydrator"]
    /// Where the pod's projected ServiceAccount token, CA and namespace are mounted.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"
    /// Where a platform CA bundle is mounted (`hydration.caBundle`).
    public static let caDirectory = "/etc/modelcache/ca"
    /// The CA bundle file the program appends to the image's system bundle (`MODELCACHE_CA_BUNDLE`).
    public static let caBundleFile = "\(caDirectory)/ca.crt"
    /// Where an OCI source's Docker config (`config.json`) is mounted (`DOCKER_CONFIG`).
    public static let dockerConfigDirectory = "/var/run/modelcache/docker"
    /// The projected token's lifetime in seconds (the kubelet refreshes it before it ends).
    public static let tokenExpirationSeconds: Int64 = 3_600
}
