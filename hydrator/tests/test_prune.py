"""Pruning after success (hydrator.md §3): kept, live, and newer-epoch directories stay; the rest goes."""

from __future__ import annotations

import os
import time

import pytest

from helpers import MiB, assert_staged, model_files, rev_dir

REPO = "org/model"


def make_dir(root, name, epoch=None, generation=None, lease_age=None, complete=True, size=1024):
    d = root / name
    d.mkdir()
    (d / "weights.bin").write_bytes(b"\0" * size)
    if complete:
        (d / ".modelcache-complete").write_text(f"hf://other/{name}")
    if epoch is not None:
        (d / ".modelcache-epoch").write_text(epoch)
    if generation is not None:
        (d / ".modelcache-generation").write_text(generation)
    if lease_age is not None:
        lease = d / ".modelcache-active"
        lease.write_text('{"job": "other", "pod": "other-pod"}')
        t = time.time() - lease_age
        os.utime(lease, (t, t))
    return d


def populate(r):
    """Fills a claim with directories of every kind, for a run at epoch 2.9."""
    make_dir(r, "rev-kept000001", epoch="1.0")
    make_dir(r, "rev-live000001", epoch="0.0", lease_age=10)
    make_dir(r, "rev-stale00001", epoch="0.0", lease_age=600)
    make_dir(r, "rev-newer00001", epoch="2.10")  # compared as integers: 2.10 > 2.9
    make_dir(r, "rev-older00001", epoch="2.1")
    make_dir(r, "rev-equal00001", epoch="2.9")
    make_dir(r, "rev-oldgen0001", generation="2")  # the previous release's file: 2.0
    make_dir(r, "rev-newgen0001", generation="3")  # 3.0 is newer than 2.9
    make_dir(r, "rev-noepoch001", complete=False)  # an abandoned partial directory, epoch 0.0
    make_dir(r, "rev-badepoch01", epoch="garbage")
    (r / "lost+found").mkdir()
    return {"MODELCACHE_EPOCH": "2.9", "MODELCACHE_KEEP": "rev-kept000001 rev-notthere01"}


@pytest.fixture
def claim(env):
    return populate(env.root)


KEPT = {"rev-kept000001", "rev-live000001", "rev-newer00001", "rev-newgen0001", "lost+found"}
REMOVED = {"rev-stale00001", "rev-older00001", "rev-equal00001", "rev-oldgen0001", "rev-noepoch001", "rev-badepoch01"}


def test_success_prunes_all_but_own_kept_live_and_newer(env, hub, claim):
    repo = hub.add(REPO)
    files = model_files(1)
    commit = repo.commit(files)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **claim)
    assert run.code == 0, run.why
    own = assert_staged(env.root, REPO, commit, files)
    assert {p.name for p in env.root.iterdir()} == KEPT | {own}
    assert (env.root / own / ".modelcache-epoch").read_text() == "2.9"


def test_a_failed_run_prunes_nothing(env, hub, claim):
    hub.add(REPO, gated=True).commit(model_files(1))
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **claim)
    assert run.code == 10
    assert {p.name for p in env.root.iterdir()} == KEPT | REMOVED


def test_a_rerun_on_a_staged_revision_prunes_too(env, hub):
    repo = hub.add(REPO)
    commit = repo.commit(model_files(1))
    # Staged first on a bare claim of its own, then the claim gains the other directories.
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_EPOCH="2.9").code == 0
    claim = populate(env.root)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", **claim)
    assert run.code == 0
    assert {p.name for p in env.root.iterdir()} == KEPT | {rev_dir(REPO, commit)}


def test_refresh_then_source_change_on_a_claim_sized_for_two_revisions(env, hub):
    size = 4 * MiB
    a = hub.add("org/a")
    a_files = model_files(1, big=size)
    first = a.commit(a_files)
    b = hub.add("org/b")
    b_files = model_files(2, big=size)
    b_commit = b.commit(b_files)
    one = sum(len(v) for v in a_files.values())
    claim = int(2.5 * one)  # room for two revisions, not three
    common = {"MODELCACHE_CLAIM_BYTES": claim}
    assert env.run(MODELCACHE_SOURCE="hf://org/a", MODELCACHE_EPOCH="1.0", **common).code == 0
    d1 = rev_dir("org/a", first)
    # A refresh moves the pin: the serving revision is kept while the new one stages beside it.
    refreshed_files = model_files(3, big=size)
    refreshed = a.commit(refreshed_files)
    run = env.run(MODELCACHE_SOURCE="hf://org/a", MODELCACHE_EPOCH="1.1", MODELCACHE_KEEP=d1, **common)
    assert run.code == 0, run.why
    d2 = rev_dir("org/a", refreshed)
    assert {p.name for p in env.root.iterdir()} == {d1, d2}
    # The source changes; the claim serves d2. d1 (older epoch, not kept) makes room for the new source.
    run = env.run(MODELCACHE_SOURCE="hf://org/b", MODELCACHE_EPOCH="2.2", MODELCACHE_KEEP=d2, **common)
    assert run.code == 0, run.why
    assert {p.name for p in env.root.iterdir()} == {d2, rev_dir("org/b", b_commit)}
    assert_staged(env.root, "org/b", b_commit, b_files)
    assert_staged(env.root, "org/a", refreshed, refreshed_files)


def test_no_room_even_after_pruning_fails_and_removes_nothing(env, hub):
    a = hub.add("org/a")
    files = model_files(1, big=4 * MiB)
    commit = a.commit(files)
    one = sum(len(v) for v in files.values())
    make_dir(env.root, "rev-serving0001", epoch="1.0", size=one)
    make_dir(env.root, "rev-mounted0001", epoch="1.0", size=one)
    keep = "rev-serving0001 rev-mounted0001"
    run = env.run(MODELCACHE_SOURCE="hf://org/a", MODELCACHE_EPOCH="2.0", MODELCACHE_KEEP=keep, MODELCACHE_CLAIM_BYTES=int(2.5 * one))
    assert run.code == 11 and run.report["failure"]["reason"] == "DoesNotFit"
    assert {"rev-serving0001", "rev-mounted0001"} <= {p.name for p in env.root.iterdir()}
    assert not (env.root / rev_dir("org/a", commit) / ".modelcache-complete").exists()
