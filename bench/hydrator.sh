#!/usr/bin/env bash
# The hydrator benchmark of hydrator.md §6: a measurement that prints figures,
# not a test. Stages a 2 GiB synthetic repo (eight 256 MiB LFS shards and a
# few small files) from a static stand-in for the hub (nginx, sendfile) over
# loopback, against `curl` fetching the same files from the same server to the
# same disk; nginx pinned to one core, the client to the other.
#
#   bench/hydrator.sh [RUNS]          # RUNS of each side (default 3); medians
#   bench/hydrator.sh --serve         # only serve the repo (for profiling) until Ctrl-C
#
# Before measuring, it proves that huggingface_hub's own client accepts the
# static hub (bench/hydrator/hubcheck.py). It runs curl and the hydrator in turn (run i
# of each back to back, so both meet the same load) and prints, per run and as medians: curl's
# time, alone and followed by an fsync or by `openssl dgst -sha256` of the files
# (a verifying baseline); the hydrator's time (fresh destination each run,
# verification included) and its fixed cost (a run with nothing to fetch);
# user+sys CPU per GiB for both; the hydrator's peak RSS (target < 200 MiB); the
# ratios to curl (target <= 1.3); the floor, what curl does plus what verification
# adds on the same core (curl's time plus hashing every byte at the measured
# hashlib rate; also with curl's fsync) and the hydrator's ratio to it; then a
# resume run: the hydrator is SIGKILLed at half the bytes and rerun, and the bytes the server sent twice (from nginx's
# access log) are printed as a share of the repo (target <= 10 %); and this
# machine's SHA-256 throughput on one core, the limit verification works against.
# bench/README.md ("Hydrator: 2 GiB over loopback") has the recorded figures.
#
# Environment (all optional):
#   BENCH_DIR   where the repo is generated (reused when present) and the
#               destinations are written: one disk for both
#               (default /var/tmp/modelcache-hydrator-bench; about 4.1 GiB).
#   PYTHON      the interpreter with modelcache_hydrator and huggingface_hub
#               (default .venv/bin/python, as scripts/setup.sh makes it)
#   HYDRATOR    the command that runs the program (default "$PYTHON -m modelcache_hydrator")
#   SERVER_CORE, CLIENT_CORE   the cores for nginx and for the client (1, 0)
#   SHARD_MIB, SHARDS          the repo's shards (256, 8)
#   NICE=-10    run nginx, curl and the hydrator at that niceness (root only),
#               so other work on a shared machine perturbs both sides less; with
#               the kernel's autogroups on (/proc/sys/kernel/sched_autogroup_enabled),
#               the niceness of this session's group too (restored on exit)
#   SKIP_RESUME=1              skip the resume measurement
#   SKIP_HYDRATOR=1            curl only (the layout check and the baseline)
# nginx comes from Debian (nginx-light), installed with apt when absent like
# scripts/setup.sh does. Everything listens on 127.0.0.1 only, and the server
# is stopped on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."
here="$PWD/bench/hydrator"

say() { printf '%s\n' "$*"; }
die() { printf 'hydrator.sh: %s\n' "$*" >&2; exit 1; }
serve_only=0
if [ "${1:-}" = "--serve" ]; then serve_only=1; shift; fi
runs="${1:-${RUNS:-3}}"
bench_dir="${BENCH_DIR:-/var/tmp/modelcache-hydrator-bench}"
python="${PYTHON:-.venv/bin/python}"
hydrator="${HYDRATOR:-$python -m modelcache_hydrator}"
read -r -a hydrator_cmd <<<"$hydrator"   # a command line, split on spaces
server_core="${SERVER_CORE:-1}"
client_core="${CLIENT_CORE:-0}"
shard_mib="${SHARD_MIB:-256}"
shards="${SHARDS:-8}"
nice_level="${NICE:-0}"
repo_id="bench/synthetic-2g"
case "$bench_dir" in /|"") die "BENCH_DIR must be a directory of its own";; esac
repo="$bench_dir/repo"
run="$bench_dir/run"
dest="$bench_dir/dest"
# Runs a command on a core, at the chosen niceness.
on_core() { local core="$1"; shift; nice -n "$nice_level" taskset -c "$core" "$@"; }

