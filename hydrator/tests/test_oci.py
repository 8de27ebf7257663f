"""The OCI source against a real registry (sources.md §1, §3): Debian's `docker-registry` (distribution 2.8)
started by the tests on 127.0.0.1, artifacts pushed with the `oras` PyPI client as image-spec v1.0 manifests,
the hydrator reaching it through the byte-flipping reverse proxy (tests/flipproxy.py) that counts, holds or
corrupts blob bytes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time
from types import SimpleNamespace

import pytest

from conftest import Env
from flipproxy import FlipProxy
from helpers import MiB, data
from ociregistry import (
    FILEPATH,
    ORAS_DIR,
    ORAS_FILE,
    TITLE,
    UNPACK,
    WEIGHT,
    Layer,
    Registry,
    file_layer,
    tar_bytes,
)

FILE_METADATA = "org.cncf.model.file.metadata+json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    r = Registry(tmp_path_factory.mktemp("registry"))
    yield r
    r.close()


class Tap:
    """The flip proxy in front of a registry, as the tests use it: by blob digest."""

    def __init__(self, registry: Registry):
        self.proxy = FlipProxy(f"http://{registry.host}")
        self.host = f"127.0.0.1:{self.proxy.port}"

    @staticmethod
    def _blob(digest: str):
        return lambda method, target: method == "GET" and target.endswith("/blobs/" + digest)

    def served(self, digest: str | None = None) -> int:
        """Body bytes of one blob (every blob without a digest) sent to the hydrator."""
        return self.proxy.bytes_sent(self._blob(digest) if digest else lambda m, t: m == "GET" and "/blobs/" in t)

    def ranges(self, digest: str) -> list:
        return [r["range"] for r in self.proxy.requests if self._blob(digest)(r["method"], r["target"])]

    def flip(self, digest: str, times: int) -> None:
        self.proxy.flip(self._blob(digest), times=times, at=1000)

    def pause(self, digest: str, after: int):
        return self.proxy.pause(self._blob(digest), after)[0]

    def clear(self) -> None:
        self.proxy.clear()

    def close(self) -> None:
        self.proxy.close()


@pytest.fixture
def tap(registry):
    t = Tap(registry)
    yield t
    t.close()


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path, SimpleNamespace(endpoint="http://127.0.0.1:9"))
    (tmp_path / "docker").mkdir()
    e.base.update({"MODELCACHE_OCI_PLAIN_HTTP": "1", "DOCKER_CONFIG": str(tmp_path / "docker")})
    return e


@pytest.fixture
def repo(request):
    """A repository name of this test's own (one registry serves the module)."""
    name = request.node.name.lower().replace("[", "-").replace("]", "")
    return "models/" + "".join(c if c.isalnum() else "-" for c in name).strip("-")[:100]


def staged_dir(host: str, repository: str, digest: str) -> str:
    return "rev-" + hashlib.sha256(f"oci://{host}/{repository}@{digest}".encode()).hexdigest()[:12]


def tree(path) -> dict[str, bytes]:
    """The regular files under `path` (relative path -> bytes), our own `.modelcache-*` files left out."""
    out = {}
    for root, _dirs, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, path)
            if not rel.split(os.sep)[0].startswith(".modelcache-"):
                out[rel] = open(full, "rb").read()
    return out


def model_layers(seed: int = 1) -> tuple[list[Layer], dict[str, bytes]]:
    files = {
        "config.json": json.dumps({"seed": seed}).encode(),
        "model.safetensors": data(seed, 3 * MiB),
        "tokenizer/vocab.txt": b"token\n" * 100,
    }
    return [file_layer(p, d) for p, d in files.items()], files


# -- resolution, identity, verification --------------------------------------------------------------------------


def test_a_tag_resolves_to_the_manifest_digest_and_every_layer_is_verified(env, registry, tap, repo):
    layers, files = model_layers()
    digest = registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 0, run.why
    name = staged_dir(tap.host, repo, digest)
    d = env.rev(name)
    assert (d / ".modelcache-complete").read_text() == f"oci://{tap.host}/{repo}@{digest}"
    assert tree(d) == files
    manifest = json.loads((d / ".modelcache-manifest.json").read_text())
    assert manifest["commit"] == digest and manifest["staged"] == f"oci://{tap.host}/{repo}@{digest}"
    assert sorted(manifest["files"], key=lambda f: f["path"]) == [
        {"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in sorted(files.items())
    ]
    r = run.report
    assert r["phase"] == "Complete" and r["commit"] == digest and r["dir"] == name
    assert r["source"] == f"oci://{tap.host}/{repo}:v1"
    assert r["files"] == r["filesDone"] == r["verifiedFiles"] == 3
    assert r["totalBytes"] == r["doneBytes"] == sum(len(b) for b in files.values())
    # Every blob was fetched once, whole, by its digest (the probe is one byte).
    smallest = min(layers, key=lambda layer: len(layer.data))
    for layer in layers:
        assert tap.served(layer.digest) == len(layer.data) + (layer is smallest)
    # A rerun finds it staged: Complete, nothing fetched but the probe.
    tap.clear()
    again = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert again.code == 0, again.why
    assert again.report["files"] == 3 and again.report["doneBytes"] == again.report["totalBytes"]
    assert tap.served() == 1


def test_a_reference_by_digest_pins_itself_and_shares_the_directory(env, registry, tap, repo):
    layers, files = model_layers(2)
    digest = registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}@{digest}", MODELCACHE_COMMIT=digest)
    assert run.code == 0, run.why
    assert run.report["commit"] == digest and run.report["dir"] == staged_dir(tap.host, repo, digest)
    assert tree(env.rev(run.report["dir"])) == files
    by_tag = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert by_tag.code == 0 and by_tag.report["dir"] == run.report["dir"]


