#!/usr/bin/env python3
"""Writes fuzz seeds from the test fixtures: serialized RunFunctionRequests
(the benchmark's and the end-to-end tests' builders, every render scenario's
XR with its required and observed resources) and the scenario YAML files."""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
import bench  # noqa: E402
from conftest import model_cache_request  # noqa: E402
from crossplane.function.proto.v1 import run_function_pb2 as pb  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".build-fuzz" / "seeds")
out.mkdir(parents=True, exist_ok=True)
seeds = {}
for n in (1, 3):
    for state in ("nothing", "hydrating", "ready"):
        seeds[f"bench-{n}-{state}.bin"] = bench.request(n, state)
seeds["e2e-model-cache.bin"] = model_cache_request(["a", "b"]).SerializeToString()
for scenario in sorted((ROOT / "examples" / "scenarios").glob("*/xr.yaml")):
    d = scenario.parent
    req = pb.RunFunctionRequest(meta=pb.RequestMeta(tag=d.name))
    req.observed.composite.resource.update(yaml.safe_load(scenario.read_text()))
    for name, key in (("required.yaml", None), ("observed.yaml", "observed")):
        if not (d / name).exists():
            continue
        for doc in yaml.safe_load_all((d / name).read_text()):
            if not doc:
                continue
            if key == "observed":
                rn = doc["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
                req.observed.resources[rn].resource.update(doc)
            else:
                kind = doc["kind"]
                rk = {"InferenceCluster": "clusters", "Secret": "token-secret", "ModelCache": "cache"}.get(kind, kind)
                req.required_resources[rk].items.add().resource.update(doc)
                if kind == "InferenceCluster":
                    req.required_resources["cluster"].items.add().resource.update(doc)
                if kind == "Secret":
                    req.required_resources["kubeconfig"].items.add().resource.update(doc)
    seeds[f"scenario-{d.name}.bin"] = req.SerializeToString()
    seeds[f"scenario-{d.name}.yaml"] = scenario.read_bytes()
for name, data in seeds.items():
    (out / name).write_bytes(data)
print(f"wrote {len(seeds)} seeds to {out}")
