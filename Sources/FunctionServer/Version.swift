/// The version of function-modelcache: the one place it is written (the CLI's
/// `--version`, the startup log line). Package tags and the README's install
/// examples use the same number.
public enum FunctionVersion {
    /// The semantic version, without a leading `v`.
    public static let current = "0.1.0"
}
