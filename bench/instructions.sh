#!/usr/bin/env bash
# Counts instructions per call for each phase (decode, compose, encode) with
# callgrind: repeatable on a shared, noisy machine where wall-clock is not.
#   bench/instructions.sh REQUEST.bin [ITERATIONS]
# Builds bench-core (release), strips DWARF 5 (Debian's valgrind cannot read
# it), and prints instructions per call for each phase.
set -euo pipefail
cd "$(dirname "$0")/.."
request=$1
iterations=${2:-10}
swift build -c release --product bench-core >/dev/null
stripped=$(mktemp)
trap 'rm -f "$stripped" "$stripped".cg.*' EXIT
objcopy --strip-debug .build/release/bench-core "$stripped"
for phase in decode compose encode; do
  case $phase in
    decode) fn='*RequestDecoderV6decode*' ;;
    compose) fn='*ComposerV3run*' ;;
    encode) fn='*Wire*encodeResponseMessage*' ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$stripped.cg.$phase" --toggle-collect="$fn" \
    "$stripped" "$request" "$iterations" >/dev/null 2>&1
  total=$(callgrind_annotate "$stripped.cg.$phase" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  printf "%-8s %12d instructions per call\n" "$phase" $(( ${total:-0} / iterations ))
done
