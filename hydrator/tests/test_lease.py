"""One writer per directory (hydrator.md §3): a live lease of another pod is waited for, a stale one taken over."""

from __future__ import annotations

import json
import os
import time

from helpers import assert_staged, model_files, rev_dir

REPO = "org/model"


def lease(d, job, pod, age):
    d.mkdir(parents=True, exist_ok=True)
    path = d / ".modelcache-active"
    path.write_text(json.dumps({"job": job, "pod": pod}))
    t = time.time() - age
    os.utime(path, (t, t))


def test_live_lease_of_another_job_is_waited_for_then_given_up_with_exit_1(env, hub):
    repo = hub.add(REPO)
    commit = repo.commit(model_files(1))
    d = env.root / rev_dir(REPO, commit)
    lease(d, "other-job", "other-pod", age=0)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_TEST_LEASE_GIVE_UP_SECONDS="1")
    assert run.code == 1 and run.report["failure"]["reason"] == "Transient"
    assert "other-pod" in run.report["failure"]["message"]
    assert json.loads((d / ".modelcache-active").read_text())["pod"] == "other-pod", "another pod's lease is left alone"
    assert not (d / ".modelcache-complete").exists()


def test_stale_lease_is_taken_over(env, hub):
    repo = hub.add(REPO)
    files = model_files(1)
    commit = repo.commit(files)
    lease(env.root / rev_dir(REPO, commit), "other-job", "other-pod", age=400)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 0, run.why
    assert_staged(env.root, REPO, commit, files)
    assert not (env.root / rev_dir(REPO, commit) / ".modelcache-active").exists()


def test_lease_is_refreshed_while_a_run_lasts(env, hub):
    repo = hub.add(REPO)
    files = model_files(1, big=8 << 20)
    commit = repo.commit(files)
    d = env.root / rev_dir(REPO, commit)
    release = hub.pause("model-00002-of-00002.safetensors", 4 << 20)
    p = env.start(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_TEST_LEASE_REFRESH_SECONDS="0.2")
    try:
        deadline = time.monotonic() + 30
        while not (d / ".modelcache-active").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        held = json.loads((d / ".modelcache-active").read_text())
        first = (d / ".modelcache-active").stat().st_mtime_ns
        time.sleep(0.8)
        assert (d / ".modelcache-active").stat().st_mtime_ns > first, "the lease is refreshed"
    finally:
        release.set()
    assert p.wait(60) == 0
    assert held == {"job": env.base["MODELCACHE_JOB"], "pod": env.base["MODELCACHE_POD"]}


def test_live_lease_of_another_pod_of_the_same_job_is_waited_for_too(env, hub):
    repo = hub.add(REPO)
    commit = repo.commit(model_files(1))
    d = env.root / rev_dir(REPO, commit)
    lease(d, env.base["MODELCACHE_JOB"], "hydrate-qwen-gpu-east-1-older", age=0)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_TEST_LEASE_GIVE_UP_SECONDS="0.5")
    assert run.code == 1 and "hydrate-qwen-gpu-east-1-older" in run.report["failure"]["message"]


def test_own_pods_lease_is_taken_over_at_once(env, hub):
    repo = hub.add(REPO)
    files = model_files(1)
    commit = repo.commit(files)
    lease(env.root / rev_dir(REPO, commit), env.base["MODELCACHE_JOB"], env.base["MODELCACHE_POD"], age=0)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_TEST_LEASE_GIVE_UP_SECONDS="0.5")
    assert run.code == 0, run.why
