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


def test_target_timeout_is_honoured_and_named(tmp_path):
    """A --target that accepts the connection but never answers: render gives up after --timeout."""
    import socket
    import time
    scenario = SCENARIOS[0]
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        t0 = time.monotonic()
        r = subprocess.run([str(BINARY), "render", *render_args(scenario), "--target",
                            f"127.0.0.1:{silent.getsockname()[1]}", "--timeout", "1.5"],
                           capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert "failed with gRPC status 4" in r.stderr and "timeout of 1.5 s" in r.stderr and "--timeout" in r.stderr
    assert 1.4 < elapsed < 20


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "3601"])
def test_target_timeout_out_of_range_is_refused(value):
    scenario = SCENARIOS[0]
    r = subprocess.run([str(BINARY), "render", *render_args(scenario), "--target", "127.0.0.1:1", f"--timeout={value}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "--timeout" in r.stderr and "at most 3600" in r.stderr


def test_timeout_is_documented_with_its_default():
    help_text = subprocess.run([str(BINARY), "render", "--help"], capture_output=True, text=True, timeout=20).stdout
    assert "--timeout" in help_text and "default: 60" in help_text
    readme = (ROOT / "README.md").read_text()
    assert "--timeout" in readme


@pytest.mark.parametrize("flag", ["-e", "-o"])
def test_documents_that_are_not_kubernetes_objects_are_refused(tmp_path, flag):
    scenario = next(s for s in SCENARIOS if (s / "required.yaml").exists())
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\nname: not-an-object\nvalue: 3\n")
    args = [a for a in render_args(scenario)]
    r = subprocess.run([str(BINARY), "render", *args, flag, str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"{bad}: document 2 is not a Kubernetes object: apiVersion is missing" in r.stderr
    assert r.stdout == ""
