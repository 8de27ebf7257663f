"""`render`: in-process and `--target` against the running server give identical output."""

import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import BINARY, ROOT

SCENARIOS = sorted(p.parent for p in (ROOT / "examples" / "scenarios").glob("*/xr.yaml"))


def render_args(scenario: Path):
    xr = yaml.safe_load((scenario / "xr.yaml").read_text())
    composition = scenario / "composition.yaml"
    if not composition.exists():
        composition = ROOT / "apis" / xr["kind"].lower() / "composition.yaml"
    args = [str(scenario / "xr.yaml"), str(composition), str(ROOT / "examples" / "functions.yaml"), "-r"]
    for flag, name in (("-o", "observed.yaml"), ("-e", "required.yaml")):
        if (scenario / name).exists():
            args += [flag, str(scenario / name)]
    return args


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_target_render_matches_in_process(server, scenario):
    local = subprocess.run([str(BINARY), "render", *render_args(scenario)], capture_output=True, timeout=60)
    remote = subprocess.run([str(BINARY), "render", *render_args(scenario), "--target", server.address],
                            capture_output=True, timeout=60)
    assert local.returncode == remote.returncode
    assert local.stdout == remote.stdout
    assert local.stderr == remote.stderr
    if (scenario / "expected-error.txt").exists():
        assert local.returncode != 0
        assert (scenario / "expected-error.txt").read_text().strip() in local.stderr.decode()
    else:
        assert local.returncode == 0, local.stderr.decode()
        docs = list(yaml.safe_load_all(local.stdout))
        assert docs == list(yaml.safe_load_all((scenario / "expected.yaml").read_text()))


def test_render_against_nothing_listening_fails_clearly(tmp_path):
    from conftest import free_port
    scenario = SCENARIOS[0]
    r = subprocess.run([str(BINARY), "render", *render_args(scenario), "--target", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "failed with gRPC status 14" in r.stderr
