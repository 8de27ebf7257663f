#!/usr/bin/env bash
# Proves, without Docker, what hydrator/Dockerfile promises (hydrator.md §1):
#   1. the Dockerfile's rules: an exact Python base tag, every `pip install`
#      either `--require-hashes --no-deps -r <lock>` or `--no-deps --no-index`
#      (the program's own wheel, built without build isolation), nothing
#      installed at run time, a numeric non-root USER, HF_HUB_DISABLE_XET=1
#      and HF_HUB_DISABLE_TELEMETRY=1, the entrypoint `python -m
#      modelcache_hydrator`, the Job's user (HydrationProgram.uid), and one
#      version everywhere (the image label, the function's Dockerfile,
#      FunctionVersion.current, the package);
#   2. every line of the lock files is `name==version` with a sha256 hash;
#   3. the lock resolves for the base image's Python on linux/amd64 and
#      linux/arm64 with hashes checked (pip download, as the image build does),
#      and is complete: every dependency of every locked wheel, for that
#      Python and platform, is locked at a version that satisfies it (hf-xet
#      excepted: the image disables Xet, hydrator.md §1);
#   4. the Dockerfile's install steps, replayed in a scratch virtualenv with
#      this machine's Python, give a program that runs as the image's user and
#      answers a bad invocation with exit 2.
#   scripts/check-hydrator-image.sh            # all four (3 and 4 reach PyPI)
#   scripts/check-hydrator-image.sh --offline  # 1 and 2 only
set -euo pipefail
cd "$(dirname "$0")/.."
offline=0
[ "${1:-}" != "--offline" ] || offline=1
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" - "$offline" "$work" <<'EOF'
import json, os, re, subprocess, sys, zipfile

offline, work = sys.argv[1] == "1", sys.argv[2]
failures = []


def fail(what):
    failures.append(what)
    print(f"check-hydrator-image: FAIL: {what}")


def instructions(path):
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in open(path):
        if line.lstrip().startswith("#") and not current:
            continue
        line = line.rstrip("\n")
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            out.append(" ".join(current.split()))
        current = ""
    return out


# 1. The Dockerfile's rules.
dockerfile = instructions("hydrator/Dockerfile")
base = next((i.split("=", 1)[1] for i in dockerfile if i.startswith("ARG PYTHON_IMAGE=")), "")
m = re.fullmatch(r"python:(3\.(\d+))\.(\d+)-slim-bookworm(@sha256:[0-9a-f]{64})?", base)
if not m:
    fail(f"the base is not an exact python:3.X.Y-slim-bookworm tag: {base!r}")
py_minor = m.group(1) if m else "3.12"
py_full = f"{py_minor}.{m.group(3)}" if m else "3.12.0"
froms = [i for i in dockerfile if i.startswith("FROM ")]
if not froms or any(not i.startswith("FROM ${PYTHON_IMAGE}") for i in froms):
    fail(f"every stage must start FROM ${{PYTHON_IMAGE}}: {froms}")
pips = [c.strip() for i in dockerfile if i.startswith("RUN ") for c in re.split(r"&&|;", i[4:]) if re.search(r"\bpip\b", c)]
for cmd in pips:
    words = cmd.split()
    if "install" in words:
        hashed = {"--require-hashes", "--no-deps", "-r"} <= set(words)
        local = {"--no-deps", "--no-index"} <= set(words) and "-r" not in words
        if not (hashed or local):
            fail(f"pip install without (--require-hashes --no-deps -r LOCK) or (--no-deps --no-index): {cmd}")
    elif "wheel" in words:
        if not {"--no-deps", "--no-index", "--no-build-isolation"} <= set(words):
            fail(f"pip wheel must be --no-deps --no-index --no-build-isolation: {cmd}")
    else:
        fail(f"unexpected pip command: {cmd}")
if not any("--require-hashes" in c for c in pips):
    fail("no pip install --require-hashes at all")
users = [i.split()[1] for i in dockerfile if i.startswith("USER ")]
if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
    fail(f"the last USER must be a numeric non-root id: {users}")
# The Job sets runAsUser to HydrationProgram.uid: the image's user is the same one.
program = "Sources/FunctionCore/Cache/HydrationProgram.swift"
job_uid = re.search(r"static let uid: Int64 = ([\d_]+)", open(program).read()) if os.path.exists(program) else None
if job_uid and users and users[-1].split(":")[0] != job_uid.group(1).replace("_", ""):
    fail(f"USER {users[-1]} is not the Job's runAsUser {job_uid.group(1)} ({program})")
env = " ".join(i for i in dockerfile if i.startswith("ENV "))
for var in ("HF_HUB_DISABLE_XET=1", "HF_HUB_DISABLE_TELEMETRY=1"):
    if var not in env.split():
        fail(f"ENV {var} missing")
entry = [i for i in dockerfile if i.startswith(("ENTRYPOINT ", "CMD "))]
if entry != ['ENTRYPOINT ["python", "-m", "modelcache_hydrator"]']:
    fail(f"the entrypoint must be python -m modelcache_hydrator alone: {entry}")
# FunctionVersion.current, wherever its file lives under Sources/.
swift = None
for folder, _, names in os.walk("Sources"):
    for name in names:
        if name.endswith(".swift"):
            text = open(os.path.join(folder, name)).read()
            found = re.search(r'enum FunctionVersion\b[\s\S]*?static let current = "([^"]+)"', text)
            swift = swift or (found and found.group(1))
versions = {"FunctionVersion.current": swift}
for name, path in (("hydrator/Dockerfile", "hydrator/Dockerfile"), ("Dockerfile", "Dockerfile")):
    v = next((i.split("=", 1)[1] for i in instructions(path) if i.startswith("ARG VERSION=")), None)
    versions[name] = v
