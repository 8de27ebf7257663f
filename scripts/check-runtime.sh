#!/usr/bin/env bash
# Proves that the runtime image's package list suffices, without Docker:
#   1. builds the binary as the Dockerfile does (release, --static-swift-stdlib,
#      stripped) and checks it stays lean: under 30 MB, no Foundation or ICU;
#   2. debootstraps a minimal Debian bookworm root, from the mirror this
#      machine's apt already uses, and installs package/runtime-packages.txt
#      into it, exactly as the Dockerfile's runtime stage does;
#   3. runs the binary there as UID 2000 with a lone --insecure (as
#      `crossplane render` runs the image) and makes a real RunFunction call
#      with an independent client; then SIGTERM must exit 0.
# Needs root (debootstrap, chroot). The root is cached in $RUNTIME_ROOT.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${RUNTIME_ROOT:-$PWD/.build-runtime/rootfs}"

scripts/setup.sh
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

swift build -c release --static-swift-stdlib --product function-modelcache
built="$(swift build -c release --show-bin-path)/function-modelcache"
mkdir -p .build-runtime
bin=.build-runtime/function-modelcache
strip -o "$bin" "$built"
size=$(stat -c %s "$bin")
echo "check-runtime: stripped binary $size bytes ($(( size / 1048576 )) MiB; unstripped $(stat -c %s "$built"))"
[ "$size" -lt $(( 30 * 1048576 )) ] || { echo "FAIL: the stripped binary is over 30 MiB"; exit 1; }
# Importing Foundation anywhere (directly, or through a dependency) links ICU's data.
foundation=$(nm "$built" | grep -c '\$s10Foundation\|30FoundationInternationalization\|swift_ucnv_' || true)
if [ "$foundation" != 0 ]; then
    echo "FAIL: Foundation or ICU is linked in; import FoundationEssentials, never Foundation (docs/operating.md, 'The runtime image')"
    exit 1
fi
echo "check-runtime: no Foundation or ICU in the binary"

if [ ! -x "$root/usr/bin/apt-get" ]; then
    mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) bookworm .*/\2/p' /etc/apt/sources.list | head -1)
    [ -n "$mirror" ] || { echo "check-runtime: cannot find this machine's Debian mirror in /etc/apt"; exit 1; }
    rm -rf "$root"
    mkdir -p "$root"
    echo "check-runtime: debootstrap --variant=minbase bookworm (takes a minute or two)"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
packages=$(grep -v '^#' package/runtime-packages.txt | xargs)
chroot "$root" apt-get update -qq
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends $packages >/dev/null
install -m 0755 "$bin" "$root/usr/local/bin/function-modelcache"

# A container always has /proc; the Swift runtime reads the command line from it.
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT

echo "check-runtime: runtime packages: $packages"
missing=$(chroot "$root" ldd /usr/local/bin/function-modelcache | grep 'not found' || true)
[ -z "$missing" ] || { echo "FAIL: unresolved libraries in the runtime root:"; echo "$missing"; exit 1; }
echo "check-runtime: every shared library resolves inside the runtime root"

.venv/bin/python - "$root" <<'PY'
import os, signal, socket, subprocess, sys, time
sys.path.insert(0, "Tests/e2e")
from conftest import model_cache_request, stub_for

root = sys.argv[1]
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
# The image's entrypoint with a lone --insecure; --address only to stay on loopback here.
proc = subprocess.Popen(["chroot", "--userspec=2000:2000", root, "/usr/local/bin/function-modelcache",
                         "--insecure", "--address", f"127.0.0.1:{port}"], stderr=subprocess.PIPE, text=True)
line = proc.stderr.readline()
assert '"msg":"Serving"' in line, f"server did not start: {line}"
uid = [l for l in open(f"/proc/{proc.pid}/status") if l.startswith("Uid:")]
_, stub = stub_for(f"127.0.0.1:{port}")
rsp = stub.RunFunction(model_cache_request(["gpu-east"], tag="runtime-check"), timeout=10)
assert rsp.meta.tag == "runtime-check"
assert sorted(rsp.desired.resources) == ["hydrate-gpu-east", "pvc-gpu-east"], sorted(rsp.desired.resources)
proc.send_signal(signal.SIGTERM)
code = proc.wait(timeout=15)
print(f"check-runtime: served a RunFunction call from the runtime root as {uid[0].split()[1:2]} "
      f"(composed {sorted(rsp.desired.resources)}); SIGTERM exit code {code}")
assert code == 0
PY
echo "check-runtime: PASS"
