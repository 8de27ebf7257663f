#!/usr/bin/env bash
# Counts instructions per call with callgrind: repeatable on a shared, noisy
# machine where wall-clock time is not.
#   bench/instructions.sh REQUEST.bin [ITERATIONS]
# Builds bench-core (release) unless BENCH_CORE names another build of it,
# strips DWARF 5 (Debian's valgrind cannot read it), and prints instructions
# per call for decode, compose and encode, and for the whole path (the
# difference between runs of ITERATIONS and 3×ITERATIONS calls, so start-up
# and first-call costs cancel out, and freeing the request and response counts).
set -euo pipefail
cd "$(dirname "$0")/.."
request=$1
iterations=${2:-10}
binary=${BENCH_CORE:-}
if [ -z "$binary" ]; then
  swift build -c release --product bench-core >/dev/null
  binary=.build/release/bench-core
fi
stripped=$(mktemp)
trap 'rm -f "$stripped" "$stripped".cg.*' EXIT
objcopy --strip-debug "$binary" "$stripped"
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'; }
for phase in decode compose encode; do
  case $phase in
    decode) fn='*8PipelineV6decode*' ;;
    compose) fn='*8PipelineV7compose*' ;;
    encode) fn='*8PipelineV6encode*' ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$stripped.cg.$phase" --toggle-collect="$fn" \
    "$stripped" "$request" "$iterations" >/dev/null 2>&1
  t=$(total "$stripped.cg.$phase")
  # A binary built before the stages had these names collects nothing: say so rather than divide a blank.
  if [[ "$t" =~ ^[0-9]+$ ]]; then
    printf "%-8s %12d instructions per call\n" "$phase" $(( t / iterations ))
  else
    printf "%-8s %12s (no function matches %s in this binary)\n" "$phase" "n/a" "$fn"
  fi
done
valgrind --tool=callgrind --callgrind-out-file="$stripped.cg.short" "$stripped" "$request" "$iterations" >/dev/null 2>&1
valgrind --tool=callgrind --callgrind-out-file="$stripped.cg.long" "$stripped" "$request" $((3 * iterations)) >/dev/null 2>&1
printf "%-8s %12d instructions per call\n" "whole" $(( ($(total "$stripped.cg.long") - $(total "$stripped.cg.short")) / (2 * iterations) ))
