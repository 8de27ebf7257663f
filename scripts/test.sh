#!/usr/bin/env bash
# Runs every test: installs what is needed, builds (warnings are errors), then
#   1. swift test: core, wire, golden and render-scenario tests (every scenario
#      also rendered by the built binary in separate processes, bytes compared);
#   2. the generated-code check (scripts/check-proto.sh);
#   3. the end-to-end tests against the built binary (pytest, Tests/e2e);
#   4. schema validation of every shipped and composed manifest (Tests/schema);
#   5. the hydration program's tests against local hub and Kubernetes API stand-ins
#      (pytest, hydrator/tests), then scripts/check-hydrator-image.sh (its image, without Docker);
#   6. the formatting lint (swift format; scripts/format.sh fixes it).
# Reference data that is not part of this repository is read from folders
# named by these variables; each check that needs one runs when it exists and
# is otherwise skipped with one line saying how to enable it:
#   PROTO_REFERENCE_DIR  (default ../shared/proto-reference) Crossplane's run_function.proto
#   CRDS_DIR             (default ../shared/crds)  upstream CRDs: crossplane cluster/crds and
#                        cluster/meta, provider-kubernetes package/crds, lws config/crd/bases
#   SEED_DIR             (default ../shared/seed)  the proposal's XRDs and example manifests
# REQUIRE_REFERENCE_DATA=1 (as .ci/run sets) turns a missing folder into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export PROTO_REFERENCE_DIR="${PROTO_REFERENCE_DIR:-../shared/proto-reference}"
export CRDS_DIR="${CRDS_DIR:-../shared/crds}"
export SEED_DIR="${SEED_DIR:-../shared/seed}"

# have VAR WHAT: whether $VAR names a folder; if not, one line (or a failure under REQUIRE_REFERENCE_DATA=1).
have() {
    local dir="${!1}"
    [ -d "$dir" ] && return 0
    if [ "${REQUIRE_REFERENCE_DATA:-0}" = 1 ]; then
        echo "FAIL: $1=$dir does not exist ($2), and REQUIRE_REFERENCE_DATA=1" >&2
        exit 1
    fi
    echo "skipped: $2 ($1=$dir does not exist; set $1 to enable)"
    return 1
}

scripts/setup.sh
# The shipped binary imports FoundationEssentials only: Foundation would link ICU's
# data (~30 MB) into it. (scripts/check-runtime.sh checks the release binary itself.)
foundation=$(grep -rnE '^[[:space:]]*(@[A-Za-z_]+ +)*((public|internal|package) +)?import +((struct|class|enum|func|protocol|typealias|var|let) +)?Foundation([.[:space:]]|$)' \
    Sources --include='*.swift' | grep -v '^Sources/\(fuzz-runfunction\|bench-core\|FunctionProto/Generated\)/' || true)
[ -z "$foundation" ] || { echo "FAIL: import FoundationEssentials, not Foundation, in shipped code:"; echo "$foundation"; exit 1; }
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build
scripts/check-proto.sh

pytest_paths=(Tests/e2e)
if have CRDS_DIR "schema tests of every manifest against the upstream CRDs"; then
    pytest_paths+=(Tests/schema)
fi
have SEED_DIR "tests against the proposal's manifests" || true
FUNCTION_BIN="$(swift build --show-bin-path)/function-modelcache" .venv/bin/python -m pytest -q "${pytest_paths[@]}"
.venv/bin/python -m pytest -q hydrator/tests
# What the hydrator's image promises, without Docker (its lock resolved from PyPI for the image's Python).
scripts/check-hydrator-image.sh

scripts/format.sh --lint
