"""Every YAML file we ship, and every manifest the function composes in the render
scenarios, validates against its schema: upstream CRDs (Crossplane,
provider-kubernetes, LeaderWorkerSet) from $CRDS_DIR (default ../shared/crds),
our XRDs under apis/, and the Kubernetes schemas (kubernetes-validate) for core
kinds. Unknown fields are errors (the API server would prune them silently).
The CEL rules (x-kubernetes-validations) of our XRDs are evaluated too, with
cel-python (cel_rules.py); upstream CRDs' CEL rules are not."""

import copy
import os
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from cel_rules import violations

ROOT = Path(__file__).resolve().parents[2]
CRDS_DIR = Path(os.environ.get("CRDS_DIR", ROOT.parent / "shared" / "crds"))
K8S_VERSION = "1.33.0"
CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "apiextensions.k8s.io/v1", "rbac.authorization.k8s.io/v1"}


def load_all(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def strict(schema, root=True):
    """OpenAPI v3 (structural) → JSON Schema, with unknown fields rejected."""
    s = copy.deepcopy(schema)
    if s.get("nullable"):
        t = s.get("type")
        if t:
            s["type"] = [t, "null"]
    if s.get("x-kubernetes-int-or-string"):
        s.pop("type", None)
        s["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in s:
        s["properties"] = {k: strict(v, False) for k, v in s["properties"].items()}
        if not s.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in s and not root:
            s["additionalProperties"] = False
    if isinstance(s.get("additionalProperties"), dict):
        s["additionalProperties"] = strict(s["additionalProperties"], False)
    if isinstance(s.get("items"), dict):
        s["items"] = strict(s["items"], False)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in s:
            s[key] = [strict(x, False) for x in s[key]]
    return s


class Registry:
    def __init__(self):
        self.schemas = {}
        self.cel = {}  # our XRDs' schemas, whose CEL rules are evaluated

    def add_crd(self, crd):
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            self.schemas[(f"{group}/{v['name']}", kind)] = strict(v["schema"]["openAPIV3Schema"])

    def add_xrd(self, xrd):
        group, kind = xrd["spec"]["group"], xrd["spec"]["names"]["kind"]
        for v in xrd["spec"]["versions"]:
            schema = copy.deepcopy(v["schema"]["openAPIV3Schema"])
            props = schema.setdefault("properties", {})
            # What Crossplane adds to every XR's generated CRD.
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props.setdefault("metadata", {"type": "object"})
            props["spec"].setdefault("properties", {})["crossplane"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            status = props.setdefault("status", {"type": "object", "properties": {}})
            status.setdefault("properties", {})["conditions"] = {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
            self.schemas[(f"{group}/{v['name']}", kind)] = strict(schema)
            self.cel[(f"{group}/{v['name']}", kind)] = v["schema"]["openAPIV3Schema"]

    def validate(self, obj, where):
        api, kind = obj.get("apiVersion"), obj.get("kind")
        if api in CORE_GROUPS:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
            return
        schema = self.schemas.get((api, kind))
        assert schema is not None, f"{where}: no schema for {api} {kind}"
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{where}: {api} {kind}: " + "; ".join(
            f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5])
        if (api, kind) in self.cel:
            broken = violations(self.cel[(api, kind)], obj)
            assert not broken, f"{where}: {api} {kind}: " + "; ".join(f"{p}: {m}" for p, m in broken[:5])


@pytest.fixture(scope="module")
def registry():
    if not CRDS_DIR.is_dir():
        # Only missing reference data is skipped, and never in CI (REQUIRE_REFERENCE_DATA=1).
        why = f"CRDS_DIR {CRDS_DIR} does not exist (set CRDS_DIR to a folder of upstream CRDs)"
        if os.environ.get("REQUIRE_REFERENCE_DATA") == "1":
            pytest.fail(why)
        pytest.skip(why)
    r = Registry()
    for f in sorted(CRDS_DIR.rglob("*.yaml")):
        for doc in load_all(f):
            if doc.get("kind") == "CustomResourceDefinition":
                r.add_crd(doc)
    for f in sorted((ROOT / "apis").rglob("definition.yaml")):
        r.add_xrd(load_all(f)[0])
    return r


def shipped_files():
    files = sorted((ROOT / "apis").rglob("*.yaml")) + sorted((ROOT / "package").rglob("*.yaml"))
    files += [p for p in sorted((ROOT / "examples").rglob("*.yaml")) if p.name != "expected.yaml"]
    if (ROOT / "crossplane.yaml").exists():
        files.append(ROOT / "crossplane.yaml")
    return files


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_yaml_validates(registry, path):
    expect_invalid = path.read_text().startswith("# expect-invalid")
    for i, doc in enumerate(load_all(path)):
        if expect_invalid:
            with pytest.raises(AssertionError):
                registry.validate(doc, f"{path}#{i}")
        else:
            registry.validate(doc, f"{path}#{i}")


SCENARIO_OUTPUTS = sorted((ROOT / "examples" / "scenarios").glob("*/expected.yaml"))


@pytest.mark.parametrize("path", SCENARIO_OUTPUTS, ids=lambda p: p.parent.name)
def test_composed_manifests_validate(registry, path):
    docs = load_all(path)
    assert docs, "a scenario renders at least the XR"
    # render prints the XR's status only: validate it as the API server sees it, with the spec.
    xr = {**docs[0], "spec": load_all(path.parent / "xr.yaml")[0].get("spec")}
    registry.validate(xr, f"{path} XR")  # the XR with the status the function writes
    for doc in docs[1:]:
        if doc.get("apiVersion", "").startswith("render.crossplane.io/"):
            continue
        where = f"{path} {doc['metadata']['annotations']['crossplane.io/composition-resource-name']}"
        registry.validate(doc, where)
        manifest = doc.get("spec", {}).get("forProvider", {}).get("manifest")
        if doc["kind"] == "Object":
            assert manifest, f"{where}: an Object without a manifest"
            registry.validate(manifest, f"{where} manifest")


def test_a_bad_manifest_is_caught(registry):
    """The validator is not a rubber stamp: typos and wrong types fail."""
    with pytest.raises(Exception):
        registry.validate({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "x"},
                           "spec": {"accessMode": ["ReadWriteMany"]}}, "typo")
    with pytest.raises(AssertionError):
        registry.validate({"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "Object",
                           "spec": {"forProvider": {"manifest": {}}, "readiness": {"policy": "Sometimes"}}}, "enum")
    with pytest.raises(AssertionError):
        registry.validate({"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache", "metadata": {"name": "x"},
                           "spec": {"artifact": {"source": {"huggingFace": {"repo": "a/b"}}}, "mount": {"path": "/m"},
                                    "storage": {"sizeGiB": 0}}}, "minimum")
    with pytest.raises(AssertionError):
        registry.validate({"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache", "metadata": {"name": "x"},
                           "spec": {"artifact": {"source": {"huggingFace": {"repo": "a/b"}}}, "mount": {"path": "/m"}},
                           "status": {"unknownField": 1}}, "status pruned")


def test_cel_rules_are_evaluated(registry):
    """Rules only CEL can express reject too: a GKE cluster without its gke block, two engines."""
    gke = {"apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster", "metadata": {"name": "g"},
           "spec": {"cluster": {"source": "GKE"}}}
    with pytest.raises(AssertionError, match="source GKE needs cluster.gke"):
        registry.validate(gke, "GKE without gke")
    gke["spec"]["cluster"]["gke"] = {"project": "my-gcp-project", "region": "us-central1"}
    registry.validate(gke, "GKE with gke")
    md = {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": "m", "namespace": "n"},
          "spec": {"replicas": 1, "workers": {"topology": {"tensor": 1}, "template": {"spec": {"containers": [
              {"name": "engine", "image": "a"}, {"name": "engine", "image": "b"}]}}}}}
    with pytest.raises(AssertionError, match="exactly one container named 'engine'"):
        registry.validate(md, "two engines")


@pytest.mark.parametrize("kinds", [
    {}, {"huggingFace": {"repo": "a/b"}, "s3": {"uri": "s3://models-bucket/x"}},
    {"oci": {"reference": "registry.internal/m:v1"}, "volume": {"claimName": "weights"}},
    {"huggingFace": {"repo": "a/b"}, "s3": {"uri": "s3://models-bucket"}, "oci": {"reference": "r.io/m:v1"},
     "volume": {"claimName": "weights"}}], ids=["none", "hf+s3", "oci+volume", "all four"])
def test_cel_one_source_kind(registry, kinds):
    """sources.md §1: the XRD's CEL rule rejects zero or two kinds of spec.artifact.source at once (only CEL can:
    each kind alone is a valid object), and admits each kind alone."""
    def cache(source):
        return {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache", "metadata": {"name": "x", "namespace": "n"},
                "spec": {"artifact": {"source": source}, "mount": {"path": "/m"}}}
    with pytest.raises(AssertionError, match=r"set exactly one source kind \(huggingFace, s3, oci or volume\)"):
        registry.validate(cache(kinds), f"{sorted(kinds)}")
    for kind, body in kinds.items():
        registry.validate(cache({kind: body}), kind)


def lws_pod_templates():
    for path in SCENARIO_OUTPUTS:
        for doc in load_all(path):
            manifest = (doc.get("spec") or {}).get("forProvider", {}).get("manifest") or {}
            if manifest.get("kind") == "LeaderWorkerSet":
                for role in ("leaderTemplate", "workerTemplate"):
                    yield pytest.param(manifest["spec"]["leaderWorkerTemplate"][role], id=f"{path.parent.name}-{role}")


LWS_POD_TEMPLATES = list(lws_pod_templates())


@pytest.mark.parametrize("template", LWS_POD_TEMPLATES)
def test_leaderworkerset_pod_templates_validate(template):
    """The LeaderWorkerSet CRD leaves its pod templates unchecked (`type: object`);
    the API server checks the pods only when it creates them. Check them here as
    Kubernetes PodTemplates (probes, ports, env, volume mounts, ...)."""
    assert LWS_POD_TEMPLATES, "the scenarios include a LeaderWorkerSet"
    kubernetes_validate.validate({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"},
                                  "template": template}, K8S_VERSION, strict=True)


def test_a_bad_pod_template_is_caught():
    """The PodTemplate check is not a rubber stamp."""
    with pytest.raises(Exception):
        kubernetes_validate.validate({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"},
                                      "template": {"spec": {"containers": [{"name": "engine", "readinessProbe": {"httpGet": {"path": "/health"}}}]}}},
                                     K8S_VERSION, strict=True)
