#!/usr/bin/env bash
# Formats every Swift source in place with swift-format (the toolchain's
# `swift format`, configured by .swift-format); generated code is left alone.
#   scripts/format.sh          # reformat in place
#   scripts/format.sh --lint   # only check (part of scripts/test.sh); fails on any difference
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r f; do files+=("$f"); done < <(
    { find Sources Tests -name '*.swift' -not -path '*/Generated/*'; echo Package.swift; } | LC_ALL=C sort)
if [ "${1:-}" = "--lint" ]; then
    swift format lint --strict --parallel "${files[@]}" || {
        echo "FAIL: formatting differs from .swift-format; run scripts/format.sh" >&2
        exit 1
    }
    echo "ok: ${#files[@]} Swift files formatted as .swift-format says"
else
    swift format format --in-place --parallel "${files[@]}"
fi