# --- tools -------------------------------------------------------------------
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light >/dev/null
    say "hydrator.sh: installed nginx-light"
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
for tool in curl taskset; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (Debian: curl, util-linux)"
done
[ -x "${python%% *}" ] || command -v "${python%% *}" >/dev/null 2>&1 || die "no interpreter $python (scripts/setup.sh makes .venv; or set PYTHON)"
if [ -z "${HYDRATOR:-}" ] && [ "$serve_only" = 0 ] && [ "${SKIP_HYDRATOR:-0}" != 1 ]; then
    "$python" -c 'import modelcache_hydrator' 2>/dev/null \
        || die "$python cannot import modelcache_hydrator (scripts/setup.sh installs it; or set HYDRATOR)"
fi
[ "$(nproc)" -ge 2 ] || say "hydrator.sh: note: one core only; server and client share it"

# --- the repo (generated once, reused) -----------------------------------------
stamp="$shards x $shard_mib MiB, genrepo $(sha256sum "$here/genrepo.py" | cut -c1-12)"
if [ "$(cat "$repo/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "hydrator.sh: generating the repo in $repo ($stamp) ..."
    rm -rf "$repo"
    mkdir -p "$repo"
    python3 "$here/genrepo.py" "$repo" "$repo_id" "$shard_mib" "$shards" 2>/dev/null
    echo "$stamp" > "$repo/.stamp"
fi
meta="$repo/meta.json"
commit="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commit"])' "$meta")"
total="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totalBytes"])' "$meta")"
mapfile -t files < "$repo/files.txt"

# --- the server ------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hub_port="$(free_port)"
lfs_port="$(free_port)"
[ "$hub_port" != "$lfs_port" ] || lfs_port="$(free_port)"
endpoint="http://127.0.0.1:$hub_port"
rm -rf "$run" "$dest"
mkdir -p "$run" "$dest"
sed -e "s#@ROOT@#$repo#g" -e "s#@RUN@#$run#g" -e "s#@REPO_RE@#${repo_id//./\\.}#g" \
    -e "s#@COMMIT@#$commit#g" -e "s#@HUB_PORT@#$hub_port#g" -e "s#@LFS_PORT@#$lfs_port#g" \
    "$here/nginx.conf.in" > "$run/nginx.conf"
nginx_pid=""
victim_pgid=""
autogroup_was=""
if [ "$nice_level" != 0 ] && [ -w /proc/self/autogroup ]; then
    autogroup_was="$(sed -n 's/.* nice //p' /proc/self/autogroup)"
    echo "$nice_level" > /proc/self/autogroup 2>/dev/null || autogroup_was=""
