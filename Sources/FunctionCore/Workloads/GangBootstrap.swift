/// How the pods of one multi-node instance (a LeaderWorkerSet group) find each
/// other: constant shell scripts that form a Ray cluster and start the engine
/// on the leader (workloads.md, "Multi-node: a gang that actually forms").
///
/// Kubernetes expands `$(NAME)` and turns `$$` into `$` in a container's command,
/// so the scripts never write `$(` directly followed by a plain name, nor `$$`.
///
/// The scripts are constants: no user string is ever spliced into them. The
/// user's engine arguments reach the leader script as its positional
/// parameters and the engine as `"$@"`, so arguments with spaces, quotes or
/// `$(...)` arrive byte for byte and are never interpreted by a shell.
public enum GangBootstrap {
    /// The port of the Ray head on the leader.
    public static let rayPort = 6379
    /// Seconds the leader waits for the whole gang before it gives up (and the
    /// LeaderWorkerSet recreates the group); `MODELPLANE_GANG_TIMEOUT_SECONDS` overrides it.
    public static let defaultTimeoutSeconds = 600
    /// Seconds between two looks at the Ray cluster; `MODELPLANE_GANG_POLL_SECONDS` overrides it.
    public static let defaultPollSeconds = 5
    /// The engine server the leader execs: the vLLM OpenAI server module. The
    /// `vllm/vllm-openai` image's entrypoint is this module up to v0.9 and
    /// `vllm serve` later; the module exists in both, takes the same flags
    /// (including `--model`), and needs no positional model argument.
    public static let engineServer = ["python3", "-m", "vllm.entrypoints.openai.api_server"]

    /// `$0` of the leader script (shows in `ps` and in its log lines).
    static let leaderName = "modelplane-gang-leader"
    /// `$0` of the worker script.
    static let workerName = "modelplane-gang-worker"

    /// The leader container's `command`: the user's args follow as `args`.
    public static var leaderCommand: [String] { ["/bin/sh", "-c", leaderScript, leaderName] }
    /// The worker container's `command` (workers take no args).
    public static var workerCommand: [String] { ["/bin/sh", "-c", workerScript, workerName] }

    /// Shared prelude: logging, the bound and the poll interval (validated), a clock.
    static let prelude = #"""
        log() { printf '%s: %s\n' "$0" "$*" >&2; }
        number() {
          case "$2" in
            ''|*[!0-9]*) log "$1 must be a whole number of seconds, got '$2'"; exit 2 ;;
          esac
        }
        timeout="${MODELPLANE_GANG_TIMEOUT_SECONDS:-\#(defaultTimeoutSeconds)}"
        poll="${MODELPLANE_GANG_POLL_SECONDS:-\#(defaultPollSeconds)}"
        number MODELPLANE_GANG_TIMEOUT_SECONDS "$timeout"
        number MODELPLANE_GANG_POLL_SECONDS "$poll"
        started=$(date +%s)
        measure() { now=$(date +%s); waited=$((now - started)); }
        trap 'log "stopped by a signal"; exit 143' TERM INT
        """#

    /// The leader: start the Ray head, wait (bounded) until `$LWS_GROUP_SIZE`
    /// nodes are alive, then exec the engine server with `"$@"`.
    public static let leaderScript =
        prelude + "\n" + #"""
            size="${LWS_GROUP_SIZE:-}"
            case "$size" in
              ''|*[!0-9]*) log "LWS_GROUP_SIZE must be set by the LeaderWorkerSet, got '$size'"; exit 2 ;;
            esac
            log "starting the Ray head on port \#(rayPort) for a gang of $size nodes"
            if ! ray start --head --port=\#(rayPort); then
              log "ray start --head failed"
              exit 1
            fi
            while :; do
              alive=$(python3 -c 'import ray; ray.init(address="auto", logging_level="ERROR"); print(sum(1 for n in ray.nodes() if n["Alive"]))' 2>/dev/null | tail -n 1)
              case "$alive" in ''|*[!0-9]*) alive=0 ;; esac
              if [ "$alive" -ge "$size" ]; then
                log "gang formed: $alive of $size Ray nodes alive; starting the engine"
                break
              fi
              measure
              if [ "$waited" -ge "$timeout" ]; then
                log "giving up: only $alive of $size Ray nodes joined within ${timeout}s (MODELPLANE_GANG_TIMEOUT_SECONDS); check that the worker pods are scheduled and can reach this pod on port \#(rayPort)"
                exit 1
              fi
              log "waiting for the gang: $alive of $size Ray nodes alive after ${waited}s"
              sleep "$poll"
            done
            exec \#(engineServer.joined(separator: " ")) "$@"
            """#

    /// A worker: join the leader's Ray head and block; retried (bounded)
    /// while the head is not up yet.
    public static let workerScript =
        prelude + "\n" + #"""
            leader="${LWS_LEADER_ADDRESS:-}"
            if [ -z "$leader" ]; then
              log "LWS_LEADER_ADDRESS must be set by the LeaderWorkerSet"
              exit 2
            fi
            while :; do
              log "joining the Ray head at $leader:\#(rayPort)"
              # In the background so that a SIGTERM to this shell (PID 1) reaches ray at once.
              ray start --address="$leader:\#(rayPort)" --block &
              child=$!
              trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; log "stopped by a signal"; exit 143' TERM INT
              wait "$child" && exit 0
              measure
              if [ "$waited" -ge "$timeout" ]; then
                log "giving up: could not stay joined to the Ray head at $leader:\#(rayPort) within ${timeout}s (MODELPLANE_GANG_TIMEOUT_SECONDS)"
                exit 1
              fi
              sleep "$poll"
            done
            """#

    /// The environment every gang container gets ahead of the user's: the
    /// leader's address and this pod's rank, from what the LeaderWorkerSet sets
    /// (it puts `LWS_*` first in every container, so `$(...)` resolves).
    public static let environment: [Value] = [
        ["name": "MODELPLANE_LEADER_ADDRESS", "value": "$(LWS_LEADER_ADDRESS)"],
        ["name": "MODELPLANE_RANK", "value": "$(LWS_WORKER_INDEX)"],
    ]
}
