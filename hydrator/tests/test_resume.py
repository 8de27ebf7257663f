"""Interrupted downloads resume at byte level; verified files are never fetched again (hydrator.md §3)."""

from __future__ import annotations

import os
import signal
import time

from helpers import MiB, assert_staged, model_files, rev_dir

REPO = "org/model"
BIG = "model-00002-of-00002.safetensors"


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_file_then_rerun_fetches_under_10_percent_again(env, hub):
    repo = hub.add(REPO)
    files = model_files(1, big=24 * MiB)
    commit = repo.commit(files)
    half = 12 * MiB
    release = hub.pause(BIG, half)
    partial = env.root / rev_dir(REPO, commit) / ".modelcache-partial" / BIG
    p = env.start(MODELCACHE_SOURCE=f"hf://{REPO}")
    try:
        wait_for(lambda: partial.exists() and partial.stat().st_size == half, what="half of the big file on disk")
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    finally:
        release.set()
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGKILL
    assert env.report_file.exists() and '"Downloading"' in env.report_file.read_text()
    first_shard = hub.bytes_served("model-00001-of-00002.safetensors")
    first_big = hub.bytes_served(BIG)
    hub.reset_counters()
    hub.pauses.clear()

    # The Job's next pod waits for the killed pod's lease to go stale (5 minutes; 1 s here).
    run = env.run(
        MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_POD="hydrate-qwen-gpu-east-1-fghij", MODELCACHE_TEST_LEASE_STALE_SECONDS="1"
    )
    assert run.code == 0, run.why
    assert_staged(env.root, REPO, commit, files)
    # Bytes served twice: everything served over both runs beyond the file's size.
    refetched = first_big + hub.bytes_served(BIG) - len(files[BIG])
    assert refetched <= 0.10 * len(files[BIG]), f"re-fetched {refetched} of {len(files[BIG])} bytes"
    assert [r["range"] for r in hub.requests if r["host"] == "lfs" and r["range"] != "bytes=0-0"] == [f"bytes={half}-"]
    # The first shard (verified before the kill) is fetched again only as the one-byte access probe.
    assert first_shard == MiB + 1 and hub.bytes_served("model-00001-of-00002.safetensors") == 1
    assert run.report["doneBytes"] == run.report["totalBytes"]
    assert "stale lease" in run.stderr
