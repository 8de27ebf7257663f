#!/usr/bin/env bash
# Sets up, builds (release, static Swift runtime) and starts the function.
# Arguments go to the server; without any, it serves plaintext on :9443 for
# local use with `crossplane render`. In a cluster, use the runtime image.
#   scripts/run.sh                      # --insecure on 0.0.0.0:9443
#   scripts/run.sh --tls-certs-dir DIR  # mTLS
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-python
swift build -c release --static-swift-stdlib --product function-modelcache
bin="$(swift build -c release --show-bin-path)/function-modelcache"
if [ $# -eq 0 ]; then set -- --insecure; fi
exec "$bin" "$@"
