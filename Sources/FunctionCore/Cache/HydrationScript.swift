/// The hydration Job's shell script: a constant.
///
/// No value from any spec is ever spliced into it. The repo and revision arrive
/// as environment variables and are only ever expanded inside double quotes, as
/// single arguments, so a hostile value cannot become shell syntax (and the API
/// validates them as well). The other variables are computed by the function:
/// `MODEL_DIR` (this source's `rev-<d>` directory), `KEEP_DIRS` (space-separated
/// `rev-<d>` names that must survive pruning) and `MODEL_GENERATION` (the owner's
/// `metadata.generation` when the Job was created).
public enum HydrationScript {
    /// The huggingface_hub release the Job installs when the image has no `hf` CLI.
    public static let huggingFaceHubVersion = "0.35.3"

    /// Where the claim is mounted inside the Job.
    public static let cacheDir = HydrationProgram.root

    /// The file, inside a revision directory, that records which source was completely downloaded.
    public static let markerFile = HydrationProgram.markerFile

    /// The file, inside a revision directory, touched every 30 s while a download runs.
    public static let activeFile = HydrationProgram.activeFile

    /// The file, inside a revision directory, holding the newest owner generation that wrote to it.
    public static let generationFile = HydrationProgram.generationFile

    /// Exit code for a permanent "not found or access denied" failure (lifecycle.md §6).
    public static let notFoundExitCode = HydrationProgram.notFoundExitCode

    /// Exit code for a full claim (lifecycle.md §6).
    public static let diskFullExitCode = HydrationProgram.diskFullExitCode

    /// The script, run as `sh -c SCRIPT`. Kept terse: it is repeated in every
    /// Job of a 1,000-cluster response.
    ///
    /// 1. Writes only inside `$CACHE_DIR/$MODEL_DIR`; records the generation there.
    /// 2. Exits early past the download when the marker already holds this source
    ///    (`hf://<repo>` or `hf://<repo>@<revision>`, the same string as
    ///    `ArtifactSource.identity`); otherwise runs `hf download` into the
    ///    directory (hf resumes interrupted downloads) while the script itself
    ///    touches a heartbeat every 30 s (no background helper outlives it), and
    ///    writes the marker only after it succeeded.
    /// 3. Classifies a failed download: a full disk exits 11, a missing repo or
    ///    revision or denied access exits 10 (the Job's podFailurePolicy fails at
    ///    once on both), anything else exits 1 (retried).
    /// 4. After success, prunes every other `rev-*` directory except those named in
    ///    `KEEP_DIRS`, those with a heartbeat in the last 5 minutes (a download in
    ///    progress) and those written by the same or a newer generation (a Job
    ///    left running by an older spec never removes what a newer one staged).
    ///
    /// `CACHE_DIR` is only set by tests.
    public static let text = """
        set -u
        c=${CACHE_DIR:-\(cacheDir)} g=${MODEL_GENERATION:-0}
        case $MODEL_DIR in rev-*/*) exit 2;; rev-?*) ;; *) exit 2;; esac
        d=$c/$MODEL_DIR s="hf://$MODEL_REPO${MODEL_REVISION:+@$MODEL_REVISION}"
        m=$d/\(markerFile)
        gen() { o=$(cat "$1/\(generationFile)" 2>/dev/null); case $o in ''|*[!0-9]*) o=0;; esac; }
        mkdir -p "$d" || exit 1
        gen "$d"; [ "$o" -ge "$g" ] || printf %s "$g" >"$d/\(generationFile)" || exit 1
        if [ "$(cat "$m" 2>/dev/null)" != "$s" ]; then
        export HF_HOME=/tmp/hf-home HF_HUB_DISABLE_TELEMETRY=1
        command -v hf >/dev/null || { pip install -q --target /tmp/hf huggingface_hub==\(huggingFaceHubVersion) || exit 1; export PYTHONPATH=/tmp/hf PATH=/tmp/hf/bin:$PATH; }
        rm -f "$m"
        l=$(mktemp) || exit 1
        { hf download "$MODEL_REPO" ${MODEL_REVISION:+--revision "$MODEL_REVISION"} --local-dir "$d" 2>&1; echo $? >"$l.r"; } | tee "$l" & h=$! n=0
        while kill -0 $h 2>/dev/null; do [ $((n%30)) != 0 ] || touch "$d/\(activeFile)"; n=$((n+1)); sleep 1; done
        wait $h; r=$(cat "$l.r" 2>/dev/null || echo 1); rm -f "$d/\(activeFile)"
        if [ $r != 0 ]; then
        grep -Eq 'No space left on device|Errno 28|ENOSPC' "$l" && exit \(diskFullExitCode)
        grep -Eq 'RepositoryNotFound|RevisionNotFound|GatedRepo|(401|403|404) Client Error' "$l" && exit \(notFoundExitCode)
        exit 1
        fi
        printf %s "$s" >"$m.t" && mv "$m.t" "$m" || exit 1
        fi
        for p in "$c"/rev-*; do
        [ -d "$p" ] || continue
        case " $MODEL_DIR ${KEEP_DIRS:-} " in *" ${p##*/} "*) continue;; esac
        [ -z "$(find "$p" -maxdepth 1 -name \(activeFile) -mmin -5 2>/dev/null)" ] || continue
        gen "$p"; [ "$o" -lt "$g" ] || continue
        rm -rf "$p"
        done
        exit 0
        """
}
