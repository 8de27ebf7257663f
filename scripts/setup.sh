#!/usr/bin/env bash
# Installs what building and testing need on Debian 12: gRPC C++, protobuf and
# libyaml (build and runtime), protoc for the generated-code check, and the
# Python packages the end-to-end tests use as an independent gRPC client.
# Usage: scripts/setup.sh [--no-python]
set -euo pipefail

apt_packages=(libgrpc++-dev libprotobuf-dev libyaml-dev protobuf-compiler pkg-config)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    echo "setup: installed ${missing[*]}"
fi

if [ "${1:-}" != "--no-python" ]; then
    python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/../Tests/requirements.txt"
fi
