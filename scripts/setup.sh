#!/usr/bin/env bash
# Installs what building and testing need on Debian 12: gRPC C++, protobuf and
# libyaml (build and runtime), protoc for the generated-code check, and a
# project virtualenv (.venv/, git-ignored) holding the Python packages of
# Tests/requirements.txt that the end-to-end and schema tests use as an
# independent gRPC client and validators, and the hydration program (hydrator/,
# editable, with the exact hashed dependencies of hydrator/requirements.lock).
#   scripts/setup.sh               # everything
#   scripts/setup.sh --no-python   # system packages only (building and serving)
# The virtualenv is made with Debian's own Python (/usr/bin/python3, with
# python3-venv); set PYTHON to use another interpreter. Debian refuses pip
# installs into its system Python (PEP 668), hence the virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

with_python=1
[ "${1:-}" != "--no-python" ] || with_python=0

apt_packages=(libgrpc++-dev libprotobuf-dev libyaml-dev protobuf-compiler pkg-config)
# The hydrator's OCI tests start a real registry (Debian's docker-registry, never its system service) and
# write its htpasswd file with apache2-utils' htpasswd.
[ "$with_python" = 0 ] || apt_packages+=(python3 python3-venv docker-registry apache2-utils)
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

# One toolchain everywhere: the Dockerfile's builder image and CI use this version.
swift_version=6.3.1
have_swift="$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -1)"
[ "$have_swift" = "$swift_version" ] || echo "setup: note: Swift ${have_swift:-not found} here; the Dockerfile and CI use $swift_version"

[ "$with_python" = 1 ] || exit 0

python="${PYTHON:-/usr/bin/python3}"
requirements=Tests/requirements.txt
lock=hydrator/requirements.lock
stamp=.venv/.requirements.sha256
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
    echo "setup: created .venv with $("$python" --version 2>&1) ($python)"
fi
# Reinstall only when the requirements, the hydrator's lock or its package metadata change.
# The hydrator is installed editable, so its sources are never stale copies: tests and
# benchmarks run the code the image runs. Its dependencies come from the hashed lock
# (as in the image), in their own pip invocation so --require-hashes applies to them alone.
want="$(cat "$requirements" "$lock" hydrator/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
    .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e ./hydrator
    echo "$want" > "$stamp"
    echo "setup: installed $requirements, $lock and the hydrator (editable) into .venv"
fi
