#!/usr/bin/env bash
# Fails when generated protocol code is stale or the wire contract drifted:
#   1. proto/…/v1/run_function.proto compiles to the same descriptor as
#      Crossplane's reference copy (field for field; comments aside);
#   2. the v1beta1 twin is the v1 file with only its package changed;
#   3. the committed Swift code is what scripts/generate-proto.sh produces now.
# Check 1 needs Crossplane's run_function.proto in $PROTO_REFERENCE_DIR
# (default ../shared/proto-reference; a checkout's proto/fn/v1 works too).
# Without it check 1 is skipped with one line, or fails when
# REQUIRE_REFERENCE_DATA=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${PROTO_REFERENCE_DIR:-../shared/proto-reference}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ -f "$ref/run_function.proto" ]; then
    protoc -I "$ref" -o "$tmp/ref.pb" run_function.proto
    protoc -I proto/apiextensions/fn/proto/v1 -o "$tmp/v1.pb" run_function.proto
    cmp -s "$tmp/ref.pb" "$tmp/v1.pb" || { echo "FAIL: proto v1 differs from $ref/run_function.proto"; exit 1; }
    echo "ok: v1 descriptor identical to the reference"
elif [ "${REQUIRE_REFERENCE_DATA:-0}" = 1 ]; then
    echo "FAIL: no $ref/run_function.proto (PROTO_REFERENCE_DIR), and REQUIRE_REFERENCE_DATA=1"
    exit 1
else
    echo "skipped: proto v1 vs Crossplane's reference (no $ref/run_function.proto; set PROTO_REFERENCE_DIR to enable)"
fi

scripts/generate-proto.sh "$tmp/gen" >/dev/null
for f in proto/apiextensions/fn/proto/v1beta1/run_function.proto Sources/FunctionProto/Generated/run_function.pb.swift; do
    diff -u "$f" "$tmp/gen/$f" || { echo "FAIL: $f is stale; run scripts/generate-proto.sh"; exit 1; }
    echo "ok: $f is current"
done
