"""Mutation proof (acceptance 1): breaks one behaviour at a time in a scratch copy and runs the tests.

    .venv/bin/python hydrator/tests/mutate.py [GROUP ...]

Each group copies hydrator/ to a temporary folder, applies one source edit (asserting it
applied), runs `pytest -q -rf` there with that copy first on PYTHONPATH (so the program the
tests start as a subprocess is the mutated one), prints the failing tests, and exits 1 if
any mutation survives (no test failed). The working tree is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# group -> (file, original text, mutated text)
MUTATIONS = {
    "no-verification": (
        "stage.py",
        "if got == expected_digest(file) and partial.offset == file.size and not partial.overflow:",
        "if True:",
    ),
    "no-pin": (
        "inputs.py",
        'commit = env.get("MODELCACHE_COMMIT") or None',
        "commit = None",
    ),
    "no-space-check": (
        "stage.py",
        "    _check_space(inputs, directory, resolved.space_bytes - present_space)\n",
        "",
    ),
    "prune-kept-directory": (
        "prune.py",
        "if name == own or name in keep:",
        "if name == own:",
    ),
    "oci-no-tar-path-check": (
        "oci.py",
        "        check_path(name, what)\n        if member.issym() or member.islnk():",
        "        if member.issym() or member.islnk():",
    ),
    "s3-no-pin-check": (
        "s3.py",
        "if self.inputs.commit and digest != self.inputs.commit:",
        "if False:",
    ),
    "s3-size-only": (
        "s3.py",
        '        found = [(a, str(head["Checksum" + a])) for a in ALGORITHMS if head.get("Checksum" + a)]\n',
        "        return SIZE_ONLY, ()\n",
    ),
    "s3-keys-unchecked": (
        "s3.py",
        "            check_path(item.path, what)\n",
        "            pass\n",
    ),
    "volume-hash-unchecked": (
        "volume.py",
        "    if got != expected:",
        "    if False:",
    ),
}


def run(group: str) -> list[str]:
    path, before, after = MUTATIONS[group]
    with tempfile.TemporaryDirectory(prefix=f"mutant-{group}-") as tmp:
        copy = os.path.join(tmp, "hydrator")
        shutil.copytree(HERE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache"))
        source = os.path.join(copy, "modelcache_hydrator", path)
        text = open(source).read()
        assert text.count(before) == 1, f"{group}: the text to mutate is not in {path} exactly once"
        open(source, "w").write(text.replace(before, after))
        env = {**os.environ, "PYTHONPATH": copy, "COLUMNS": "400"}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--tb=line", "-p", "no:cacheprovider", os.path.join(copy, "tests")],
            cwd=copy, env=env, capture_output=True, text=True,
        )
        # --tb=line prints one "<file>:<line>: <assertion>" per failure, in order; -q then lists them as FAILED.
        where = [line.replace(copy + "/", "") for line in result.stdout.splitlines() if LOCATION.match(line)]
        failed = [line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("FAILED")]
        return [f"{name}\n      {w[:300]}" for name, w in zip(failed, where + [""] * len(failed))]


LOCATION = re.compile(r"^\S+\.py:\d+: ")


def main() -> int:
    survived = []
    for group in sys.argv[1:] or list(MUTATIONS):
        failed = run(group)
        print(f"== {group}: {len(failed)} tests fail")
        for line in failed:
            print("  " + line)
        if not failed:
            survived.append(group)
    if survived:
        print("mutations not caught: " + ", ".join(survived))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