for name, path, pattern in (
    ("hydrator/pyproject.toml", "hydrator/pyproject.toml", r'(?m)^version = "([^"]+)"'),
    ("modelcache_hydrator.__version__", "hydrator/modelcache_hydrator/__init__.py", r'__version__ = "([^"]+)"'),
):
    if os.path.exists(path):
        found = re.search(pattern, open(path).read())
        versions[name] = found.group(1) if found else None
if len(set(versions.values())) != 1:
    fail(f"the versions differ: {versions}")

# 2. The lock files.
def lock(path):
    """{name: (version, [hashes])} of a `pip --require-hashes` file."""
    pins = {}
    for line in re.sub(r"\\\n", " ", open(path).read()).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(;[^-]*)?((\s*--hash=sha256:[0-9a-f]{64})+)", line)
        if not m:
            fail(f"{path}: not `name==version --hash=sha256:...`: {line[:120]}")
            continue
        name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
        pins[name] = (m.group(2), re.findall(r"sha256:([0-9a-f]{64})", m.group(4)))
    return pins


locks = {}
for path in ("hydrator/requirements.lock", "hydrator/build-requirements.lock"):
    if os.path.exists(path):
        locks[path] = lock(path)
        print(f"check-hydrator-image: {path}: {len(locks[path])} pins")
    else:
        fail(f"{path} is missing")
runtime = locks.get("hydrator/requirements.lock", {})
if runtime and "huggingface-hub" not in runtime:
    fail("requirements.lock does not pin huggingface_hub")
if not failures:
    print(f"check-hydrator-image: Dockerfile rules hold: base {base}, {len(pips)} pip steps, USER {users[-1] if users else '?'}, version {versions['FunctionVersion.current']}")
if failures or offline:
    sys.exit(1 if failures else 0)

# 3. The lock resolves with hashes for the image's Python and platforms, and is complete.
from pip._vendor.packaging.markers import Marker  # pip's own, present wherever pip is
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import Version

ABSENT_ON_PURPOSE = {"hf-xet": "the image sets HF_HUB_DISABLE_XET=1 (hydrator.md §1)"}
for arch in ("x86_64", "aarch64"):
    target = os.path.join(work, arch)
    platforms = [f"manylinux_2_{v}_{arch}" for v in (17, 28, 31, 34, 36)] + [f"manylinux2014_{arch}", "linux_" + arch]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--require-hashes",
           "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--python-version", py_minor,
           "--abi", "cp" + py_minor.replace(".", ""), "--abi", "abi3", "--abi", "none", "-d", target,
           "-r", "hydrator/requirements.lock"]
    for p in platforms:
        cmd += ["--platform", p]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        fail(f"the lock does not install on python {py_minor} linux/{arch} with hashes: {done.stderr.strip()[-600:]}")
        continue
    env = {"python_version": py_minor, "python_full_version": py_full, "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": arch, "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
    before = len(failures)
    wheels = sorted(os.listdir(target))
    for wheel in wheels:
        with zipfile.ZipFile(os.path.join(target, wheel)) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            for line in z.read(meta).decode().splitlines():
                if not line.startswith("Requires-Dist:"):
                    continue
                req = Requirement(line.split(":", 1)[1].strip())
                if req.marker and not req.marker.evaluate(env):
                    continue
                name = re.sub(r"[-_.]+", "-", req.name).lower()
                if name in ABSENT_ON_PURPOSE and name not in runtime:
                    continue
                if name not in runtime:
                    fail(f"{wheel} needs {req} on linux/{arch}, which the lock does not pin")
                elif not req.specifier.contains(Version(runtime[name][0]), prereleases=True):
                    fail(f"{wheel} needs {req}; the lock pins {runtime[name][0]}")
    if len(failures) == before:
        print(f"check-hydrator-image: linux/{arch}, python {py_minor}: {len(wheels)} hashed wheels, dependencies complete")
sys.exit(1 if failures else 0)
EOF
[ "$offline" = 0 ] || exit 0

# 4. The Dockerfile's install steps, replayed with this machine's Python.
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip -q --disable-pip-version-check)
"${pip[@]}" install --require-hashes --no-deps -r hydrator/build-requirements.lock
cp -r hydrator/pyproject.toml hydrator/modelcache_hydrator "$work/"
[ ! -f hydrator/README.md ] || cp hydrator/README.md "$work/"
rm -rf "$work/modelcache_hydrator/__pycache__"
(cd "$work" && "${pip[@]}" wheel --no-deps --no-build-isolation --no-index --wheel-dir "$work/wheels" .)
"${pip[@]}" install --require-hashes --no-deps -r hydrator/requirements.lock
"${pip[@]}" install --no-deps --no-index "$work"/wheels/*.whl
uid="$(sed -n 's/^USER \([0-9]*\).*/\1/p' hydrator/Dockerfile | tail -1)"
chmod -R a+rX "$work"
mkdir -p "$work/home" && chown "$uid:$uid" "$work/home"
rc=0
(cd / && env -i PATH=/usr/bin:/bin HOME="$work/home" HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1 \
    MODELCACHE_REPORT_FILE="$work/home/report.json" \
    setpriv --reuid="$uid" --regid="$uid" --clear-groups "$work/venv/bin/python" -m modelcache_hydrator) \
    > "$work/run.log" 2>&1 || rc=$?
if [ "$rc" != 2 ]; then
    echo "check-hydrator-image: FAIL: a bad invocation (no MODELCACHE_SOURCE) as UID $uid exited $rc, not 2:"
    cat "$work/run.log"
    exit 1
fi
echo "check-hydrator-image: the installed program runs as UID $uid and exits 2 on a bad invocation"
