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

    /// The script, run as `sh -c SCRIPT`.
    public static let text = """
        set -eu
        marker="$CACHE_DIR/\(markerFile)"
        if [ -f "$marker" ] && [ "$(cat "$marker")" = "$SOURCE_ID" ]; then
          echo "already staged: $SOURCE_ID"
          exit 0
        fi
        if ! command -v hf >/dev/null 2>&1; then
          python3 -m pip install --quiet --no-cache-dir --target /tmp/hf "huggingface_hub==\(huggingFaceHubVersion)"
          export PYTHONPATH=/tmp/hf PATH="/tmp/hf/bin:$PATH"
        fi
        # A marker from another source must not survive a partial download of this one.
        rm -f "$marker"
        set -- download "$MODEL_REPO" --local-dir "$CACHE_DIR"
        if [ -n "${MODEL_REVISION:-}" ]; then
          set -- "$@" --revision "$MODEL_REVISION"
        fi
        # hf resumes interrupted downloads, so a retried pod continues where it stopped.
        hf "$@"
        printf '%s' "$SOURCE_ID" > "$marker.tmp"
        mv "$marker.tmp" "$marker"
        echo "staged: $SOURCE_ID"
        """
}
