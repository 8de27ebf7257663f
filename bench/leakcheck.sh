#!/usr/bin/env bash
# Leak check: runs the server under valgrind memcheck, drives it with valid,
# invalid and oversized calls, stops it with SIGTERM, and prints the leak
# summary plus any "definitely lost" record whose stack passes through this
# project's code (Function*, shim fmc_*). Not part of the test suite.
#   bench/leakcheck.sh [CALLS]      default 300
# PYTHON names an interpreter with grpcio and the Crossplane SDK (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-300}"
command -v valgrind >/dev/null || { apt-get update -qq; apt-get install -y -qq valgrind >/dev/null; }
swift build -c release --product function-modelcache >/dev/null
log="$(mktemp)"
# Debian's valgrind 3.19 cannot read the DWARF 5 that Swift's clang writes:
# check a copy without debug info (symbols stay, so stacks still name functions).
bin="$(mktemp -d)/function-modelcache"
objcopy --strip-debug "$(swift build -c release --show-bin-path)/function-modelcache" "$bin"
python="${PYTHON:-python3}"
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --leak-check=full --show-leak-kinds=definite --num-callers=40 --log-file="$log" \
    "$bin" --insecure --address "127.0.0.1:$port" --max-recv-message-size 1 2>/dev/null &
pid=$!
# Stop the server under valgrind however this script ends.
trap 'kill -TERM "$pid" 2>/dev/null || true' EXIT
"$python" - "$port" "$calls" <<'PY'
import sys, time
sys.path.insert(0, "bench"); sys.path.insert(0, "Tests/e2e")
import grpc, bench
from conftest import raw_call, stub_for
port, calls = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 120
while True:
    try:
        ch, _ = stub_for(f"127.0.0.1:{port}")
        grpc.channel_ready_future(ch).result(timeout=2)
        break
    except Exception:
        if time.time() > deadline: raise
call = raw_call(ch)
bodies = [bench.request(3, s) for s in ("nothing", "hydrating", "ready")]
ok = bad = 0
for i in range(calls):
    body = bodies[i % 3] if i % 5 else (b"\xff\xff" if i % 10 else b"x" * (2 << 20))
    try:
        call(body, timeout=60); ok += 1
    except grpc.RpcError:
        bad += 1
print(f"leakcheck: {ok} answered, {bad} rejected as expected")
PY
kill -TERM "$pid"
wait "$pid" || true
echo "--- valgrind summary"
sed -n '/LEAK SUMMARY/,/suppressed/p' "$log" | sed 's/^==[0-9]*== //'
ours=$(awk '/definitely lost in loss record/{rec=$0; keep=0} /Function|fmc_|function-modelcache/{if(rec!="")keep=1} /^==[0-9]*== $/{if(keep)print rec; rec=""; keep=0}' "$log" | sort -u)
if [ -n "$ours" ]; then
    echo "--- definitely-lost records through this project's code:"; echo "$ours"; exit 1
fi
echo "leakcheck: no definitely-lost block allocated through this project's code (full log: $log)"