def test_a_pin_wins_over_a_tag_that_moved_and_a_pin_gone_is_source_changed(env, registry, tap, repo):
    """hydrator.md §1-§2: with MODELCACHE_COMMIT exactly the pin is staged, as a pinned hub commit is when its branch
    moved: a cluster added after the tag moved (or a retry) stages the pinned manifest, fetched by its digest. Only a
    pinned manifest the registry no longer has is SourceChanged."""
    first_layers, first_files = model_layers(3)
    first = registry.push(repo, "v1", first_layers)
    pinned = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_COMMIT=first)
    assert pinned.code == 0 and pinned.report["commit"] == first, pinned.why
    registry.push(repo, "v1", model_layers(4)[0])  # the tag moves
    for d in env.root.iterdir():  # another cluster's claim: nothing staged yet
        __import__("shutil").rmtree(d)
    tap.clear()
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_COMMIT=first)
    assert run.code == 0, run.why
    assert run.report["commit"] == first and run.report["dir"] == pinned.report["dir"]
    assert tree(env.rev(run.report["dir"])) == first_files
    assert [r["target"] for r in tap.proxy.requests if "/manifests/" in r["target"]] == [f"/v2/{repo}/manifests/{first}"]
    gone = "sha256:" + "0" * 64
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_COMMIT=gone)
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "SourceChanged"
    assert gone in run.report["failure"]["message"] and "modelplane.ai/refresh-revision" in run.report["failure"]["message"]
    assert [p.name for p in env.root.iterdir()] == [pinned.report["dir"]]  # nothing else written


@pytest.mark.parametrize("what", ["tag", "repository", "digest"])
def test_a_missing_tag_repository_or_digest_is_not_found(env, registry, tap, repo, what):
    registry.push(repo, "v1", model_layers(5)[0])
    ref = {
        "tag": f"{repo}:v2",
        "repository": f"{repo}-nope:v1",
        "digest": f"{repo}@sha256:" + "0" * 64,
    }[what]
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{ref}")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound"
    assert "HTTP 404" in run.report["failure"]["message"]


def test_a_manifest_over_4_mib_is_refused(env, registry, tap, repo):
    """The distribution spec's manifest limit (4 MiB), as registries apply it (this one refuses to store a larger
    manifest, so the proxy answers with it): the hydrator reads at most 4 MiB of it and refuses it before any blob."""
    registry.push(repo, "v1", model_layers(5)[0])
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [],
                           "annotations": {"padding": "x" * (5 * MiB)}}).encode()
    tap.proxy.answer(lambda m, t: m == "GET" and t == f"/v2/{repo}/manifests/v1", 200, manifest,
                     {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotAnArtifact" and "over 4 MiB" in run.report["failure"]["message"]
    assert tap.served() == 0 and not list(env.root.iterdir())


def test_an_image_index_is_not_an_artifact(env, registry, tap, repo):
    digest = registry.push(repo, "amd64", model_layers(6)[0])
    registry.push_index(repo, "multi", [digest])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:multi")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotAnArtifact"
    assert "image index" in run.report["failure"]["message"]


def test_an_artifact_without_file_layers_is_not_found(env, registry, tap, repo):
    """A manifest of no layers would stage an empty revision; as an empty S3 listing and a hub commit listing no
    files, it is refused (exit 10 NotFound) before any blob is read."""
    digest = registry.push(repo, "empty", [])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:empty")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound"
    assert f"the artifact {digest} has no file layers" in run.report["failure"]["message"]
    assert tap.served() == 0 and not list(env.root.iterdir())


def test_a_layer_without_a_file_name_is_not_an_artifact(env, registry, tap, repo):
    registry.push(repo, "v1", [Layer(b"an image layer", "application/vnd.oci.image.layer.v1.tar+gzip")])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10 and run.report["failure"]["reason"] == "NotAnArtifact", run.why


@pytest.mark.parametrize("name", ["../escape.bin", "/etc/escape.bin", "a//b", ".modelcache-complete"])
def test_an_unsafe_layer_name_is_refused_before_any_byte(env, registry, tap, repo, name):
    registry.push(repo, "v1", [file_layer("ok.bin", b"ok"), file_layer(name, b"x" * 100)])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10 and run.report["failure"]["reason"] == "UnsafePath", run.why
    assert tap.served() == 0 and not list(env.root.iterdir())


def test_two_layers_with_one_name_are_refused(env, registry, tap, repo):
    registry.push(repo, "v1", [file_layer("a.bin", b"one"), file_layer("a.bin", b"two")])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10 and run.report["failure"]["reason"] == "UnsafePath", run.why


@pytest.mark.parametrize("times,code", [(1, 0), (2, 12)])
def test_a_tampered_blob_is_fetched_again_once_then_fails_with_exit_12(env, registry, tap, repo, times, code):
    layers, files = model_layers(7)
    digest = registry.push(repo, "v1", layers)
    big = layers[1]
    tap.flip(big.digest, times)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == code, run.why
    if code == 0:
        assert tree(env.rev(staged_dir(tap.host, repo, digest))) == files
        assert any("did not match its SHA-256 once" in w for w in run.report["warnings"])
    else:
        assert run.report["failure"]["reason"] == "ChecksumMismatch"
        assert big.digest.split(":")[1] in run.report["failure"]["message"]
        d = env.rev(staged_dir(tap.host, repo, digest))
        assert not (d / ".modelcache-complete").exists() and not (d / "model.safetensors").exists()


def test_https_with_the_platforms_ca_bundle(env, tls, tmp_path_factory, repo):
    cert = tls[0]
    r = Registry(tmp_path_factory.mktemp("tls-registry"), tls=(cert, os.path.join(os.path.dirname(cert), "tls.key")))
    try:
        layers, files = model_layers(20)
        digest = r.push(repo, "v1", layers)
        source = f"oci://{r.host}/{repo}:v1"
        untrusted = env.run(MODELCACHE_SOURCE=source, MODELCACHE_OCI_PLAIN_HTTP=None)
        assert untrusted.code == 1 and untrusted.report["failure"]["reason"] == "Transient", untrusted.why
        run = env.run(MODELCACHE_SOURCE=source, MODELCACHE_OCI_PLAIN_HTTP=None, MODELCACHE_CA_BUNDLE=cert)
        assert run.code == 0, run.why
        assert tree(env.rev(staged_dir(r.host, repo, digest))) == files
    finally:
        r.close()


def test_plain_http_is_used_only_when_allowed(env, registry, tap, repo):
    registry.push(repo, "v1", model_layers(8)[0])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_OCI_PLAIN_HTTP=None)
    assert run.code == 1 and run.report["failure"]["reason"] == "Transient", run.why  # TLS to a plain-HTTP port
    bad = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_OCI_PLAIN_HTTP="yes")
    assert bad.code == 2 and "MODELCACHE_OCI_PLAIN_HTTP" in bad.report["failure"]["message"]


