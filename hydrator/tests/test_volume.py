"""The volume check (sources.md §1): a claim someone else fills, mounted read-only; its files must be there,
its manifest (when present) must match; nothing is ever written on it."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from conftest import Env
from helpers import assert_staged, model_files, rev_dir as hub_rev_dir
from test_s3 import SOURCE as S3_SOURCE, _NoHub, aws_env, fill, moto, rev_dir as s3_rev_dir, s3  # noqa: F401 (fixtures)

IDENTITY = "pvc://shared-weights/models/tiny"
MANIFEST = ".modelcache-manifest.json"


def snapshot(root) -> dict:
    """Every path under root with its kind, size and modification time: the check must change none."""
    out = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(directory, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    st = os.lstat(root)
    out["."] = (st.st_mode, st.st_mtime_ns)
    return out


class Volume:
    def __init__(self, tmp_path):
        self.env = Env(tmp_path, _NoHub())
        self.env.base.pop("HF_ENDPOINT")
        self.env.base.pop("MODELCACHE_CLAIM_BYTES")  # the function sets none for a volume: nothing is written
        self.env.base.pop("MODELCACHE_EPOCH")
        self.env.base.update(MODELCACHE_SOURCE=IDENTITY, MODELCACHE_COMMIT=IDENTITY)
        self.root = self.env.root

    def run(self, root=None, **overrides):
        root = root or self.root
        before = snapshot(root)
        run = self.env.run(MODELCACHE_ROOT=root, **overrides)
        assert snapshot(root) == before, "the check wrote on the claim"
        return run


@pytest.fixture
def volume(tmp_path):
    (tmp_path / "volume").mkdir()
    return Volume(tmp_path / "volume")


def write_files(root, files: dict[str, bytes]) -> None:
    for path, body in files.items():
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)


def manifest(root, entries) -> None:
    (root / ".modelcache-manifest.json").write_text(json.dumps({"version": 1, "staged": IDENTITY, "files": entries}))


def test_an_empty_volume_is_not_found(volume):
    (volume.root / "empty-dir").mkdir()
    run = volume.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound" and "no files" in run.report["failure"]["message"]


def test_a_manifest_listing_no_files_is_an_empty_claim(volume):
    """An empty manifest verifies nothing: never `Complete`, whatever else the claim holds (exit 10, as empty)."""
    write_files(volume.root, {"config.json": b"{}"})
    manifest(volume.root, [])
    run = volume.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound" and "no files" in run.report["failure"]["message"]
    assert MANIFEST in run.report["failure"]["message"]


def test_files_without_a_manifest_are_complete_with_the_identity_as_commit(volume):
    write_files(volume.root, {"config.json": b"{}", "weights/model.safetensors": b"w" * 1000})
    run = volume.run()
    assert run.code == 0, run.why
    r = run.report
    assert r["phase"] == "Complete" and r["commit"] == IDENTITY and r["source"] == IDENTITY
    assert r["files"] == 2 and r["totalBytes"] == 1002 and r["doneBytes"] == 1002
    assert "warnings" not in r and "failure" not in r
    assert not [p for p in volume.root.iterdir() if p.name.startswith(".modelcache-")]


def test_the_pin_may_be_left_out(volume):
    write_files(volume.root, {"a": b"a"})
    run = volume.run(MODELCACHE_COMMIT=None)
    assert run.code == 0 and run.report["commit"] == IDENTITY


def test_a_hub_revision_on_a_volume_is_verified_by_its_manifest(volume, env, hub):
    files = model_files(4)
    commit = hub.add("org/model").commit(files)
    assert env.run(MODELCACHE_SOURCE="hf://org/model").code == 0
    assert_staged(env.root, "org/model", commit, files)
    run = volume.run(root=env.root / hub_rev_dir("org/model", commit))
    assert run.code == 0, run.why
    assert run.report["files"] == len(files) and run.report["verifiedFiles"] == len(files)
    assert run.report["totalBytes"] == sum(len(v) for v in files.values()) == run.report["doneBytes"]


def test_an_s3_revision_on_a_volume_is_verified_by_its_manifest(volume, tmp_path, s3):
    (tmp_path / "s3").mkdir()
    e = Env(tmp_path / "s3", _NoHub())
    e.base.pop("HF_ENDPOINT")
    e.base.update(aws_env(s3.proxy.url), MODELCACHE_SOURCE=S3_SOURCE)
    files = fill(s3)
    staged = e.run()
    assert staged.code == 0, staged.why
    d = e.root / staged.report["dir"]
    keys = {k for entry in json.loads((d / ".modelcache-manifest.json").read_text())["files"] for k in entry}
    assert {"sha256", "crc32", "md5", "crc32Composite", "parts"} <= keys
    run = volume.run(root=d)
    assert run.code == 0, run.why
    assert run.report["files"] == len(files) and run.report["verifiedFiles"] == len(files) - 1
    assert run.report["warnings"] == ["1 files of the manifest have no hash this check knows; size checked only: mp-plain.bin"]
    # A flipped byte in the composite-checked object is caught too.
    body = bytearray((d / "mp.bin").read_bytes())
    body[len(body) // 2] ^= 0xFF
    (d / "mp.bin").write_bytes(bytes(body))
    run = volume.run(root=d)
    assert run.code == 12 and "mp.bin" in run.report["failure"]["message"]


def entries_for(files: dict[str, bytes]) -> list[dict]:
    return [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in files.items()]


FILES = {"config.json": b'{"a": 1}', "w/model.safetensors": b"\x01" * 5000}


@pytest.mark.parametrize("damage,code,reason", [
    ("flip", 12, "ChecksumMismatch"),
    ("truncate", 12, "ChecksumMismatch"),
    ("remove", 10, "NotFound"),
])
def test_a_file_that_does_not_match_the_manifest_fails(volume, damage, code, reason):
    write_files(volume.root, FILES)
    manifest(volume.root, entries_for(FILES))
    target = volume.root / "w/model.safetensors"
    if damage == "flip":
        target.write_bytes(b"\x01" * 2500 + b"\x02" + b"\x01" * 2499)
    elif damage == "truncate":
        target.write_bytes(b"\x01" * 4999)
    else:
        target.unlink()
    run = volume.run()
    assert run.code == code, run.why
    assert run.report["failure"]["reason"] == reason and "w/model.safetensors" in run.report["failure"]["message"]


def test_git_blob_and_md5_and_crc32_keys_are_verified_and_unknown_keys_warned(volume):
    import zlib

    files = {"a.json": b"{}", "b.bin": b"b" * 100, "c.bin": b"c" * 100, "d.bin": b"d" * 10}
    write_files(volume.root, files)
    manifest(volume.root, [
        {"path": "a.json", "size": 2, "gitSha1": hashlib.sha1(b"blob 2\0{}").hexdigest()},
        {"path": "b.bin", "size": 100, "md5": hashlib.md5(files["b.bin"]).hexdigest()},
        {"path": "c.bin", "size": 100, "crc32": zlib.crc32(files["c.bin"]).to_bytes(4, "big").hex()},
        {"path": "d.bin", "size": 10, "blake3": "00" * 32},
    ])
    run = volume.run()
    assert run.code == 0, run.why
    assert run.report["verifiedFiles"] == 3 and run.report["files"] == 4
    assert run.report["warnings"] == ["1 files of the manifest have no hash this check knows; size checked only: d.bin"]
    manifest(volume.root, [{"path": "b.bin", "size": 100, "md5": "0" * 32}])
    run = volume.run()
    assert run.code == 12 and run.report["failure"]["reason"] == "ChecksumMismatch"


@pytest.mark.parametrize("entries,reason", [
    ([{"path": "../outside", "size": 1, "sha256": "0" * 64}], "UnsafePath"),
    ([{"path": "/etc/passwd", "size": 1, "sha256": "0" * 64}], "UnsafePath"),
    ([{"path": "config.json"}], "NotAnArtifact"),
    ("not a manifest", "NotAnArtifact"),
])
def test_a_hostile_or_broken_manifest_is_refused(volume, entries, reason):
    write_files(volume.root, FILES)
    if isinstance(entries, str):
        (volume.root / ".modelcache-manifest.json").write_text(entries)
    else:
        manifest(volume.root, entries)
    run = volume.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == reason


def test_a_pin_other_than_the_identity_is_bad_input(volume):
    write_files(volume.root, FILES)
    run = volume.run(MODELCACHE_COMMIT="pvc://other")
    assert run.code == 2 and run.report["failure"]["reason"] == "BadInput"


@pytest.mark.parametrize("link", ["absolute-file", "relative-file", "directory"])
def test_a_listed_file_reached_through_a_link_leaving_the_root_is_unsafe(volume, tmp_path, link):
    """What the check reads must be what a workload mounting the claim reads: a link leaving the root resolves to
    another file in each pod (the check's image, the workload's), so a match proves nothing: exit 10 UnsafePath."""
    outside = tmp_path / "outside"
    write_files(outside, FILES)
    write_files(volume.root, {"config.json": FILES["config.json"]})
    if link == "directory":
        os.symlink(outside / "w", volume.root / "w")
    else:
        (volume.root / "w").mkdir()
        target = outside / "w" / "model.safetensors"
        os.symlink(target if link == "absolute-file" else os.path.relpath(target, volume.root / "w"),
                   volume.root / "w" / "model.safetensors")
    manifest(volume.root, entries_for(FILES))
    run = volume.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "UnsafePath" and "w/model.safetensors" in run.report["failure"]["message"]


def test_links_inside_the_root_are_followed(volume):
    """A link that stays under the root (a Hugging Face cache's snapshot pointing into its blobs) is what a workload
    reads too: verified through it."""
    write_files(volume.root, {"config.json": FILES["config.json"], "blobs/abc": FILES["w/model.safetensors"]})
    (volume.root / "w").mkdir()
    os.symlink("../blobs/abc", volume.root / "w" / "model.safetensors")
    manifest(volume.root, entries_for(FILES))
    run = volume.run()
    assert run.code == 0, run.why
    assert run.report["verifiedFiles"] == 2


def test_files_leading_outside_the_root_are_not_counted_without_a_manifest(volume, tmp_path):
    write_files(tmp_path / "outside", {"model.bin": b"m" * 10})
    os.symlink(tmp_path / "outside" / "model.bin", volume.root / "model.bin")
    run = volume.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound"


@pytest.mark.parametrize("kind", ["directory", "fifo", "link-outside"])
def test_a_manifest_that_is_not_a_regular_file_under_the_root_is_refused(volume, tmp_path, kind):
    """Not a transient failure retried by the Job, and never a read that blocks until the Job's deadline (a FIFO)."""
    write_files(volume.root, FILES)
    path = volume.root / ".modelcache-manifest.json"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        manifest(tmp_path, entries_for(FILES))
        os.symlink(tmp_path / ".modelcache-manifest.json", path)
    p = volume.env.start(MODELCACHE_ROOT=volume.root)
    try:
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    run = volume.env.finished(p, out, err)
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == ("UnsafePath" if kind == "link-outside" else "NotAnArtifact")


def test_a_manifest_announcing_countless_parts_is_not_expanded_in_memory():
    """`parts` is run-length ([[size, count]]): a count of 10^12 must not become a tuple of 10^12 sizes (the check
    pod killed for memory, retried by the Job). Checked in a child with 1 GiB of address space."""
    import subprocess
    import sys

    from conftest import PACKAGE_ROOT

    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from modelcache_hydrator.volume import _hasher\n"
        "assert _hasher({'path': 'a', 'size': 1, 'crc32Composite': '00000000-1', 'parts': [[0, 10**12], [1, 1]]}) is None\n"
        "assert _hasher({'path': 'a', 'size': 3, 'crc32Composite': '00000000-3', 'parts': [[1, 3]]}) is not None\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": PACKAGE_ROOT})
    assert out.returncode == 0, out.stderr[-500:]
