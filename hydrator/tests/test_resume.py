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


# The stall rule shortened: under 64 KiB a second (1 MiB a minute in a Job) is a stall.
STALL = {"MODELCACHE_TEST_STALL_SECONDS": "1", "MODELCACHE_TEST_STALL_BYTES": str(64 << 10)}


def _body_ranges(hub) -> list:
    """The Range of every GET of the big file's body (the one-byte access probe left out)."""
    lfs = [r for r in hub.requests if r["host"] == "lfs" and r["method"] == "GET"]
    return [r["range"] for r in lfs if r["range"] != "bytes=0-0"]


def test_a_file_trickling_in_is_stalled_and_resumed_from_the_byte_reached(env, hub):
    """A hub or mirror sending a byte every 0.2 s, each well within the read timeout, would hold the Job until its
    deadline: the stall rule aborts the read (transient) and the retry loop resumes with a Range from the byte
    reached."""
    repo = hub.add(REPO)
    files = model_files(31, big=3 * MiB)
    commit = repo.commit(files)
    hub.trickles[BIG] = [10_000, 0.2, 1]
    run = env.run(timeout=60, MODELCACHE_SOURCE=f"hf://{REPO}", **STALL)
    assert run.code == 0, run.why
    assert "the download stalled" in run.stderr
    ranges = _body_ranges(hub)
    assert len(ranges) == 3 and ranges[1] is None, ranges  # the first shard, then the big file twice
    assert ranges[2].startswith("bytes=") and int(ranges[2][6:-1]) >= 10_000, ranges
    assert_staged(env.root, REPO, commit, files)


def test_a_file_that_keeps_trickling_is_transient_after_its_retries(env, hub):
    """Each attempt moves a few KiB, under the stall rule's amount: never a fresh retry budget, so the run ends (exit 1,
    the Job's next pod tries again) instead of trickling on."""
    repo = hub.add(REPO)
    repo.commit(model_files(32, big=3 * MiB))
    hub.trickles[BIG] = [10_000, 0.2, 100]
    run = env.run(timeout=60, MODELCACHE_SOURCE=f"hf://{REPO}", **STALL)
    assert run.code == 1, run.why
    assert run.report["failure"]["reason"] == "Transient" and "stalled" in run.report["failure"]["message"]
    assert len(_body_ranges(hub)) == 1 + 5, "the first shard, then the retry budget (5 attempts), never renewed"
