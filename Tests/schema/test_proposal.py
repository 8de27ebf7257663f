"""The proposal this package implements works here as written (issue #14):

- every ModelCache, ModelDeployment, ModelReplica and InferenceCluster manifest
  of the proposal's examples validates against our XRDs, unchanged;
- every field the proposal's XRDs describe is described in ours too (what
  `kubectl explain` shows), and its defaults, enums and printer columns are kept;
- the proposal's cache and cached deployment render end to end through
  `function-modelcache render`, and everything they compose validates.

The proposal's files come from $SEED_DIR (default ../shared/seed); without
them these tests skip with one line saying so."""

import copy
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from test_schemas import ROOT, load_all, registry  # noqa: F401 (pytest fixture)

SEED_DIR = Path(os.environ.get("SEED_DIR", ROOT.parent / "shared" / "seed"))
BINARY = Path(os.environ.get("FUNCTION_BIN", ROOT / ".build" / "debug" / "function-modelcache"))
OUR_KINDS = {"ModelCache", "ModelDeployment", "ModelReplica", "InferenceCluster"}
# The proposal's XRD folder for each of ours.
XRD_PAIRS = {"inferencecluster": "inferenceclusters", "modelcache": "modelcaches",
             "modeldeployment": "modeldeployments", "modelreplica": "modelreplicas"}

needs_seed = pytest.mark.skipif(not (SEED_DIR / "examples").is_dir(),
                                reason=f"no proposal manifests at {SEED_DIR} (set SEED_DIR)")


def seed_manifests():
    if not (SEED_DIR / "examples").is_dir():
        return []
    out = []
    for f in sorted((SEED_DIR / "examples").rglob("*.yaml")):
        for i, doc in enumerate(load_all(f)):
            if doc.get("kind") in OUR_KINDS:
                out.append(pytest.param(doc, id=f"{f.relative_to(SEED_DIR)}#{i}"))
    return out


def xrd(path):
    return load_all(path)[0]


def version(x):
    return x["spec"]["versions"][0]


