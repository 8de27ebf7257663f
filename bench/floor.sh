#!/usr/bin/env bash
# Compares the server with the transport floor: a gRPC server that reads the
# same request and answers the same bytes without computing anything
# (../shared/bench/echo_server.cc), both driven by ../shared/bench/rawload.py.
#   bench/floor.sh [CALLS] REQUEST.bin...
# Needs ../shared/bench (the echo server and load driver) and g++ with Debian's
# gRPC; builds the release server and bench-core. For each request it saves the
# server's own response (bench-core), serves it from the echo server, and
# prints both p50s, the server CPU per call and the ratio. Only 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared/bench
if [ ! -f "$shared/echo_server.cc" ]; then
  echo "bench/floor.sh: $shared/echo_server.cc not found (the floor needs ../shared/bench)" >&2
  exit 2
fi
calls=100
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then calls=$1; shift; fi
[ $# -gt 0 ] || { echo "usage: bench/floor.sh [CALLS] REQUEST.bin..." >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
g++ -O2 -std=c++17 -o "$work/echo_server" "$shared/echo_server.cc" \
  -lgrpc++ -lgrpc -lgpr -labsl_synchronization -lprotobuf
swift build -c release --product function-modelcache >/dev/null
swift build -c release --product bench-core >/dev/null
python=.venv/bin/python
[ -x "$python" ] || scripts/setup.sh
p50() { sed -n 's/^p50 \([0-9.]*\) ms.*server CPU \([0-9.]*\) ms.*/\1 \2/p'; }
for request in "$@"; do
  .build/release/bench-core "$request" 1 "$work/response.bin" >/dev/null
  "$work/echo_server" 127.0.0.1:19701 "$work/response.bin" 2>/dev/null &
  echo_pid=$!
  sleep 0.5
  read -r echo_p50 echo_cpu < <("$python" "$shared/rawload.py" 127.0.0.1:19701 "$request" --pid "$echo_pid" --calls "$calls" | p50)
  kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true
  .build/release/function-modelcache --insecure --address 127.0.0.1:19702 2>/dev/null &
  server_pid=$!
  sleep 0.7
  read -r our_p50 our_cpu < <("$python" "$shared/rawload.py" 127.0.0.1:19702 "$request" --pid "$server_pid" --calls "$calls" | p50)
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  ratio=$(awk -v a="$our_p50" -v b="$echo_p50" 'BEGIN { printf "%.2f", a / b }')
  printf '%s: floor p50 %s ms (CPU %s ms/call), server p50 %s ms (CPU %s ms/call), %s× the floor\n' \
    "$(basename "$request")" "$echo_p50" "$echo_cpu" "$our_p50" "$our_cpu" "$ratio"
done
