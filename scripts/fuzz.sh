#!/usr/bin/env bash
# Fuzzes request bytes (and YAML) → response with libFuzzer.
#   scripts/fuzz.sh [SECONDS]      default 60; CI runs a short smoke
# Builds fuzz-runfunction with the fuzzer sanitizer in .build-fuzz, seeds it
# from the test fixtures, and runs it. A crash leaves crash-* files in
# .build-fuzz/artifacts: copy them into fuzz/regressions/, where
# `swift test` replays every file (FuzzRegressionTests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
swift build --scratch-path .build-fuzz --sanitize fuzzer -Xswiftc -DFUZZING --product fuzz-runfunction >/dev/null
bin="$(swift build --scratch-path .build-fuzz --sanitize fuzzer -Xswiftc -DFUZZING --show-bin-path)/fuzz-runfunction"
[ -x .venv/bin/python ] || scripts/setup.sh
.venv/bin/python fuzz/make-seeds.py .build-fuzz/seeds
mkdir -p .build-fuzz/corpus .build-fuzz/artifacts
# Swift's own backtracer would catch a trap before libFuzzer could save the input.
status=0
SWIFT_BACKTRACE=enable=no "$bin" .build-fuzz/corpus .build-fuzz/seeds fuzz/regressions -max_total_time="$seconds" \
    -max_len=262144 -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 -artifact_prefix=.build-fuzz/artifacts/ \
    > .build-fuzz/fuzz.log 2>&1 || status=$?
grep -E "Precondition failed|Fatal error|ERROR|SUMMARY|Test unit written|stat::|Done [0-9]+ runs" .build-fuzz/fuzz.log | tail -20
exit "$status"
