"""The XRD (schema and CEL, as the API server applies them at admission) and the
function (through `render`, which bypasses admission) accept and refuse the same
values: a rule marked hardened lives in both places, and they must not drift."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from test_schemas import ROOT, registry  # noqa: F401 (pytest fixture)

BINARY = Path(os.environ.get("FUNCTION_BIN", ROOT / ".build" / "debug" / "function-modelcache"))


def cache(mount="/mnt/models", **hf):
    return {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
            "metadata": {"name": "qwen-2-5", "namespace": "ml-team"},
            "spec": {"artifact": {"source": {"huggingFace": {"repo": "Qwen/Qwen2.5-0.5B-Instruct", **hf}}},
                     "mount": {"path": mount}}}


def sourced(source):
    xr = cache()
    xr["spec"]["artifact"]["source"] = source
    return xr


S3_KEYS = {"name": "s3-keys", "accessKeyIdKey": "id", "secretAccessKeyKey": "secret"}
DIGEST = "sha256:" + "d1" * 32

# The kinds of spec.artifact.source (sources.md §1); more volume cases below (VOLUME_CASES use `volume()`).
SOURCE_CASES = [
    ("no kind", sourced({})),
    ("two kinds", sourced({"huggingFace": {"repo": "a/b"}, "s3": {"uri": "s3://models-bucket/x"}})),
    ("three kinds", sourced({"huggingFace": {"repo": "a/b"}, "oci": {"reference": "r.io/m:v1"},
                             "volume": {"claimName": "w"}})),
    *[(f"s3 uri {u!r}", sourced({"s3": {"uri": u}})) for u in [
        "s3://models-bucket", "s3://models-bucket/", "s3://models-bucket/llm/tiny", "s3://models-bucket/llm/tiny/",
        "s3://a.b-c/x_(1)!*'", "s3://Models/x", "s3://ab", "s3://" + "a" * 64, "s3://-ab/x", "s3://a..b/x",
        "s3://10.0.0.1/x", "s3://xn--abc/x", "s3://sthree-x/x", "s3://b-s3alias/x", "s3://models-bucket//",
        "s3://models-bucket/a//b", "s3://models-bucket/a/../b", "s3://models-bucket/./b", "s3://models-bucket/..",
        "s3://models-bucket/$(id)", "s3://models-bucket/a b", "https://models-bucket/x", "models-bucket/x"]],
    *[(f"s3 endpoint {e!r}", sourced({"s3": {"uri": "s3://models-bucket", "endpoint": e}})) for e in [
        "http://minio.storage:9000", "https://s3.internal/prefix", "minio:9000", "https://k:s@minio", "ftp://x"]],
    *[(f"s3 region {r!r}", sourced({"s3": {"uri": "s3://models-bucket", "region": r}})) for r in [
        "us-east-1", "garage", "", "us east", "x" * 65]],
    *[(f"s3 credentials {c!r}", sourced({"s3": {"uri": "s3://models-bucket", "credentialsSecretRef": c}})) for c in [
        S3_KEYS, {**S3_KEYS, "sessionTokenKey": "token"}, {**S3_KEYS, "name": "S3_Keys"},
        {"name": "s3-keys", "accessKeyIdKey": "id"}, {**S3_KEYS, "secretAccessKeyKey": ".."},
        {**S3_KEYS, "name": "a" * 189}, {**S3_KEYS, "name": "a" * 190}]],
    *[(f"oci reference {r!r}", sourced({"oci": {"reference": r}})) for r in [
        "registry.internal/models/tiny:v1", "registry.internal:5000/models/tiny:v1", "localhost:5000/a__b/c-d:v1.0",
        "registry.internal/models/tiny@" + DIGEST, "registry.internal/models/tiny", "models:v1",
        "registry.internal/Models:v1", "registry.internal/models@sha256:abc", "oci://registry.internal/models:v1",
        "registry.internal/models:v1@" + DIGEST, "registry.internal/models:-v1", "registry.internal/a..b:v1",
        "registry.internal/models:" + "x" * 129]],
    *[(f"oci pullSecret {n!r}", sourced({"oci": {"reference": "r.io/m:v1", "pullSecretRef": {"name": n}}}))
      for n in ["regcred", "Reg_Cred"]],
    *[(f"volume {v!r}", sourced({"volume": v})) for v in [
        {"claimName": "Weights"}, {"claimName": "weights", "subPath": "/etc"},
        {"claimName": "weights", "subPath": "a/../b"}, {"claimName": "weights", "subPath": "a//b"}, {}]],
]

def volume(claim, sub_path=None):
    xr = cache()
    xr["spec"]["artifact"]["source"] = {"volume": {"claimName": claim, **({"subPath": sub_path} if sub_path else {})}}
    return xr


CASES = [
    # Mount paths: normalised, and not reserved.
    *[(p, cache(mount=p)) for p in [
        "/mnt/models", "/models/qwen", "/tmp/models", "/var/models", "/opt/models", "/devices", "/usr2", "/var/runtime",
        "/", "/dev", "/dev/shm", "/dev/shm/x", "/proc", "/sys/fs", "/etc", "/etc/models", "/usr/share/m", "/bin",
        "/lib", "/lib64/x", "/run", "/var/run", "/var/run/secrets", "/tmp", "/var", "/root", "/home", "/opt", "/boot",
        "/sbin", "/models/../etc", "/models//x", "/models/", "/models/.", "/a:b", "models", "/a\tb",
        "/" + "x" * 1023, "/" + "x" * 1024, "/models/$(HF_TOKEN)", "/models/$x"]],
    # Repo ids and revisions.
    *[(f"repo {r!r}", cache(repo=r)) for r in ["gpt2", "a/b", "org_1/model.v2-gguf", "a/..b", "-rf", "a/.h", "a/b/c",
                                              "a b", "a/" + "x" * 96, "a/" + "x" * 97]],
    *[(f"revision {r!r}", cache(revision=r)) for r in ["main", "refs/pr/1", "v1.0", "", "--help", "a/../b", "main;x",
                                                      "x" * 255, "x" * 256]],
    # Volume sources: the claim's name and the subPath (sources.md §1).
    *[(f"volume {c!r}/{p!r}", volume(c, p)) for c, p in [
        ("shared-weights", None), ("shared-weights", "llama/3.1-8b"), ("a.b", "x_y-z.1"), ("Shared", None),
        ("-a", None), ("w", "/abs"), ("w", "a/../b"), ("w", "a//b"), ("w", "a/"), ("w", "."), ("w", "a/./b"),
        ("w", "a b"), ("w", "$(X)"), ("w", "x" * 1024), ("w", "x" * 1025), ("w" * 254, None)]],
    # Token Secret names and keys.
    *[(f"token {n!r}/{k!r}", cache(tokenSecretRef={"name": n, "key": k})) for n, k in [
        ("hf-token", "HF_TOKEN"), ("hf-token", "hf.token"), ("Bad_Name", "HF_TOKEN"), ("hf-token", "a/b"),
        ("hf-token", "."), ("hf-token", "..")]],
    # The loader (sources.md §2).
    *[(f"loader {l!r}", {**cache(), "spec": {**cache()["spec"], "mount": {"path": "/mnt/models", "loader": l}}})
      for l in [{"format": "Streamer"}, {"format": "Streamer", "concurrency": 1}, {"format": "Streamer", "concurrency": 64},
                {"format": "Streamer", "concurrency": 0}, {"format": "Streamer", "concurrency": 65}, {"format": "streamer"},
                {"format": "Tensorizer"}, {}, {"concurrency": 8}, {"format": "Streamer", "concurrency": "8"}]],
    *SOURCE_CASES,
]


def function_accepts(xr, tmp_path):
    f = tmp_path / "xr.yaml"
    f.write_text(yaml.safe_dump(xr))
    r = subprocess.run([str(BINARY), "render", str(f), str(ROOT / "apis" / "modelcache" / "composition.yaml"),
                        str(ROOT / "examples" / "functions.yaml")], capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    if r.returncode == 1:
        assert "Invalid ModelCache ml-team/qwen-2-5: spec." in r.stderr, r.stderr
    return r.returncode == 0


@pytest.mark.parametrize("name,xr", CASES, ids=[c[0][:60] for c in CASES])
def test_xrd_and_function_agree(registry, tmp_path, name, xr):  # noqa: F811
    assert BINARY.exists(), f"{BINARY} is not built (set FUNCTION_BIN)"
    try:
        registry.validate(xr, name)
        admitted = True
    except AssertionError:
        admitted = False
    assert admitted == function_accepts(xr, tmp_path), f"{name}: XRD admits={admitted}"


def test_the_cases_cover_both_verdicts(registry, tmp_path):  # noqa: F811
    """Not a rubber stamp: the table holds values each side accepts and refuses."""
    verdicts = set()
    for name, xr in CASES:
        try:
            registry.validate(xr, name)
            verdicts.add(True)
        except AssertionError:
            verdicts.add(False)
    assert verdicts == {True, False}