# -- archives ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["", "gzip", "zstd"])
def test_modelpack_weight_layers_are_extracted_at_the_revision_root(env, registry, tap, repo, compression):
    weights = {"model-00001.safetensors": data(11, MiB), "model-00002.safetensors": data(12, 2 * MiB)}
    media_type = WEIGHT + ".tar" + (f"+{compression}" if compression else "")
    layers = [
        Layer(tar_bytes({p: d}, compression), media_type, {FILEPATH: p}) for p, d in weights.items()
    ] + [
        Layer(tar_bytes({"config.json": b"{}"}), "application/vnd.cncf.model.weight.config.v1.tar", {FILEPATH: "config.json"}),
        # A plain ORAS file layer is a file, even when its bytes are a tar: never extracted.
        file_layer("archive.tar", tar_bytes({"inner.txt": b"stays inside"})),
    ]
    digest = registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 0, run.why
    d = env.rev(staged_dir(tap.host, repo, digest))
    want = {**weights, "config.json": b"{}", "archive.tar": layers[-1].data}
    assert tree(d) == want
    # The report counts files after extraction; the manifest lists them with their SHA-256.
    assert run.report["files"] == run.report["filesDone"] == 4
    assert run.report["totalBytes"] == sum(len(layer.data) for layer in layers)
    manifest = json.loads((d / ".modelcache-manifest.json").read_text())
    assert sorted(manifest["files"], key=lambda f: f["path"]) == [
        {"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in sorted(want.items())
    ]
    assert not (d / ".modelcache-partial").exists()
    again = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert again.code == 0 and again.report["files"] == 4, again.why


def test_an_oras_directory_layer_marked_unpack_is_extracted(env, registry, tap, repo):
    content = {"tokenizer/vocab.txt": b"a\nb\n", "tokenizer/merges.txt": b"ab\n", "tokenizer/nested/x.json": b"{}"}
    extra = lambda tar: tar.addfile(_dir("tokenizer/empty"))  # noqa: E731
    layers = [
        Layer(tar_bytes(content, "gzip", extra), ORAS_DIR, {TITLE: "tokenizer", UNPACK: "true"}),
        file_layer("model.safetensors", data(13, MiB)),
    ]
    digest = registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 0, run.why
    d = env.rev(staged_dir(tap.host, repo, digest))
    assert tree(d) == {**content, "model.safetensors": layers[1].data}
    assert (d / "tokenizer" / "empty").is_dir()
    assert run.report["files"] == 4


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


def _member(name: str, kind: str, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _hostile(kind: str, outside: str):
    """Adds one hostile member to a tar (after a harmless one, so a partial extraction would have begun)."""

    def add(tar: tarfile.TarFile) -> None:
        if kind in ("dotdot", "absolute", "dotdot-nested"):
            name = {"dotdot": "../escaped.bin", "absolute": outside, "dotdot-nested": "weights/../../escaped.bin"}[kind]
            info = tarfile.TarInfo(name)
            info.size = 5
            tar.addfile(info, io.BytesIO(b"owned"))
        elif kind == "symlink":
            tar.addfile(_member("weights/link", tarfile.SYMTYPE, outside))
        elif kind == "hardlink":
            tar.addfile(_member("weights/hard", tarfile.LNKTYPE, "weights/first.bin"))
        elif kind == "device":
            tar.addfile(_member("weights/null", tarfile.CHRTYPE))
        elif kind == "fifo":
            tar.addfile(_member("weights/pipe", tarfile.FIFOTYPE))
        elif kind == "duplicate":
            info = tarfile.TarInfo("weights/first.bin")
            info.size = 5
            tar.addfile(info, io.BytesIO(b"again"))
        elif kind == "long-name":  # a pax path no file system holds (a segment over 255 bytes)
            info = tarfile.TarInfo("weights/" + "n" * 300 + ".bin")
            info.size = 5
            tar.addfile(info, io.BytesIO(b"owned"))
        elif kind == "huge-pax-header":  # tarfile would read it whole into memory (a hostile one: gigabytes)
            info = tarfile.TarInfo("weights/second.bin")
            info.size = 5
            info.pax_headers = {"comment": "x" * (2 << 20)}
            tar.addfile(info, io.BytesIO(b"owned"))
        elif kind == "collides-with-a-layer":
            info = tarfile.TarInfo("config.json")
            info.size = 5
            tar.addfile(info, io.BytesIO(b"owned"))

    return add


@pytest.mark.parametrize("compression", ["", "gzip"])
@pytest.mark.parametrize(
    "kind", ["dotdot", "dotdot-nested", "absolute", "symlink", "hardlink", "device", "fifo", "duplicate", "collides-with-a-layer",
             "long-name", "huge-pax-header"]
)
def test_a_hostile_archive_is_refused_and_leaves_nothing_behind(env, registry, tap, repo, tmp_path, kind, compression):
    outside = str(tmp_path / "outside" / "escaped.bin")  # an absolute path the test owns (never /etc as root)
    os.makedirs(os.path.dirname(outside))
    archive = tar_bytes({"weights/first.bin": data(14, 64 * 1024)}, compression, _hostile(kind, outside))
    media_type = WEIGHT + ".tar" + (f"+{compression}" if compression else "")
    layers = [Layer(archive, media_type, {FILEPATH: "weights"}), file_layer("config.json", b"{}")]
    digest = registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "UnsafePath", run.report["failure"]
    d = env.rev(staged_dir(tap.host, repo, digest))
    # Nothing outside the revision directory; inside it, nothing of the archive, no link, no partial extraction.
    assert not os.path.lexists(outside) and not (env.root / "escaped.bin").exists()
    assert sorted(p.name for p in env.root.iterdir()) == [d.name]
    assert not [p for p in env.root.rglob("*") if p.is_symlink()]
    assert "weights/first.bin" not in tree(d) and not (d / "weights").exists()
    assert not (d / ".modelcache-partial" / ".modelcache-unpack").exists() or not any(
        (d / ".modelcache-partial" / ".modelcache-unpack").iterdir()
    )
    assert not (d / ".modelcache-complete").exists()


def test_archives_holding_more_files_than_the_limit_are_refused_and_leave_nothing(env, registry, tap, repo):
    """100,000 entries in an archive and one plain layer: 100,001 files in the source, over the limit."""
    archive = tar_bytes({f"w/{i:06d}": b"" for i in range(100_000)}, "gzip")
    registry.push(repo, "v1", [file_layer("readme.txt", b"hi"), Layer(archive, WEIGHT + ".tar+gzip", {FILEPATH: "w"})])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotAnArtifact"
    assert "more than 100,000 files, the hydrator's limit for one source" in run.report["failure"]["message"]
    assert not [p for p in env.root.rglob("*") if p.is_file() and p.name != "readme.txt" and ".modelcache-" not in str(p)]


def test_a_verified_layer_that_is_not_an_archive_is_not_an_artifact(env, registry, tap, repo):
    layers = [Layer(b"this is not a tar stream" * 100, WEIGHT + ".tar+gzip", {FILEPATH: "model.safetensors"})]
    registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10 and run.report["failure"]["reason"] == "NotAnArtifact", run.why


# -- resume, space -----------------------------------------------------------------------------------------------


def _wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_when(env, source: str, condition, what: str) -> None:
    p = env.start(MODELCACHE_SOURCE=source)
    try:
        _wait_for(condition, what=what)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGKILL


# The stall rule shortened: under 64 KiB a second (1 MiB a minute in a Job) is a stall.
STALL = {"MODELCACHE_TEST_STALL_SECONDS": "1", "MODELCACHE_TEST_STALL_BYTES": str(64 << 10)}


def test_a_blob_trickling_in_is_stalled_and_resumed_from_the_byte_reached(env, registry, tap, repo):
    """A registry sending a byte every 0.2 s, each well within the read timeout, would hold the Job until its deadline:
    the stall rule aborts the read (transient) and the retry loop resumes with a Range from the byte reached."""
    big = file_layer("model.safetensors", data(16, 3 * MiB))
    registry.push(repo, "v1", [big, file_layer("config.json", b"{}")])
    tap.proxy.trickle(tap._blob(big.digest), after=10_000, every=0.2)
    run = env.run(timeout=60, MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", **STALL)
    assert run.code == 0, run.why
    assert "the download stalled" in run.stderr
    first, again = tap.ranges(big.digest)
    assert first is None and again.startswith("bytes=") and int(again[6:-1]) >= 10_000, again
    assert tree(env.rev(run.report["dir"]))["model.safetensors"] == big.data


def test_a_blob_that_keeps_trickling_is_transient_after_its_retries(env, registry, tap, repo):
    """Each attempt moves a few KiB, under the stall rule's amount: never a fresh retry budget, so the run ends (exit 1,
    the Job's next pod tries again) instead of trickling on."""
    big = file_layer("model.safetensors", data(17, 3 * MiB))
    registry.push(repo, "v1", [big, file_layer("config.json", b"{}")])
    tap.proxy.trickle(tap._blob(big.digest), after=10_000, every=0.2, times=100)
    run = env.run(timeout=60, MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", **STALL)
    assert run.code == 1, run.why
    assert run.report["failure"]["reason"] == "Transient" and "stalled" in run.report["failure"]["message"]
    assert len(tap.ranges(big.digest)) == 5, "the retry budget (5 attempts), never renewed by a trickle"


def test_sigkill_mid_blob_then_rerun_resumes_with_a_range(env, registry, tap, repo):
    big = file_layer("model.safetensors", data(15, 24 * MiB))
    layers = [big, file_layer("config.json", b'{"a": 1}')]
    digest = registry.push(repo, "v1", layers)
    half = 12 * MiB
    release = tap.pause(big.digest, half)
    d = env.rev(staged_dir(tap.host, repo, digest))
    partial = d / ".modelcache-partial" / "model.safetensors"
    source = f"oci://{tap.host}/{repo}:v1"
    try:
        _kill_when(env, source, lambda: partial.exists() and partial.stat().st_size == half, "half of the blob on disk")
    finally:
        release.set()
    first = tap.served(big.digest)
    tap.clear()
    run = env.run(MODELCACHE_SOURCE=source, MODELCACHE_POD="hydrate-2", MODELCACHE_TEST_LEASE_STALE_SECONDS="1")
    assert run.code == 0, run.why
    assert tree(d) == {"model.safetensors": big.data, "config.json": b'{"a": 1}'}
    refetched = first + tap.served(big.digest) - len(big.data)
    assert refetched <= 0.10 * len(big.data), f"re-fetched {refetched} of {len(big.data)} bytes"
    assert tap.ranges(big.digest) == [f"bytes={half}-"]


def test_an_extracted_archive_is_not_fetched_again_after_a_kill(env, registry, tap, repo):
    weights = {"a.safetensors": data(16, 2 * MiB)}
    archive = Layer(tar_bytes(weights), WEIGHT + ".tar", {FILEPATH: "a.safetensors"})
    late = file_layer("z.bin", data(17, 8 * MiB))
    digest = registry.push(repo, "v1", [archive, late])
    release = tap.pause(late.digest, 4 * MiB)
    d = env.rev(staged_dir(tap.host, repo, digest))
    source = f"oci://{tap.host}/{repo}:v1"
    try:
        _kill_when(env, source, lambda: tap.served(late.digest) >= 4 * MiB and (d / "a.safetensors").exists(), "z.bin half")
    finally:
        release.set()
    tap.clear()
    run = env.run(MODELCACHE_SOURCE=source, MODELCACHE_POD="hydrate-2", MODELCACHE_TEST_LEASE_STALE_SECONDS="1")
    assert run.code == 0, run.why
    assert tree(d) == {**weights, "z.bin": late.data}
    assert tap.served(archive.digest) <= 1  # the access probe at most
    assert run.report["files"] == 2


def test_not_enough_space_counts_the_unpacked_size_before_any_byte(env, registry, tap, repo):
    zeros = bytes(8 * MiB)  # gzip makes it a few KiB
    meta = json.dumps({"name": "model.safetensors", "mode": 420, "size": len(zeros), "typeflag": 48})
    layer = Layer(tar_bytes({"model.safetensors": zeros}, "gzip"), WEIGHT + ".tar+gzip", {FILEPATH: "model.safetensors", FILE_METADATA: meta})
    assert len(layer.data) < 64 * 1024
    digest = registry.push(repo, "v1", [layer])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_CLAIM_BYTES=str(4 * MiB))
    assert run.code == 11, run.why
    assert run.report["failure"]["reason"] == "DoesNotFit"
    assert "needs 8.0 MiB" in run.report["failure"]["message"]
    assert tap.served(layer.digest) <= 1  # the access probe only
    assert not (env.rev(staged_dir(tap.host, repo, digest)) / ".modelcache-partial").exists()


def test_not_enough_space_for_an_archive_without_sizes_is_found_from_its_headers(env, registry, tap, repo):
    zeros = bytes(8 * MiB)
    layer = Layer(tar_bytes({"tokenizer/big.bin": zeros}, "gzip"), ORAS_DIR, {TITLE: "tokenizer", UNPACK: "true"})
    digest = registry.push(repo, "v1", [layer])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_CLAIM_BYTES=str(4 * MiB))
    assert run.code == 11, run.why
    assert run.report["failure"]["reason"] == "DoesNotFit"
    assert "tokenizer unpacks to 8.0 MiB" in run.report["failure"]["message"]
    d = env.rev(staged_dir(tap.host, repo, digest))
    assert tree(d) == {}  # nothing extracted


# -- credentials -------------------------------------------------------------------------------------------------

USER, PASSWORD = "puller", "s3cret-PASSWORD-value-0123456789"


@pytest.fixture(scope="module")
def private_registry(tmp_path_factory):
    work = tmp_path_factory.mktemp("private-registry")
    htpasswd = str(work / "htpasswd")
    # The password goes to htpasswd on stdin (-i), never in an argv.
    subprocess.run(["htpasswd", "-iBc", htpasswd, USER], input=PASSWORD.encode(), check=True, capture_output=True)
    r = Registry(work, htpasswd=htpasswd)
    r.user = (USER, PASSWORD)
    yield r
    r.close()


def _docker_config(env, host: str, user: str, password: str, form: str) -> None:
    entry = (
        {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        if form == "auth"
        else {"username": user, "password": password}
    )
    key = {"auth": host, "url": f"https://{host}/v1/"}.get(form, host)
    config = {"auths": {key: entry}, "credsStore": "spy", "credHelpers": {host: "spy"}}
    (env.tmp / "docker" / "config.json").write_text(json.dumps(config))


def _helper_spy(env) -> str:
    """A `docker-credential-spy` on PATH that leaves a mark if anything runs it (a pod has no helpers)."""
    bin_dir = env.tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    mark = env.tmp / "helper-ran"
    helper = bin_dir / "docker-credential-spy"
    helper.write_text(f"#!/bin/sh\ntouch {mark}\necho '{{\"Username\": \"spy\", \"Secret\": \"spy\"}}'\n")
    helper.chmod(0o755)
    env.base["PATH"] = f"{bin_dir}:{env.base['PATH']}"
    return str(mark)


@pytest.mark.parametrize("form", ["auth", "url", "username"])
def test_basic_auth_from_a_docker_config_and_the_password_appears_nowhere(env, private_registry, repo, form):
    layers, files = model_layers(18)
    digest = private_registry.push(repo, "v1", layers)
    tap = Tap(private_registry)
    try:
        source = f"oci://{tap.host}/{repo}:v1"
        mark = _helper_spy(env)
        denied = env.run(MODELCACHE_SOURCE=source)
        assert denied.code == 10 and denied.report["failure"]["reason"] == "AccessDenied", denied.why
        _docker_config(env, tap.host, USER, "wrong-password", form)
        wrong = env.run(MODELCACHE_SOURCE=source)
        assert wrong.code == 10 and wrong.report["failure"]["reason"] == "AccessDenied", wrong.why
        _docker_config(env, tap.host, USER, PASSWORD, form)
        release = tap.pause(layers[1].digest, MiB)
        p = env.start(MODELCACHE_SOURCE=source)
        try:
            _wait_for(lambda: tap.served(layers[1].digest) >= MiB, what="a MiB of the model")
            cmdline = open(f"/proc/{p.pid}/cmdline", "rb").read()
            environ_args = " ".join(p.args)
        finally:
            release.set()
        out, err = p.communicate(timeout=60)
        run = env.finished(p, out, err)
        assert run.code == 0, run.why
        assert tree(env.rev(staged_dir(tap.host, repo, digest))) == files
        secret = PASSWORD.encode()
        encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode())
        for where in (cmdline, environ_args.encode(), run.stdout.encode(), run.stderr.encode(), run.report_raw):
            assert secret not in where and encoded not in where
        for r in (denied, wrong):
            assert secret not in r.report_raw and secret not in r.stderr.encode()
        assert not [f for f in env.root.rglob("*") if f.is_file() and (secret in f.read_bytes() or encoded in f.read_bytes())]
        assert not os.path.exists(mark)  # no credential helper ever ran
    finally:
        tap.close()


class TokenRegistry:
    """A registry stand-in for the bearer-token handshake (distribution's token auth needs a token service):
    `401` with a `Bearer` challenge, a token realm that wants Basic credentials, and blobs redirected to a
    second host (a CDN) that must never see the token. `token_status` makes the realm fail with a status."""

    TOKEN = "registry-TOKEN-abcdef0123456789"

    def __init__(self, layers: list[Layer]):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        import threading

        self.layers = {layer.digest: layer for layer in layers}
        self.token_status = 200
        self.cdn_challenge = False
        self.token_padding = 0
        self.requests: list[tuple[str, str, str | None]] = []
        config = Layer(b"{}")
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.unknown.config.v1+json", "digest": config.digest, "size": 2},
            "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": len(layer.data),
                        "annotations": layer.annotations} for layer in layers],
        }).encode()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                host = "cdn" if self.server is stub.cdn else "registry"
                auth = self.headers.get("Authorization")
                stub.requests.append((host, self.path, auth))
                if host == "cdn":
                    if stub.cdn_challenge and not self.path.startswith("/cdn-token"):
                        # A blob host asking for credentials at a realm of its own choosing.
                        realm = f"http://127.0.0.1:{stub.cdn.server_address[1]}/cdn-token"
                        return self.reply(401, b"{}", headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="cdn"'})
                    if self.path.startswith("/cdn-token"):
                        return self.reply(200, json.dumps({"token": "cdn-token"}).encode())
                    digest = self.path.rsplit("/", 1)[-1]
                    return self.reply(200, stub.layers[digest].data, "application/octet-stream")
                if self.path.startswith("/token"):
                    if stub.token_status != 200:
                        return self.reply(stub.token_status, b"{}")
                    want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                    if auth != want or "scope=repository%3Amodels%2Ftiny%3Apull" not in self.path:
                        return self.reply(401, b"{}")
                    return self.reply(200, json.dumps({"token": stub.TOKEN}).encode() + b" " * stub.token_padding)
                if auth != f"Bearer {stub.TOKEN}":
                    realm = f"http://127.0.0.1:{stub.server.server_address[1]}/token"
                    challenge = f'Bearer realm="{realm}",service="stub",scope="repository:models/tiny:pull"'
                    return self.reply(401, b"{}", headers={"WWW-Authenticate": challenge})
                if self.path == "/v2/models/tiny/manifests/v1":
                    return self.reply(200, stub.manifest, "application/vnd.oci.image.manifest.v1+json")
                if self.path.startswith("/v2/models/tiny/blobs/"):
                    cdn = f"http://127.0.0.1:{stub.cdn.server_address[1]}/blob/{self.path.rsplit('/', 1)[-1]}"
                    return self.reply(307, b"", headers={"Location": cdn})
                return self.reply(404, b"{}")

            def reply(self, status, body, content_type="application/json", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.cdn = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        for s in (self.server, self.cdn):
            threading.Thread(target=s.serve_forever, daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()

    def close(self):
        for s in (self.server, self.cdn):
            s.shutdown()
            s.server_close()


def test_a_bearer_token_from_the_realm_is_used_and_never_reaches_the_blob_host(env):
    layers, files = model_layers(19)
    stub = TokenRegistry(layers)
    try:
        source = f"oci://{stub.host}/models/tiny:v1"
        denied = env.run(MODELCACHE_SOURCE=source)  # no credentials: the realm refuses (401)
        assert denied.code == 10 and denied.report["failure"]["reason"] == "AccessDenied", denied.why
        _docker_config(env, stub.host, USER, PASSWORD, "auth")
        stub.token_status = 503
        unavailable = env.run(MODELCACHE_SOURCE=source)  # a failing token service is transient, not a denial
        assert unavailable.code == 1 and unavailable.report["failure"]["reason"] == "Transient", unavailable.why
        stub.token_status = 200
        stub.requests.clear()
        run = env.run(MODELCACHE_SOURCE=source)
        assert run.code == 0, run.why
        assert run.report["commit"] == stub.digest
        assert tree(env.rev(staged_dir(stub.host, "models/tiny", stub.digest))) == files
        assert [r for r in stub.requests if r[0] == "cdn"] and all(r[2] is None for r in stub.requests if r[0] == "cdn")
        token_requests = [r for r in stub.requests if r[1].startswith("/token")]
        assert len(token_requests) == 1  # the token is kept for every later request
        for r in (denied, unavailable, run):
            for secret in (PASSWORD, stub.TOKEN):
                assert secret not in r.stderr and secret.encode() not in r.report_raw
    finally:
        stub.close()


def test_a_blob_host_asking_for_credentials_never_gets_the_registrys(env):
    """A redirect leads to another host (a CDN): a 401 there is that host's, never answered with the registry's
    credentials at a realm it names (they would reach whoever the redirect leads to): exit 10 AccessDenied."""
    layers, _files = model_layers(20)
    stub = TokenRegistry(layers)
    stub.cdn_challenge = True
    try:
        _docker_config(env, stub.host, USER, PASSWORD, "auth")
        run = env.run(MODELCACHE_SOURCE=f"oci://{stub.host}/models/tiny:v1")
        assert run.code == 10 and run.report["failure"]["reason"] == "AccessDenied", run.why
        cdn = [r for r in stub.requests if r[0] == "cdn"]
        assert cdn and all(r[2] is None for r in cdn), cdn  # neither the password nor the registry's token
        assert not [r for r in cdn if r[1].startswith("/cdn-token")]
    finally:
        stub.close()


def test_a_token_answer_of_any_size_is_never_read_into_memory(env):
    """A token service answering more than 1 MiB (whitespace: still valid JSON) is refused: exit 10 AccessDenied."""
    stub = TokenRegistry(model_layers(21)[0])
    stub.token_padding = 2 << 20
    try:
        _docker_config(env, stub.host, USER, PASSWORD, "auth")
        run = env.run(MODELCACHE_SOURCE=f"oci://{stub.host}/models/tiny:v1")
        assert run.code == 10 and run.report["failure"]["reason"] == "AccessDenied", run.why
    finally:
        stub.close()


def test_a_manifest_trickling_in_is_transient_at_its_deadline(monkeypatch):
    """A registry sending a byte at a time, each within the read timeout, must not hold the Job until its deadline:
    the manifest has MANIFEST_SECONDS to arrive (shortened here), then a transient failure."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from modelcache_hydrator import oci
    from modelcache_hydrator.failure import HydrationFailure

    stop = threading.Event()

    class Trickle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", oci.OCI_MANIFEST)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            while not stop.is_set():
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(oci, "MANIFEST_SECONDS", 1.0)
    try:
        client = oci.RegistryClient(f"127.0.0.1:{server.server_address[1]}", "models/tiny", plain_http=True)
        started = time.monotonic()
        with pytest.raises(HydrationFailure) as info:
            client.manifest("v1")
        assert info.value.reason == "Transient" and time.monotonic() - started < 10
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_credentials_never_go_to_a_plain_http_realm_of_an_https_registry(monkeypatch):
    from modelcache_hydrator.oci import RegistryClient, RegistryError

    monkeypatch.setattr("modelcache_hydrator.oci._credentials", lambda host: (USER, PASSWORD))
    client = RegistryClient("registry.example", "models/tiny", plain_http=False)
    sent = []
    monkeypatch.setattr(client.session, "get", lambda *a, **k: sent.append((a, k)))
    with pytest.raises(RegistryError):
        client._answer('Bearer realm="http://auth.example/token",service="registry.example"')
    assert not sent


# -- the manifest's layers, without a registry -------------------------------------------------------------------


def _layers(*descriptors):
    from modelcache_hydrator.oci import _files

    return _files(list(descriptors), "resolving oci://r/x:v1")


def _descriptor(name="a.bin", digest="sha256:" + "a" * 64, media_type=ORAS_FILE, size=10, **annotations):
    return {"mediaType": media_type, "digest": digest, "size": size, "annotations": {TITLE: name, **annotations}}


def test_layer_digests_are_sha256_or_sha512_and_others_are_refused():
    from modelcache_hydrator.failure import HydrationFailure

    files, _ = _layers(_descriptor("a.bin"), _descriptor("b.bin", "sha512:" + "b" * 128))
    assert [(f.path, f.check.name, f.check.expected, f.locator) for f in files] == [
        ("a.bin", "SHA-256", "a" * 64, "sha256:" + "a" * 64),
        ("b.bin", "SHA-512", "b" * 128, "sha512:" + "b" * 128),
    ]
    assert files[1].check.new().name == "sha512"
    for digest in ("md5:" + "a" * 32, "sha256:" + "A" * 64, "sha256:abc", "blake3:" + "a" * 64, None):
        with pytest.raises(HydrationFailure) as e:
            _layers(_descriptor(digest=digest))
        assert e.value.reason == "NotAnArtifact" and e.value.code == 10


def test_which_layers_are_archives_and_how_their_space_is_counted():
    from modelcache_hydrator.failure import HydrationFailure

    meta = json.dumps({"name": "w.bin", "size": 5000, "typeflag": 48})
    files, kinds = _layers(
        _descriptor("plain.tar", size=100),  # an ORAS file layer, even named .tar
        _descriptor("w-tar", media_type=WEIGHT + ".tar", size=200),
        _descriptor("w-gz", media_type=WEIGHT + ".tar+gzip", size=300, **{FILE_METADATA: meta}),
        _descriptor("w-zst", media_type=WEIGHT + ".tar+zstd", size=50),
        _descriptor("raw.bin", media_type=WEIGHT + ".raw", size=60),
        _descriptor("dir", media_type=ORAS_DIR, size=70, **{UNPACK: "true"}),
        _descriptor("dir-not-marked", media_type=ORAS_DIR, size=80),
    )
    by = {f.path: f for f in files}
    assert kinds == {"w-tar": "tar", "w-gz": "gzip", "w-zst": "zstd", "dir": "gzip"}
    assert not by["plain.tar"].unpack and not by["raw.bin"].unpack and not by["dir-not-marked"].unpack
    # Unpacked sizes: a tar's content is at most its size; ModelPack's metadata; else the blob (headers later);
    # the largest archive is counted twice (its blob is on the claim while it is extracted).
    assert {p: f.space for p, f in by.items()} == {
        "plain.tar": 100, "w-tar": 200, "w-gz": 5000 + 300, "w-zst": 50, "raw.bin": 60, "dir": 70, "dir-not-marked": 80,
    }
    with pytest.raises(HydrationFailure) as e:
        _layers(_descriptor("x", media_type="application/zip", **{UNPACK: "true"}))
    assert e.value.reason == "NotAnArtifact"


def test_the_modelpack_file_path_wins_over_the_title():
    files, _ = _layers(_descriptor("title.bin", **{FILEPATH: "weights/model.safetensors"}))
    assert files[0].path == "weights/model.safetensors"


def test_docker_hub_references_and_credential_keys(tmp_path, monkeypatch):
    from modelcache_hydrator.failure import HydrationFailure
    from modelcache_hydrator.oci import RegistryClient, _credentials

    assert RegistryClient("docker.io", "ubuntu", False).base == "https://registry-1.docker.io/v2/library/ubuntu"
    assert RegistryClient("registry.internal:5000", "models/x", True).base == "http://registry.internal:5000/v2/models/x"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert _credentials("docker.io") is None  # no config: anonymous
    hub = base64.b64encode(b"hubuser:hubpass").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": hub},
        "registry.internal:5000": {"username": "u", "password": "p:with:colons"},
        "other.example": {"identitytoken": "not-used"},
    }}))
    assert _credentials("docker.io") == ("hubuser", "hubpass")
    assert _credentials("registry.internal:5000") == ("u", "p:with:colons")
    assert _credentials("registry.internal") is None and _credentials("other.example") is None
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(HydrationFailure) as e:
        _credentials("docker.io")
    assert e.value.code == 2 and "{not json" not in e.value.message