fi
cleanup() {
    [ -z "$autogroup_was" ] || echo "$autogroup_was" > /proc/self/autogroup 2>/dev/null || true
    if [ -n "$victim_pgid" ]; then kill -KILL -- "-$victim_pgid" 2>/dev/null || true; fi
    if [ -n "$nginx_pid" ]; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Its output goes to a file: it must never hold the caller's pipe open.
nice -n "$nice_level" taskset -c "$server_core" "$nginx_bin" -p "$run" -c "$run/nginx.conf" -e "$run/error.log" > "$run/nginx.out" 2>&1 &
nginx_pid=$!
for _ in $(seq 100); do
    curl -s --noproxy '*' -o /dev/null "$endpoint/api/models/$repo_id" && break
    kill -0 "$nginx_pid" 2>/dev/null || die "nginx did not start: $(cat "$run/error.log")"
    sleep 0.05
done
curl -s --noproxy '*' -o /dev/null "$endpoint/api/models/$repo_id" || die "nginx does not answer on $endpoint: $run/error.log"

# --- helpers -------------------------------------------------------------------------
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
gib() { awk -v b="$1" 'BEGIN {printf "%.3f", b/1073741824}'; }
# Flushes what the previous run left dirty, so no run pays for another's writeback.
settle() { rm -rf "$dest"; mkdir -p "$dest"; sync; sleep 1; }
# Sums the body bytes nginx logged from line $1 on (the resume accounting).
log_bytes_from() { tail -n "+$1" "$run/access.log" | awk '{b+=$3} END {print b+0}'; }
log_lines() { wc -l < "$run/access.log"; }
# nginx's CPU seconds so far (user+sys), and the 1-minute load, to show what each run met.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$nginx_pid/stat"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
since() { awk -v a="$1" -v b="$(server_cpu)" 'BEGIN {printf "%.2f", b-a}'; }
hydrator_env=(
    env -u HTTPS_PROXY -u HTTP_PROXY -u https_proxy -u http_proxy -u HF_TOKEN
    "NO_PROXY=127.0.0.1,localhost" HF_ENDPOINT="$endpoint" HF_HOME="$run/hf-home"
    HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1
    MODELCACHE_SOURCE="hf://$repo_id" MODELCACHE_ROOT="$dest" MODELCACHE_KEEP=""
    MODELCACHE_CLAIM_BYTES=$((4 * total)) MODELCACHE_EPOCH=1.0
    MODELCACHE_JOB=bench-hydrate MODELCACHE_POD=bench-hydrate-0
    MODELCACHE_REPORT_FILE="$run/report.json"
)
# Runs the hydrator once on the client core, measured (measure.py) into $1.time;
# checks that it staged the repo (exit 0, report Complete, every byte there).
run_hydrator() {
    local tag="$1" rc=0
    python3 "$here/measure.py" "$run/$tag.time" \
        nice -n "$nice_level" taskset -c "$client_core" "${hydrator_env[@]}" "${hydrator_cmd[@]}" > "$run/$tag.log" 2>&1 || rc=$?
    [ "$rc" = 0 ] || die "the hydrator exited $rc ($tag); its output: $run/$tag.log"
    python3 - "$run/report.json" "$dest" "$meta" <<'EOF' || die "the hydrator's result is wrong ($tag): $run/$tag.log"
import json, os, sys
report, dest, meta = json.load(open(sys.argv[1])), sys.argv[2], json.load(open(sys.argv[3]))
assert report["phase"] == "Complete", report
assert report["commit"] == meta["commit"], report
assert report["doneBytes"] == report["totalBytes"] == meta["totalBytes"], report
assert report["verifiedFiles"] == report["files"] == len(meta["files"]), report
root = os.path.join(dest, report["dir"])
assert os.path.exists(os.path.join(root, ".modelcache-complete")), "no completion marker"
for f in meta["files"]:
    assert os.path.getsize(os.path.join(root, f["path"])) == f["size"], f
EOF
}
# Prints "wall user sys maxrss_kib oncpu rqwait exit" of a measure.py file.
times_of() { tail -n 1 "$run/$1.time"; }

if [ "$serve_only" = 1 ]; then
    say "serving $repo_id ($commit) at $endpoint until Ctrl-C; the hydrator's environment:"
    printf ' %q' "${hydrator_env[@]:1}" "${hydrator_cmd[@]}"; echo
    wait "$nginx_pid"
    exit 0
fi

# --- the machine -------------------------------------------------------------------------
say "== Hydrator benchmark: $(gib "$total") GiB ($shards x $shard_mib MiB + $(( ${#files[@]} - shards )) small files), $runs runs each"
say "machine:   $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, Linux $(uname -r)"
say "disk:      $bench_dir on $(df --output=source,fstype "$bench_dir" | tail -1 | tr -s ' '), repo and destination on it"
say "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; the machine is shared)"
say "server:    $("$nginx_bin" -v 2>&1 | sed 's/.*: //') on core $server_core, sendfile on, $endpoint (LFS files 302 to 127.0.0.1:$lfs_port)"
say "client:    core $client_core; $(curl --version | head -1 | cut -d' ' -f1-2); hydrator: $hydrator"
say "python:    $("${python%% *}" -c 'import sys, huggingface_hub as h; print(sys.version.split()[0], "huggingface_hub", h.__version__)' 2>/dev/null || echo 'no huggingface_hub')"

# --- the layout, as the real client sees it -------------------------------------------------
"${python%% *}" "$here/hubcheck.py" "$endpoint" "$meta" "$run" || die "the static hub does not pass huggingface_hub's checks"

# --- SHA-256 on one core ---------------------------------------------------------------------
# openssl speed divides by CPU (user) time; hashlib is timed by CPU time too,
# so a busy shared core does not lower either.
sha_openssl="$(on_core "$client_core" openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null \
    | awk '/^sha256|^SHA256/ {v=$NF} END {sub(/k$/, "", v); printf "%.0f", v*1000/1e6}')"
sha_hashlib="$(on_core "$client_core" "${python%% *}" -c '
import hashlib, time
buf = bytearray(4 << 20)
h = hashlib.sha256(); t = time.process_time()
for _ in range(256): h.update(buf)
print(round((1 << 30) / (time.process_time() - t) / 1e6))')"
say "sha256:    $sha_openssl MB/s (openssl speed -evp sha256, 1 MiB blocks), $sha_hashlib MB/s (Python hashlib, 1 GiB in 4 MiB updates): per second of CPU on one core"

# --- curl and the hydrator, back to back ----------------------------------------------------------
# Run i of curl is followed at once by run i of the hydrator, so both meet the same load.
curl_args=()
for f in "${files[@]}"; do curl_args+=(-o "$dest/curl/$f" "$endpoint/$repo_id/resolve/$commit/$f"); done
curl_wall=(); curl_sync=(); curl_cpu=(); curl_verify=()
hyd_wall=(); hyd_cpu=(); hyd_rss=()
for i in $(seq "$runs"); do
    settle
    s0="$(server_cpu)"; l0="$(load1)"
    python3 "$here/measure.py" "$run/curl$i.time" \
        nice -n "$nice_level" taskset -c "$client_core" curl -sS --fail -L --noproxy '*' --create-dirs "${curl_args[@]}"
    start=$(date +%s.%N)
    sync "$dest"/curl/*
    fsync=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.3f", e-s}')
    # A verifying shell baseline: openssl's SHA-256 of what curl wrote (read back
    # from the page cache; coreutils' sha256sum is ~10x slower here).
    python3 "$here/measure.py" "$run/dgst$i.time" \
        nice -n "$nice_level" taskset -c "$client_core" openssl dgst -sha256 "$dest"/curl/* > /dev/null
    dgst="$(cut -d' ' -f1 "$run/dgst$i.time")"
    read -r wall user sys crss _ rq _ <<<"$(times_of "curl$i")"
    curl_wall+=("$wall"); curl_sync+=("$(awk -v a="$wall" -v b="$fsync" 'BEGIN {print a+b}')")
    curl_verify+=("$(awk -v a="$wall" -v b="$dgst" 'BEGIN {print a+b}')")
    curl_cpu+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u+s}')")
    say "curl      run $i: ${wall} s (+ ${fsync} s fsync, + ${dgst} s openssl dgst -sha256), user ${user} s, sys ${sys} s, waited ${rq} s for the core, max RSS $((crss / 1024)) MiB; nginx $(since "$s0") s CPU; load $l0"
    [ "${SKIP_HYDRATOR:-0}" != 1 ] || continue
    settle
    s0="$(server_cpu)"; l0="$(load1)"
    run_hydrator "hydrator$i"
    read -r wall user sys rss _ rq _ <<<"$(times_of "hydrator$i")"
    hyd_wall+=("$wall"); hyd_rss+=("$rss")
    hyd_cpu+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u+s}')")
    say "hydrator  run $i: ${wall} s, user ${user} s, sys ${sys} s, waited ${rq} s for the core, max RSS $((rss / 1024)) MiB; nginx $(since "$s0") s CPU; load $l0"
done
if [ "${SKIP_HYDRATOR:-0}" = 1 ]; then
    m_curl="$(printf '%s\n' "${curl_wall[@]}" | median)"
    say "curl median: ${m_curl} s; SKIP_HYDRATOR=1: no hydrator runs"
    exit 0
fi

# The fixed cost: a run on the staged destination (start, resolve, probe, "already staged").
run_hydrator fixed
read -r fixed_wall fixed_user fixed_sys _ _ _ _ <<<"$(times_of fixed)"
say "hydrator  again on the staged repo (start, resolve, probe, nothing to fetch): ${fixed_wall} s, user ${fixed_user} s, sys ${fixed_sys} s"

gibs="$(gib "$total")"
m_curl="$(printf '%s\n' "${curl_wall[@]}" | median)"
m_curl_sync="$(printf '%s\n' "${curl_sync[@]}" | median)"
m_curl_verify="$(printf '%s\n' "${curl_verify[@]}" | median)"
m_hyd="$(printf '%s\n' "${hyd_wall[@]}" | median)"
m_curl_cpu="$(printf '%s\n' "${curl_cpu[@]}" | median)"
m_hyd_cpu="$(printf '%s\n' "${hyd_cpu[@]}" | median)"
max_rss="$(printf '%s\n' "${hyd_rss[@]}" | sort -n | tail -1)"
ratio="$(awk -v h="$m_hyd" -v c="$m_curl" 'BEGIN {printf "%.2f", h/c}')"
ratio_sync="$(awk -v h="$m_hyd" -v c="$m_curl_sync" 'BEGIN {printf "%.2f", h/c}')"
ratio_verify="$(awk -v h="$m_hyd" -v c="$m_curl_verify" 'BEGIN {printf "%.2f", h/c}')"
ratio_bare="$(awk -v h="$m_hyd" -v f="$fixed_wall" -v c="$m_curl" 'BEGIN {printf "%.2f", (h-f)/c}')"
# What verification alone costs the client's core: SHA-256 of every byte at this
# machine's hashlib rate, against curl's whole time.
hash_s="$(awk -v b="$total" -v r="$sha_hashlib" 'BEGIN {printf "%.2f", b/(r*1e6)}')"
# The floor: what curl does plus hashing every byte on the same core; and with curl's fsync added too.
floor="$(awk -v c="$m_curl" -v h="$hash_s" 'BEGIN {printf "%.3f", c+h}')"
floor_sync="$(awk -v c="$m_curl_sync" -v h="$hash_s" 'BEGIN {printf "%.3f", c+h}')"
ratio_floor="$(awk -v h="$m_hyd" -v f="$floor" 'BEGIN {printf "%.2f", h/f}')"
ratio_floor_sync="$(awk -v h="$m_hyd" -v f="$floor_sync" 'BEGIN {printf "%.2f", h/f}')"
mbps() { awk -v b="$total" -v t="$1" 'BEGIN {printf "%.0f", b/t/1048576}'; }
per_gib() { awk -v c="$1" -v g="$gibs" 'BEGIN {printf "%.2f", c/g}'; }

# --- resume after SIGKILL at half way ----------------------------------------------------------
resume_line=""
if [ "${SKIP_RESUME:-0}" != 1 ]; then
    settle
    first=$(( $(log_lines) + 1 ))
    # setsid: the program and anything it starts form one group, killed together.
    setsid nice -n "$nice_level" taskset -c "$client_core" "${hydrator_env[@]}" "${hydrator_cmd[@]}" > "$run/killed.log" 2>&1 &
    victim_pgid=$!
    half=$(( total / 2 ))
    written=0
    # Bytes the program wrote (wchar of its processes), which is what reached the
    # destination: robust to preallocated or sparse partial files.
    while kill -0 "$victim_pgid" 2>/dev/null; do
        written=$(for p in $(pgrep -g "$victim_pgid"); do awk '/^wchar/ {print $2}' "/proc/$p/io" 2>/dev/null; done | awk '{s+=$1} END {print s+0}')
        [ "$written" -lt "$half" ] || break
        sleep 0.02
    done
    kill -KILL -- "-$victim_pgid" 2>/dev/null || die "the hydrator ended before half way: $run/killed.log"
    wait "$victim_pgid" 2>/dev/null || true
    victim_pgid=""
    on_disk="$(du -sb --apparent-size "$dest" | cut -f1)"
    sleep 1   # nginx logs the cut requests once it sees the connection closed
    sent_before="$(log_bytes_from "$first")"
    second=$(( $(log_lines) + 1 ))
    run_hydrator resume
    sent_after="$(log_bytes_from "$second")"
    read -r r_wall _ _ r_rss _ _ _ <<<"$(times_of resume)"
    again=$(( sent_before + sent_after - total ))
    resume_pct="$(awk -v a="$again" -v t="$total" 'BEGIN {printf "%.1f", 100*a/t}')"
    resume_line="killed at $(gib "$written") GiB written ($(gib "$on_disk") GiB apparent on disk); the server sent $(gib "$sent_before") GiB before the kill and $(gib "$sent_after") GiB to the resumed run (${r_wall} s, max RSS $((r_rss / 1024)) MiB): $(gib "$again") GiB sent twice = ${resume_pct} % of the repo (target <= 10 %)"
fi

say ""
say "== Results (median of $runs; $gibs GiB; curl: one process, the $((${#files[@]})) files one after another on one connection, -L through the LFS redirect)"
say "curl:            ${m_curl} s ($(mbps "$m_curl") MiB/s), user+sys $(per_gib "$m_curl_cpu") s/GiB; curl then fsync of the files ${m_curl_sync} s; curl then openssl dgst -sha256 of them ${m_curl_verify} s"
say "hydrator:        ${m_hyd} s ($(mbps "$m_hyd") MiB/s), verification included; user+sys $(per_gib "$m_hyd_cpu") s/GiB; peak RSS $((max_rss / 1024)) MiB (target < 200 MiB)"
say "ratio:           ${ratio} x curl (target <= 1.3); ${ratio_sync} x curl + fsync; ${ratio_verify} x curl + openssl dgst; ${ratio_bare} x curl without the hydrator's fixed cost (${fixed_wall} s)"
say "hashing alone:   SHA-256 of every byte takes ${hash_s} s of the client's core at ${sha_hashlib} MB/s = $(awk -v f="$hash_s" -v c="$m_curl" 'BEGIN {printf "%.2f", f/c}') x curl's time (1.3 x curl leaves 0.3 x for it and everything else)"
say "floor:           curl + hashing = ${floor} s ($(awk -v f="$floor" -v c="$m_curl" 'BEGIN {printf "%.2f", f/c}') x curl): curl's work plus what verification adds on its core; curl + fsync = ${m_curl_sync} s; curl + hashing + fsync = ${floor_sync} s (nothing overlapped)"
say "to the floor:    hydrator = ${ratio_floor} x (curl + hashing), ${ratio_floor_sync} x (curl + hashing + fsync)"
[ -z "$resume_line" ] || say "resume:          $resume_line"
say "sha256 (1 core): $sha_openssl MB/s openssl, $sha_hashlib MB/s hashlib"
say "files:           $bench_dir (repo reused between runs; delete it to regenerate)"