def walk(schema, path=""):
    """Every (path, schema) of a structural schema, through properties and items."""
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from walk(sub, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


def pairs():
    if not (SEED_DIR / "apis").is_dir():
        return []
    return [pytest.param(ours, theirs, id=ours) for ours, theirs in sorted(XRD_PAIRS.items())]


@needs_seed
def test_every_proposal_manifest_is_found():
    """The examples hold manifests of all our kinds but ModelReplica (users never write one)."""
    kinds = {p.values[0]["kind"] for p in seed_manifests()}
    assert kinds == {"ModelCache", "ModelDeployment", "InferenceCluster"}, kinds


@needs_seed
@pytest.mark.parametrize("doc", seed_manifests())
def test_proposal_manifest_validates_unchanged(registry, doc):  # noqa: F811
    registry.validate(doc, "proposal example")


@needs_seed
@pytest.mark.parametrize("ours,theirs", pairs())
def test_every_described_field_is_described(ours, theirs):
    """Field by field: what `kubectl explain` showed for the proposal, it shows for ours."""
    mine = dict(walk(version(xrd(ROOT / "apis" / ours / "definition.yaml"))["schema"]["openAPIV3Schema"]))
    proposal = walk(version(xrd(SEED_DIR / "apis" / theirs / "definition.yaml"))["schema"]["openAPIV3Schema"])
    missing, undescribed = [], []
    for path, schema in proposal:
        if path not in mine:
            missing.append(path)
        elif schema.get("description") and not mine[path].get("description"):
            undescribed.append(path)
    # status.conditions is Crossplane's own: it adds the field to every XR.
    missing = [p for p in missing if not p.startswith("status.conditions")]
    assert not missing, f"fields of the proposal missing from apis/{ours}: {missing}"
    assert not undescribed, f"fields the proposal describes but apis/{ours} does not: {undescribed}"


@needs_seed
@pytest.mark.parametrize("ours,theirs", pairs())
def test_defaults_enums_and_printer_columns_are_kept(ours, theirs):
    mine_v = version(xrd(ROOT / "apis" / ours / "definition.yaml"))
    their_v = version(xrd(SEED_DIR / "apis" / theirs / "definition.yaml"))
    mine = dict(walk(mine_v["schema"]["openAPIV3Schema"]))
    for path, schema in walk(their_v["schema"]["openAPIV3Schema"]):
        if path.startswith("status.conditions"):
            continue
        if "default" in schema:
            assert mine[path].get("default") == schema["default"], f"{ours} {path}: default"
        if "enum" in schema:
            # Ours may add values (day-two phases); it never drops one.
            assert set(schema["enum"]) <= set(mine[path].get("enum", [])), f"{ours} {path}: enum"
        if "type" in schema:
            assert mine[path].get("type") == schema["type"], f"{ours} {path}: type"
    columns = {(c["name"], c["jsonPath"]) for c in mine_v.get("additionalPrinterColumns", [])}
    for c in their_v.get("additionalPrinterColumns", []):
        assert (c["name"], c["jsonPath"]) in columns, f"{ours}: printer column {c['name']}"


def test_lifecycle_status_fields_are_not_pruned(registry):  # noqa: F811
    """The day-two status the function writes survives the API server's pruning."""
    cache = {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
             "metadata": {"name": "qwen-2-5", "namespace": "ml-team"},
             "spec": {"artifact": {"source": {"huggingFace": {"repo": "Qwen/Qwen2.5-0.5B-Instruct"}}},
                      "mount": {"path": "/mnt/models"}},
             "status": {"summary": {"ready": "1/2", "consumers": 3}, "clusters": [
                 {"name": "a", "phase": "Updating", "message": "m", "source": "hf://x@v2", "staged": "hf://x@v1",
                  "consumers": 2},
                 {"name": "b", "phase": "Retained", "source": "hf://x@v2", "staged": "hf://x@v1", "consumers": 1}]}}
    registry.validate(cache, "lifecycle cache status")
    replica = {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelReplica",
               "metadata": {"name": "r", "namespace": "ml-team"},
               "spec": {"inferenceClusterRef": {"name": "a"},
                        "workers": {"topology": {"tensor": 1},
                                    "template": {"spec": {"containers": [{"name": "engine", "image": "vllm"}]}}}},
               "status": {"cache": {"volume": "v", "mountPath": "/mnt/models", "phase": "Ready",
                                    "source": "hf://x@v2", "staged": "hf://x@v1", "revision": "rev-0123456789ab"}}}
    registry.validate(replica, "lifecycle replica status")
    bad = copy.deepcopy(cache)
    bad["status"]["clusters"][0]["phase"] = "Gone"
    with pytest.raises(AssertionError):
        registry.validate(bad, "unknown phase")
    usage = {"apiVersion": "protection.crossplane.io/v1beta1", "kind": "Usage",
             "metadata": {"namespace": "ml-team", "labels": {"modelplane.ai/modelcache": "qwen-2-5"}},
             "spec": {"of": {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
                             "resourceRef": {"name": "qwen-2-5"}},
                      "by": {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelReplica",
                             "resourceRef": {"name": "r"}},
                      "replayDeletion": True}}
    registry.validate(usage, "a consumer's Usage")
    with pytest.raises(AssertionError):
        registry.validate({**usage, "spec": {**usage["spec"], "replayDeletion": "yes"}}, "Usage typo")


# ---- end to end through render ---------------------------------------------------------------

def render(tmp_path, xr, composition, *, required=(), observed=()):
    """Runs `function-modelcache render` and returns its YAML documents (fails on a non-zero exit)."""
    assert BINARY.exists(), f"{BINARY} is not built (set FUNCTION_BIN)"
    args = [str(BINARY), "render", str(xr), str(composition), str(ROOT / "examples" / "functions.yaml"), "-r", "-x"]
    for flag, docs, name in (("-e", required, "required.yaml"), ("-o", observed, "observed.yaml")):
        if docs:
            f = tmp_path / f"{xr.stem}-{name}"
            f.write_text(yaml.safe_dump_all(list(docs)))
            args += [flag, str(f)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return list(yaml.safe_load_all(r.stdout))


def ready_cluster():
    """The proposal's Existing cluster, as it reads once registered (a provider config in status)."""
    cluster = load_all(SEED_DIR / "examples" / "platform" / "inference-cluster-existing.yaml")[0]
    cluster["status"] = {"providerConfigRef": {"name": "byo-us-east-pc"},
                         "conditions": [{"type": "Ready", "status": "True", "reason": "Available"}]}
    return cluster


def composed(docs, key):
    for d in docs[1:]:
        if d.get("metadata", {}).get("annotations", {}).get("crossplane.io/composition-resource-name") == key:
            return d
    raise AssertionError(f"nothing composed under {key}: {[d.get('kind') for d in docs]}")


def validate_output(registry, docs, where):  # noqa: F811
    for d in docs:
        if d.get("apiVersion", "").startswith("render.crossplane.io/"):
            continue
        registry.validate(d, where)
        manifest = d.get("spec", {}).get("forProvider", {}).get("manifest")
        if manifest:
            registry.validate(manifest, f"{where} manifest")


@needs_seed
def test_proposal_cache_renders_end_to_end(registry, tmp_path):  # noqa: F811
    xr = SEED_DIR / "examples" / "cache" / "model-cache-qwen.yaml"
    docs = render(tmp_path, xr, ROOT / "apis" / "modelcache" / "composition.yaml", required=[ready_cluster()])
    validate_output(registry, docs, "rendered proposal cache")
    status = docs[0]["status"]
    assert [c["name"] for c in status["clusters"]] == ["byo-us-east"]
    assert status["summary"]["ready"] == "0/1"
    claim = composed(docs, "pvc-byo-us-east")["spec"]
    assert claim["providerConfigRef"]["name"] == "byo-us-east-pc"
    pvc = claim["forProvider"]["manifest"]["spec"]
    # The storage class and size come from the cluster, as the proposal says.
    assert pvc["storageClassName"] == "cephfs-rwx"
    assert pvc["resources"]["requests"]["storage"] == "200Gi"
    # The hydration Job's ServiceAccount comes first; the Job waits for it (hydrator.md §4).
    assert composed(docs, "hydrate-sa-byo-us-east")["spec"]["forProvider"]["manifest"]["kind"] == "ServiceAccount"


@needs_seed
def test_proposal_cached_deployment_renders_end_to_end(registry, tmp_path):  # noqa: F811
    """ModelDeployment → ModelReplica → a workload that mounts the proposal's cache at /mnt/models."""
    cache = load_all(SEED_DIR / "examples" / "cache" / "model-cache-qwen.yaml")[0]
    cluster = ready_cluster()
    # The cache as its own render reports it once staged: the function's own status, with Ready phases.
    staged = render(tmp_path, SEED_DIR / "examples" / "cache" / "model-cache-qwen.yaml",
                    ROOT / "apis" / "modelcache" / "composition.yaml", required=[cluster])[0]["status"]
    for c in staged["clusters"]:
        c["phase"] = "Ready"
        c.pop("message", None)
        c.setdefault("staged", c["source"])
    cache["status"] = {"summary": {"ready": "1/1"}, "clusters": staged["clusters"]}
    md = SEED_DIR / "examples" / "deployment" / "model-deployment-cached.yaml"
    docs = render(tmp_path, md, ROOT / "apis" / "modeldeployment" / "composition.yaml", required=[cluster, cache])
    validate_output(registry, docs, "rendered proposal deployment")
    replicas = [d for d in docs[1:] if d.get("kind") == "ModelReplica"]
    assert len(replicas) == 1, [d.get("kind") for d in docs]
    replica = replicas[0]
    assert replica["spec"]["modelCacheRef"] == {"name": "qwen-2-5"}
    assert replica["spec"]["inferenceClusterRef"] == {"name": "byo-us-east"}

    # The replica as Crossplane would create it, rendered through its own composition.
    replica = copy.deepcopy(replica)
    replica["metadata"] = {"name": "qwen-demo-cached-byo-us-east", "namespace": "ml-team"}
    replica_file = tmp_path / "replica.yaml"
    replica_file.write_text(yaml.safe_dump(replica))
    out = render(tmp_path, replica_file, ROOT / "apis" / "modelreplica" / "composition.yaml",
                 required=[cluster, cache])
    validate_output(registry, out, "rendered proposal replica")
    workloads = [d for d in out[1:] if d.get("kind") == "Object"
                 and d["spec"]["forProvider"]["manifest"]["kind"] in ("Deployment", "LeaderWorkerSet")]
    assert workloads, [d.get("kind") for d in out]
    pod = workloads[0]["spec"]["forProvider"]["manifest"]["spec"]["template"]["spec"]
    engine = next(c for c in pod["containers"] if c["name"] == "engine")
    assert any(m["mountPath"] == "/mnt/models" for m in engine["volumeMounts"]), engine["volumeMounts"]
    assert "--model=/mnt/models" in engine["args"]
