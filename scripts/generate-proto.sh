#!/usr/bin/env bash
# Regenerates everything derived from proto/apiextensions/fn/proto/v1/run_function.proto:
#   - proto/apiextensions/fn/proto/v1beta1/run_function.proto (the v1beta1 twin)
#   - Sources/FunctionProto/Generated/run_function.pb.swift
# Needs Debian's protoc (protobuf-compiler); builds protoc-gen-swift from the
# swift-protobuf version Package.swift pins. Usage: scripts/generate-proto.sh [OUTDIR]
# With OUTDIR, writes there instead of into the tree (used by check-proto.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.}"

mkdir -p "$out/proto/apiextensions/fn/proto/v1beta1" "$out/Sources/FunctionProto/Generated"
sed -e 's/^package apiextensions\.fn\.proto\.v1;/package apiextensions.fn.proto.v1beta1;/' \
    -e 's#proto/fn/v1"#proto/fn/v1beta1"#' \
    -e 's#^// The v1beta1 twin beside this directory is generated from this file by#// GENERATED from ../v1/run_function.proto by#' \
    -e 's#^// scripts/generate-proto.sh and differs only in its package.#// scripts/generate-proto.sh; do not edit. Only the package differs.#' \
    proto/apiextensions/fn/proto/v1/run_function.proto \
    > "$out/proto/apiextensions/fn/proto/v1beta1/run_function.proto"

swift build -c release --product protoc-gen-swift >/dev/null
plugin="$(swift build -c release --show-bin-path)/protoc-gen-swift"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
    --swift_out="$tmp" -I proto proto/apiextensions/fn/proto/v1/run_function.proto
cp "$tmp/run_function.pb.swift" "$out/Sources/FunctionProto/Generated/run_function.pb.swift"
echo "generated into $out"
