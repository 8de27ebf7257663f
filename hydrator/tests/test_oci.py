"""The OCI source against a real registry (sources.md §1, §3): Debian's `docker-registry` (distribution 2.8)
started by the tests on 127.0.0.1, artifacts pushed with the `oras` PyPI client as image-spec v1.0 manifests,
the hydrator reaching it through a tap (tests/ociregistry.py) that counts, holds or corrupts blob bytes."""

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
    Tap,
    file_layer,
    tar_bytes,
)

FILE_METADATA = "org.cncf.model.file.metadata+json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    r = Registry(tmp_path_factory.mktemp("registry"))
    yield r
    r.close()


@pytest.fixture
def tap(registry):
    t = Tap(registry.host)
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
        assert tap.bytes_served(layer.digest) == len(layer.data) + (layer is smallest)
    # A rerun finds it staged: Complete, nothing fetched but the probe.
    tap.served.clear()
    again = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert again.code == 0, again.why
    assert again.report["files"] == 3 and again.report["doneBytes"] == again.report["totalBytes"]
    assert sum(tap.served.values()) == 1


def test_a_reference_by_digest_pins_itself_and_shares_the_directory(env, registry, tap, repo):
    layers, files = model_layers(2)
    digest = registry.push(repo, "v1", layers)
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}@{digest}", MODELCACHE_COMMIT=digest)
    assert run.code == 0, run.why
    assert run.report["commit"] == digest and run.report["dir"] == staged_dir(tap.host, repo, digest)
    assert tree(env.rev(run.report["dir"])) == files
    by_tag = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert by_tag.code == 0 and by_tag.report["dir"] == run.report["dir"]


def test_a_pin_the_tag_no_longer_names_is_source_changed(env, registry, tap, repo):
    first = registry.push(repo, "v1", model_layers(3)[0])
    registry.push(repo, "v1", model_layers(4)[0])  # the tag moves
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_COMMIT=first)
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "SourceChanged"
    assert "modelplane.ai/refresh-revision" in run.report["failure"]["message"]
    assert not [p for p in env.root.iterdir()]  # nothing written


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


def test_an_image_index_is_not_an_artifact(env, registry, tap, repo):
    digest = registry.push(repo, "amd64", model_layers(6)[0])
    registry.push_index(repo, "multi", [digest])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:multi")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotAnArtifact"
    assert "image index" in run.report["failure"]["message"]


def test_a_layer_without_a_file_name_is_not_an_artifact(env, registry, tap, repo):
    registry.push(repo, "v1", [Layer(b"an image layer", "application/vnd.oci.image.layer.v1.tar+gzip")])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10 and run.report["failure"]["reason"] == "NotAnArtifact", run.why


@pytest.mark.parametrize("name", ["../escape.bin", "/etc/escape.bin", "a//b", ".modelcache-complete"])
def test_an_unsafe_layer_name_is_refused_before_any_byte(env, registry, tap, repo, name):
    registry.push(repo, "v1", [file_layer("ok.bin", b"ok"), file_layer(name, b"x" * 100)])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1")
    assert run.code == 10 and run.report["failure"]["reason"] == "UnsafePath", run.why
    assert sum(tap.served.values()) == 0 and not list(env.root.iterdir())


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


def test_plain_http_is_used_only_when_allowed(env, registry, tap, repo):
    registry.push(repo, "v1", model_layers(8)[0])
    run = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_OCI_PLAIN_HTTP=None)
    assert run.code == 1 and run.report["failure"]["reason"] == "Transient", run.why  # TLS to a plain-HTTP port
    bad = env.run(MODELCACHE_SOURCE=f"oci://{tap.host}/{repo}:v1", MODELCACHE_OCI_PLAIN_HTTP="yes")
    assert bad.code == 2 and "MODELCACHE_OCI_PLAIN_HTTP" in bad.report["failure"]["message"]
