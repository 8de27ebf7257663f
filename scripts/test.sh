#!/usr/bin/env bash
# Runs every test: installs what is needed, builds, then
#   1. swift test (core, wire and golden tests),
#   2. the generated-code check (scripts/check-proto.sh),
#   3. the end-to-end tests against the built binary (pytest, Tests/e2e), and
#   4. schema validation of every shipped and composed manifest (Tests/schema;
#      upstream CRDs from $CRDS_DIR, default ../shared/crds).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build
scripts/check-proto.sh
FUNCTION_BIN="$(swift build --show-bin-path)/function-modelcache" python3 -m pytest -q Tests/e2e Tests/schema
