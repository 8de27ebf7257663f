/// The hydration Job's shell script: a constant.
///
/// No value from any spec is ever spliced into it. The repo, revision and
/// source identity arrive as environment variables and are only ever expanded
/// inside double quotes, as single arguments, so a hostile value cannot become
/// shell syntax (and the API validates them as well).
public enum HydrationScript {
    /// The huggingface_hub release the Job installs when the image has no `hf` CLI.
    public static let huggingFaceHubVersion = "0.35.3"

    /// Where the claim is mounted inside the Job.
    public static let cacheDir = "/cache"

    /// The file that records which source was completely downloaded.
    public static let markerFile = ".modelcache-complete"

    /// The script, run as `sh -c SCRIPT`. Kept terse: it is repeated in every
    /// Job of a 1,000-cluster response. It writes the source identity (the
    /// same string as `ArtifactSource.identity`) to a marker only after
    /// `hf download` succeeded (hf resumes interrupted downloads), and exits at
    /// once when the marker already matches. `CACHE_DIR` is only set by tests.
    public static let text = """
        set -eu
        c=${CACHE_DIR:-\(cacheDir)}
        m=$c/\(markerFile) s="hf://$MODEL_REPO@${MODEL_REVISION:-main}"
        [ "$(cat "$m" 2>/dev/null)" != "$s" ] || exit 0
        export HF_HOME=/tmp/hf-home HF_HUB_DISABLE_TELEMETRY=1
        command -v hf >/dev/null || { pip install -q --target /tmp/hf huggingface_hub==\(huggingFaceHubVersion); export PYTHONPATH=/tmp/hf PATH=/tmp/hf/bin:$PATH; }
        rm -f "$m"
        hf download "$MODEL_REPO" ${MODEL_REVISION:+--revision "$MODEL_REVISION"} --local-dir "$c"
        printf %s "$s" >"$m.t"
        mv "$m.t" "$m"
        """
}
