"""Shared test helpers: repositories of known content, and reading what the program left on the claim."""

from __future__ import annotations

import hashlib
import json
import random
import socket
import subprocess

MiB = 1 << 20


def data(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def model_files(seed: int = 1, big: int = 4 * MiB) -> dict[str, bytes]:
    """A small model: two LFS shards, JSON files (git blobs), and a nested file."""
    return {
        "config.json": json.dumps({"seed": seed, "hidden": 64}).encode(),
        "tokenizer/vocab.txt": ("token\n" * 50 + str(seed)).encode(),
        "model-00001-of-00002.safetensors": data(seed, MiB),
        "model-00002-of-00002.safetensors": data(seed + 1000, big),
    }


def rev_dir(repo: str, commit: str) -> str:
    return "rev-" + hashlib.sha256(f"hf://{repo}@{commit}".encode()).hexdigest()[:12]


def assert_staged(root, repo: str, commit: str, files: dict[str, bytes]) -> str:
    """The revision directory holds exactly these bytes, a manifest naming their hashes, and the marker."""
    name = rev_dir(repo, commit)
    d = root / name
    assert (d / ".modelcache-complete").read_text() == f"hf://{repo}@{commit}"
    for path, content in files.items():
        assert (d / path).read_bytes() == content, path
    manifest = json.loads((d / ".modelcache-manifest.json").read_text())
    assert manifest["staged"] == f"hf://{repo}@{commit}" and manifest["commit"] == commit
    assert {f["path"] for f in manifest["files"]} == set(files)
    for f in manifest["files"]:
        assert f["size"] == len(files[f["path"]])
        assert f.get("sha256") == hashlib.sha256(files[f["path"]]).hexdigest() or f.get("gitSha1") == hashlib.sha1(
            b"blob %d\0" % len(files[f["path"]]) + files[f["path"]]
        ).hexdigest()
    return name


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at the time of asking (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stops a server a test started: SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
