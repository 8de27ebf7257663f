"""Small pieces whose rules are easier to state directly: classification, epochs, paths, sizes."""

from __future__ import annotations

import errno
import os

import httpx2
import pytest
from huggingface_hub.utils import hf_raise_for_status

from modelcache_hydrator.failure import classify
from modelcache_hydrator.inputs import parse_epoch
from modelcache_hydrator.files import check_path
from modelcache_hydrator.space import human


def hub_error(status: int, code: str | None = None) -> Exception:
    request = httpx2.Request("GET", "https://hub.example/api/models/org/m/revision/main")
    response = httpx2.Response(status, headers={"X-Error-Code": code} if code else {}, request=request)
    with pytest.raises(Exception) as info:
        hf_raise_for_status(response)
    return info.value


@pytest.mark.parametrize(
    "status,code,exit_code,reason",
    [
        (401, "GatedRepo", 10, "Gated"),
        (403, "GatedRepo", 10, "Gated"),
        (401, "RepoNotFound", 10, "NotFound"),
        (404, "RevisionNotFound", 10, "NotFound"),
        (404, "EntryNotFound", 10, "NotFound"),
        (403, None, 10, "AccessDenied"),
        (500, None, 1, "Transient"),
        (503, None, 1, "Transient"),
        (429, None, 1, "Transient"),
    ],
)
def test_hub_errors_are_classified_by_type_and_status(status, code, exit_code, reason):
    failure = classify(hub_error(status, code), "resolving hf://org/m")
    assert (failure.code, failure.reason) == (exit_code, reason)


def test_a_full_disk_is_exit_11_and_network_errors_are_transient():
    assert classify(OSError(errno.ENOSPC, "No space"), "writing").code == 11
    assert classify(OSError(errno.ENOSPC, "No space"), "writing").reason == "DiskFull"
    assert classify(httpx2.ConnectError("refused"), "x").code == 1


def test_epochs_are_integer_pairs():
    assert parse_epoch("2.10") > parse_epoch("2.9")
    assert parse_epoch("7") == (7, 0) and parse_epoch(None) == (0, 0) and parse_epoch("") == (0, 0)
    with pytest.raises(ValueError):
        parse_epoch("1.2.3")


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", ".modelcache-complete", "a\\b",
                                  "a/" + "n" * 256, "é" * 128, "a/" * 1600 + "b", "bad\udcffname", "x\ud800"])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(Exception) as info:
        check_path(path, "listing")
    assert getattr(info.value, "reason", None) == "UnsafePath"


def test_paths_a_file_system_holds_are_safe():
    from modelcache_hydrator.files import is_safe_path

    assert is_safe_path("n" * 255) and is_safe_path("é" * 127) and is_safe_path("a/" * 1000 + "b")
    assert is_safe_path("weights/model-00001-of-00002.safetensors") and is_safe_path("vocab/日本語.txt")


def test_an_s3_prefix_names_no_file_so_its_segments_may_be_long():
    from modelcache_hydrator.inputs import read_inputs

    prefix = "models/" + "p" * 300
    inputs = read_inputs({"MODELCACHE_SOURCE": f"s3://bkt/{prefix}", "MODELCACHE_CLAIM_BYTES": "1"})
    assert inputs.repo == f"bkt/{prefix}"


@pytest.mark.parametrize("paths", [["a.bin", "a.bin"], ["a", "a/b.bin"]], ids=["twice", "file-and-directory"])
def test_a_hub_listing_that_no_git_tree_could_hold_is_unsafe(paths):
    """A mirror (HF_ENDPOINT) answering one path twice (two hashes, one file on disk: the manifest would not describe
    it) or a file that is another's directory (a file system error at placing, retried as transient)."""
    from types import SimpleNamespace

    from modelcache_hydrator.hub import _files

    siblings = [SimpleNamespace(rfilename=p, size=1, lfs=None, blob_id=f"{i:040x}") for i, p in enumerate(paths)]
    with pytest.raises(Exception) as info:
        _files(siblings, "resolving hf://org/m")
    assert getattr(info.value, "reason", None) == "UnsafePath"


@pytest.mark.parametrize("source", ["oci://host:99999/models/m:v1", "oci://..host/models/m:v1", "oci://-h/models/m:v1",
                                    "oci://a..b:80/models/m:v1", "oci://host:0/models/m:v1", "oci://h-/models/m:v1"])
