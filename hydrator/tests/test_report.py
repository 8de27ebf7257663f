"""The report (hydrator.md §4): phases in order, progress while bytes move, the 4 KiB bound, mandatory final writes."""

from __future__ import annotations

import json

import pytest

from helpers import MiB, model_files, rev_dir
from modelcache_hydrator.report import LIMIT, encode

REPO = "org/model"
KEYS = {
    "version", "job", "source", "commit", "dir", "phase", "totalBytes", "doneBytes", "files", "filesDone",
    "verifiedFiles", "bytesPerSecond", "startedAt", "updatedAt",
}


@pytest.fixture
def model(hub):
    repo = hub.add(REPO)
    files = model_files(1, big=16 * MiB)
    return repo, files, repo.commit(files)


def test_phases_in_order_with_progress_while_bytes_move(env, hub, kube, model):
    repo, files, commit = model
    total = sum(len(v) for v in files.values())
    # Slow the big file down so progress reports are due while it arrives.
    release = hub.pause("model-00002-of-00002.safetensors", 8 * MiB)
    import threading

    threading.Timer(1.5, release.set).start()
    run = env.run(
        MODELCACHE_SOURCE=f"hf://{REPO}",
        MODELCACHE_TEST_REPORT_INTERVAL_SECONDS="0.3",
        MODELCACHE_TEST_REPORT_MIN_INTERVAL_SECONDS="0.2",
        **kube.env,
    )
    assert run.code == 0, run.why
    reports = kube.reports
    phases = [r["phase"] for r in reports]
    assert phases[0] == "Resolving" and "commit" not in reports[0] and reports[0]["job"] == env.base["MODELCACHE_JOB"]
    assert phases[-2:] == ["Pruning", "Complete"]
    downloading = [r for r in reports if r["phase"] == "Downloading"]
    assert len(downloading) >= 2, phases
    assert any(0 < r["doneBytes"] < total for r in downloading), "progress while bytes move"
    assert all(r["totalBytes"] == total and r["files"] == len(files) and r["commit"] == commit for r in downloading)
    assert [r["doneBytes"] for r in downloading] == sorted(r["doneBytes"] for r in downloading)
    done = reports[-1]
    assert done["doneBytes"] == done["totalBytes"] == total and done["filesDone"] == done["verifiedFiles"] == len(files)
    assert set(done) == KEYS | {"completedAt"}
    assert done["dir"] == rev_dir(REPO, commit) and done["source"] == f"hf://{REPO}"
    assert json.loads(run.report_raw) == done, "the file holds the same final report"
    # Progress writes keep their cadence: never more often than the minimum interval.
    assert len(downloading) <= 2 + 1.5 / 0.2 + 1


def test_rerun_on_a_staged_revision_reports_resolving_then_complete(env, hub, kube, model):
    repo, files, commit = model
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}").code == 0
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env)
    assert run.code == 0
    assert kube.phases() == ["Resolving", "Complete"]
    assert kube.reports[-1]["doneBytes"] == kube.reports[-1]["totalBytes"] > 0
    assert kube.reports[-1]["commit"] == commit


def test_default_cadence_writes_only_phase_changes_on_a_fast_download(env, hub, kube, model):
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env).code == 0
    assert kube.phases() == ["Resolving", "Downloading", "Pruning", "Complete"]


def test_failed_report_carries_code_reason_and_message(env, hub, kube, model):
    run = env.run(MODELCACHE_SOURCE="hf://org/missing", **kube.env)
    assert run.code == 10
    assert kube.phases() == ["Resolving", "Failed"]
    failure = kube.reports[-1]["failure"]
    assert failure["code"] == 10 and failure["reason"] == "NotFound" and failure["message"]
    assert kube.reports[-1]["completedAt"]


def test_final_report_that_cannot_reach_the_configmap_exits_1_and_the_rerun_only_re_reports(env, hub, kube, model):
    repo, files, commit = model
    kube.fail_writes = 1000
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env)
    assert run.code == 1, "a Complete report that could not be written is a failure the Job retries"
    assert (env.root / rev_dir(REPO, commit) / ".modelcache-complete").exists()
    kube.fail_writes = 0
    hub.reset_counters()
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env)
    assert run.code == 0
    assert kube.phases() == ["Resolving", "Complete"]
    assert sum(hub.served.values()) <= 1


def test_a_transient_configmap_failure_is_retried(env, hub, kube, model):
    kube.fail_writes = 2
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env)
    assert run.code == 0, run.why
    assert kube.phases()[-1] == "Complete"


def test_wrong_serviceaccount_token_is_a_failed_final_write(env, hub, kube, model, tmp_path):
    (tmp_path / "serviceaccount" / "token").write_text("not-the-token")
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env)
    assert run.code == 1 and kube.reports == []
    assert "not-the-token" not in run.stderr


def test_a_token_the_http_client_refuses_never_reaches_the_logs(env, hub, kube, model, tmp_path):
    """The HTTP client's own errors quote a header value it refuses (h11: "Illegal header value b'Bearer …'"):
    a failed ConfigMap write is logged by type and status only."""
    (tmp_path / "serviceaccount" / "token").write_text("SA-TOKEN-first-line\nSA-TOKEN-second-line")
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env)
    assert run.code == 1 and kube.reports == []
    assert "could not write the report" in run.stderr
    assert "SA-TOKEN" not in run.stderr and "SA-TOKEN" not in run.stdout and b"SA-TOKEN" not in run.report_raw


def test_report_stays_under_4096_bytes_dropping_warnings_first():
    report = {
        "version": 1, "job": "j" * 63, "source": "hf://org/model@" + "r" * 900, "phase": "Failed",
        "totalBytes": 1 << 40, "doneBytes": 1 << 39, "files": 9999, "filesDone": 5000, "verifiedFiles": 5000,
        "bytesPerSecond": 1 << 30, "startedAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
        "failure": {"code": 12, "reason": "ChecksumMismatch", "message": "m" * 1024},
        "warnings": ["w" * 200] * 10,
    }
    assert len(json.dumps(report, separators=(",", ":"))) > LIMIT
    data = encode(report)
    assert len(data) <= LIMIT
    decoded = json.loads(data)
    assert "warnings" not in decoded and decoded["failure"]["message"] == "m" * 1024
    small = dict(report, warnings=["short"])
    assert json.loads(encode(small))["warnings"] == ["short"], "warnings stay when they fit"
    huge = dict(report, failure={"code": 1, "reason": "Transient", "message": "x" * 5000}, source="s" * 4000)
    assert len(encode(huge)) <= LIMIT


def test_every_report_written_is_under_4096_bytes(env, hub, kube, model):
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **kube.env).code == 0
    assert all(len(json.dumps(r, separators=(",", ":"))) <= LIMIT for r in kube.reports)
