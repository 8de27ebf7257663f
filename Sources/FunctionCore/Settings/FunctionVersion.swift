/// The version of function-modelcache: the one place it is written (the CLI's
/// `--version`, the startup log line, the default hydrator image's tag).
/// Package tags and the README's install examples use the same number.
public enum FunctionVersion {
    /// The semantic version, without a leading `v`.
    public static let current = "0.1.0"

    /// The hydrator image's repository, beside the function's own package
    /// (`xpkg.crossplane.io/modelplane/function-modelcache`).
    public static let hydratorRepository = "xpkg.crossplane.io/modelplane/function-modelcache-hydrator"

    /// The default hydration image (hydrator.md §1): the hydrator built from this
    /// repository's `hydrator/`, tagged with the function's own version.
    public static let hydratorImage = "\(hydratorRepository):v\(current)"

    /// What `--version` prints: the version alone on the first line (scripts read
    /// it), then the hydration image this version uses by default.
    public static let description = "\(current)\ndefault hydrator image: \(hydratorImage)"
}