def test_an_oci_registry_no_socket_can_reach_is_bad_input(source):
    """Not a transient network error retried by the program and the Job: bad input (exit 2)."""
    from modelcache_hydrator.inputs import read_inputs

    with pytest.raises(Exception) as info:
        read_inputs({"MODELCACHE_SOURCE": source, "MODELCACHE_CLAIM_BYTES": "1"})
    assert getattr(info.value, "reason", None) == "BadInput"


def test_oci_registries_as_people_write_them_are_accepted():
    from modelcache_hydrator.inputs import read_inputs

    for source in ("oci://registry.internal/models/m:v1", "oci://127.0.0.1:5000/models/m:v1",
                   "oci://localhost:65535/m@sha256:" + "a" * 64, "oci://my-registry.example.com/org/team/m:v1.0"):
        assert read_inputs({"MODELCACHE_SOURCE": source, "MODELCACHE_CLAIM_BYTES": "1"}).kind == "oci"


def test_two_paths_a_claim_folds_into_one_file_never_get_a_marker(tmp_path):
    """A claim folding case (SMB) makes `Model.bin` and `model.bin` one file; simulated here with a hard link (what
    the fold looks like to stat: one inode, two names): UnsafePath before the manifest and the marker."""
    from types import SimpleNamespace

    from modelcache_hydrator.files import RemoteFile, Resolved
    from modelcache_hydrator.stage import MANIFEST_FILE, MARKER_FILE, _finish_directory

    (tmp_path / "model.bin").write_bytes(b"second")
    os.link(tmp_path / "model.bin", tmp_path / "Model.bin")
    files = (RemoteFile("Model.bin", 5, sha256="a" * 64), RemoteFile("model.bin", 6, sha256="b" * 64))
    source = SimpleNamespace(placed=lambda f, d: [f.manifest_entry()])
    with pytest.raises(Exception) as info:
        _finish_directory(source, str(tmp_path), "hf://o/m@" + "c" * 40, Resolved("c" * 40, files))
    assert getattr(info.value, "reason", None) == "UnsafePath"
    assert not (tmp_path / MARKER_FILE).exists() and not (tmp_path / MANIFEST_FILE).exists()
    os.unlink(tmp_path / "Model.bin")
    (tmp_path / "Model.bin").write_bytes(b"first")
    _finish_directory(source, str(tmp_path), "hf://o/m@" + "c" * 40, Resolved("c" * 40, files))
    assert (tmp_path / MARKER_FILE).exists()


def test_sizes_read_like_the_spec():
    assert human(142 << 30) == "142.0 GiB" and human(900) == "900 B"


def test_version_is_the_functions():
    import os
    import re
    import subprocess
    import sys

    from conftest import PACKAGE_ROOT

    out = subprocess.run([sys.executable, "-m", "modelcache_hydrator", "--version"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": PACKAGE_ROOT})
    assert out.returncode == 0
    swift = os.path.join(PACKAGE_ROOT, "..", "Sources", "FunctionCore", "Settings", "FunctionVersion.swift")
    if not os.path.isdir(os.path.join(PACKAGE_ROOT, "..", "Sources")):
        pytest.skip("not inside the repository")
    assert out.stdout.strip() == re.search(r'current = "([^"]+)"', open(swift).read()).group(1)


def test_the_stall_rule_keeps_the_bytes_read_and_copies_no_whole_chunk(monkeypatch):
    """`paced` gathers network reads into chunks, yields a chunk read whole as it came, and once a window closes
    with too few bytes yields what it gathered (the resume starts after it) before the transient failure."""
    from modelcache_hydrator import stall
    from modelcache_hydrator.stall import Stall, paced
    from modelcache_hydrator.failure import HydrationFailure
    from modelcache_hydrator.inputs import Durations

    clock = [0.0]
    monkeypatch.setattr(stall.time, "monotonic", lambda: clock[0])
    whole = b"w" * 8
    reads = [whole, b"ab", b"c", b"d"]

    def read1(n: int) -> bytes:
        clock[0] += 0.5  # each read takes half a second
        return reads.pop(0) if reads else b""

    chunks = paced(read1, Stall(Durations(stall_seconds=1.0, stall_bytes=10)), size=8)
    assert next(chunks) is whole
    with pytest.raises(HydrationFailure) as info:
        assert next(chunks) == b"abcd"  # 10 bytes in the first second, then 2 in the next: stalled
        next(chunks)
    assert info.value.transient and "stalled" in info.value.message
