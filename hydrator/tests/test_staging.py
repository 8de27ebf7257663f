"""Staging a commit: what lands on the claim, which commit, and how failures end (hydrator.md §1–§3)."""

from __future__ import annotations

import hashlib
import os

import pytest

from helpers import MiB, assert_staged, model_files, rev_dir

REPO = "org/model"


@pytest.fixture
def model(hub):
    repo = hub.add(REPO)
    files = model_files(1)
    commit = repo.commit(files)
    return repo, files, commit


def test_first_staging_puts_the_commits_verified_bytes_in_its_directory(env, hub, model):
    repo, files, commit = model
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 0, run.why
    name = assert_staged(env.root, REPO, commit, files)
    assert run.report["phase"] == "Complete" and run.report["commit"] == commit and run.report["dir"] == name
    assert run.report["doneBytes"] == run.report["totalBytes"] == sum(len(v) for v in files.values())
    assert run.report["files"] == run.report["filesDone"] == run.report["verifiedFiles"] == len(files)
    assert run.report["source"] == f"hf://{REPO}"
    leftovers = {p.name for p in (env.root / name).iterdir()} - {"config.json", "tokenizer"} - {
        p for p in files
    }
    assert leftovers == {".modelcache-complete", ".modelcache-manifest.json", ".modelcache-epoch", ".modelcache-lock"}
    # The lease is gone after the run; LFS files were fetched by commit, from the second host.
    assert not (env.root / name / ".modelcache-active").exists()
    assert any(r["host"] == "lfs" for r in hub.requests)
    assert all(commit in r["path"] for r in hub.requests if "/resolve/" in r["path"])


def test_source_is_used_verbatim_for_the_directory(env, hub, model):
    repo, files, commit = model
    run = env.run(MODELCACHE_SOURCE="hf://ORG/Model@main")  # ids are case-insensitive on the hub
    assert run.code == 0, run.why
    assert run.report["dir"] == rev_dir("ORG/Model", commit)
    assert (env.root / rev_dir("ORG/Model", commit) / ".modelcache-complete").read_text() == f"hf://ORG/Model@{commit}"


def test_pinned_commit_wins_over_a_branch_that_moved(env, hub, model):
    repo, files, first = model
    moved = repo.commit(model_files(2))
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}@main", MODELCACHE_COMMIT=first)
    assert run.code == 0, run.why
    assert run.report["commit"] == first
    assert_staged(env.root, REPO, first, files)
    assert not (env.root / rev_dir(REPO, moved)).exists()


def test_pinned_commit_gone_from_the_hub_is_source_changed(env, hub, model):
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}@main", MODELCACHE_COMMIT="0" * 40)
    assert run.code == 10
    assert run.report["failure"]["reason"] == "SourceChanged"


def test_branch_moved_between_two_runs_gets_a_second_directory_and_the_first_is_untouched(env, hub, model):
    repo, files, first = model
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}@main").code == 0
    first_dir = env.root / rev_dir(REPO, first)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in first_dir.rglob("*") if p.is_file()}
    moved_files = model_files(2)
    moved = repo.commit(moved_files)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}@main", MODELCACHE_KEEP=first_dir.name)
    assert run.code == 0, run.why
    assert run.report["commit"] == moved and run.report["dir"] != first_dir.name
    assert_staged(env.root, REPO, moved, moved_files)
    assert first_dir.is_dir(), "the kept (serving) revision was pruned"
    assert_staged(env.root, REPO, first, files)
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in first_dir.rglob("*") if p.is_file()}
    changed = {p for p in before if before[p] != after.get(p)} - {first_dir / ".modelcache-lock"}
    assert changed == set(), "the first revision's directory was rewritten"


def test_rerun_on_a_staged_revision_fetches_nothing_but_still_probes_access(env, hub, model):
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}").code == 0
    hub.reset_counters()
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 0 and run.report["phase"] == "Complete"
    assert run.report["doneBytes"] == run.report["totalBytes"]
    probes = [r for r in hub.requests if r["range"] == "bytes=0-0"]
    assert probes, "a staged revision still probes access"
    assert sum(hub.served.values()) <= 1


@pytest.mark.parametrize("times,code", [(1, 0), (2, 12)])
def test_a_corrupted_file_is_fetched_again_once_then_fails_with_exit_12(env, hub, model, times, code):
    repo, files, commit = model
    hub.corrupt["model-00002-of-00002.safetensors"] = times
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == code, run.why
    name = rev_dir(REPO, commit)
    if code == 0:
        assert_staged(env.root, REPO, commit, files)
        assert any("did not match" in w for w in run.report.get("warnings", []))
    else:
        assert run.report["phase"] == "Failed"
        assert run.report["failure"]["reason"] == "ChecksumMismatch" and run.report["failure"]["code"] == 12
        assert "model-00002-of-00002.safetensors" in run.report["failure"]["message"]
        assert not (env.root / name / ".modelcache-complete").exists()
        assert not (env.root / name / "model-00002-of-00002.safetensors").exists()


def test_a_corrupted_git_file_is_caught_by_its_blob_id(env, hub, model):
    hub.corrupt["config.json"] = 2
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 12 and run.report["failure"]["reason"] == "ChecksumMismatch"
    assert "git blob SHA-1" in run.report["failure"]["message"]


def test_not_enough_space_fails_before_any_byte_with_the_figures(env, hub, model):
    repo, files, commit = model
    total = sum(len(v) for v in files.values())
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_CLAIM_BYTES=total - 1)
    assert run.code == 11, run.why
    assert run.report["failure"]["reason"] == "DoesNotFit"
    message = run.report["failure"]["message"]
    assert "needs 5.0 MiB" in message and "free of 5.0 MiB" in message, message
    assert sum(hub.served.values()) <= 1, "only the one-byte access probe"
    assert not [p for p in env.root.rglob("*") if p.is_file() and not p.name.startswith(".modelcache-")]


def test_space_counts_what_the_claim_already_holds(env, hub, model):
    repo, files, commit = model
    total = sum(len(v) for v in files.values())
    other = env.root / "rev-000000000000"
    other.mkdir()
    (other / "weights").write_bytes(b"\0" * MiB)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}", MODELCACHE_CLAIM_BYTES=total + MiB // 2, MODELCACHE_KEEP=other.name)
    assert run.code == 11 and run.report["failure"]["reason"] == "DoesNotFit"


def test_missing_repo_and_revision_are_not_found(env, hub, model):
    for source in ("hf://org/missing", f"hf://{REPO}@no-such-branch"):
        run = env.run(MODELCACHE_SOURCE=source)
        assert run.code == 10, (source, run.why)
        assert run.report["failure"]["reason"] == "NotFound"


def test_private_repo_without_access_is_not_found(env, hub):
    hub.add("org/private", private=True).commit(model_files(3))
    run = env.run(MODELCACHE_SOURCE="hf://org/private")
    assert run.code == 10 and run.report["failure"]["reason"] == "NotFound"


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"MODELCACHE_SOURCE": None}, "MODELCACHE_SOURCE"),
        ({"MODELCACHE_SOURCE": "s3://bucket//model"}, "MODELCACHE_SOURCE"),
        ({"MODELCACHE_SOURCE": "hf://org/a/b"}, "MODELCACHE_SOURCE"),
        ({"MODELCACHE_SOURCE": "hf://org/m@bad rev"}, "MODELCACHE_SOURCE"),
        ({"MODELCACHE_COMMIT": "abc"}, "MODELCACHE_COMMIT"),
        ({"MODELCACHE_KEEP": "rev-ok ../etc"}, "MODELCACHE_KEEP"),
        ({"MODELCACHE_CLAIM_BYTES": None}, "MODELCACHE_CLAIM_BYTES"),
        ({"MODELCACHE_CLAIM_BYTES": "10Gi"}, "MODELCACHE_CLAIM_BYTES"),
        ({"MODELCACHE_EPOCH": "1.x"}, "MODELCACHE_EPOCH"),
    ],
)
def test_bad_input_exits_2_with_a_bad_input_report_naming_the_variable(env, hub, model, overrides, field):
    run = env.run(**{"MODELCACHE_SOURCE": f"hf://{REPO}", **overrides})
    assert run.code == 2
    assert run.report["phase"] == "Failed" and run.report["failure"]["reason"] == "BadInput"
    assert field in run.report["failure"]["message"]
    assert hub.requests == [], "no request on bad input"


def test_revision_with_slashes_is_accepted(env, hub, model):
    repo, files, commit = model
    repo.refs["refs/tags/v1"] = commit
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}@refs/tags/v1")
    assert run.code == 0, run.why
    assert run.report["dir"] == rev_dir(REPO, commit)


def test_unsafe_paths_from_the_hub_are_refused(env, hub):
    repo = hub.add("org/evil")
    repo.commit({"config.json": b"{}", ".modelcache-complete": b"hf://x"})
    run = env.run(MODELCACHE_SOURCE="hf://org/evil")
    assert run.code == 10 and run.report["failure"]["reason"] == "UnsafePath"


def test_a_commit_of_more_files_than_the_limit_is_refused(env, hub):
    """100,001 files (the limit is 100,000 per source): exit 10 naming the limit, nothing fetched."""
    hub.add("org/huge").commit({f"shards/{i:06d}.txt": b"" for i in range(100_001)})
    run = env.run(MODELCACHE_SOURCE="hf://org/huge")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotAnArtifact"
    assert "more than 100,000 files" in run.report["failure"]["message"]
    assert not [r for r in hub.requests if "/resolve/" in r.get("path", "")]
    assert not list(env.root.iterdir())


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_model_info_over_64_mib_is_refused_without_reading_it_whole(env, hub, model, chunked):
    hub.info_padding, hub.info_chunked = 65 << 20, chunked
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotAnArtifact"
    assert "over 64 MiB" in run.report["failure"]["message"]


def test_hashes_in_the_manifest_are_the_hubs(env, hub, model):
    repo, files, commit = model
    assert env.run(MODELCACHE_SOURCE=f"hf://{REPO}").code == 0
    import json

    manifest = json.loads((env.root / rev_dir(REPO, commit) / ".modelcache-manifest.json").read_text())
    lfs = {f["path"]: f["sha256"] for f in manifest["files"] if "sha256" in f}
    assert lfs == {
        p: hashlib.sha256(d).hexdigest() for p, d in files.items() if p.endswith(".safetensors")
    }
    assert os.path.exists(env.root / rev_dir(REPO, commit) / ".modelcache-epoch")


def test_transient_errors_are_retried_in_the_program_and_a_dropped_connection_resumes(env, hub, model):
    repo, files, commit = model
    big = "model-00002-of-00002.safetensors"
    hub.unavailable[big] = 2
    hub.drops["model-00001-of-00002.safetensors"] = 300_000
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 0, run.why
    assert_staged(env.root, REPO, commit, files)
    ranges = [r["range"] for r in hub.requests if r["host"] == "lfs"]
    assert "bytes=300000-" in ranges, "the dropped file continued where it stopped"
    assert hub.bytes_served("model-00001-of-00002.safetensors") == MiB + 1  # no byte twice (+ the probe)


def test_a_hub_that_stays_unavailable_is_transient_exit_1(env, hub, model):
    hub.unavailable["model-00002-of-00002.safetensors"] = 1000
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 1 and run.report["failure"]["reason"] == "Transient"
    assert "503" in run.report["failure"]["message"]


def test_a_directory_with_a_foreign_marker_and_a_corrupt_file_is_repaired(env, hub, model):
    repo, files, commit = model
    d = env.root / rev_dir(REPO, commit)
    d.mkdir()
    (d / ".modelcache-complete").write_text("hf://someone/else@main")
    (d / "config.json").write_bytes(b"tampered")
    (d / "model-00001-of-00002.safetensors").write_bytes(files["model-00001-of-00002.safetensors"])
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 0, run.why
    assert_staged(env.root, REPO, commit, files)
    # The shard already in place and matching the hub's hash was verified, not fetched.
    assert hub.bytes_served("model-00001-of-00002.safetensors") <= 1


def test_a_server_that_ignores_the_range_sends_the_whole_file_again(env, hub, model):
    """A resume answered 200 (the range ignored) starts the file over from that body, and still verifies."""
    repo, files, commit = model
    big = "model-00002-of-00002.safetensors"
    hub.drops[big] = 300_000
    hub.ignore_range.add(big)
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 0, run.why
    assert_staged(env.root, REPO, commit, files)
    assert "bytes=300000-" in [r["range"] for r in hub.requests if r["host"] == "lfs"]
    assert hub.bytes_served(big) == 300_000 + len(files[big])  # the cut, then the whole file


def test_a_body_longer_than_the_listed_size_fails_verification(env, hub, model):
    repo, files, commit = model
    hub.longer["model-00002-of-00002.safetensors"] = 10
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 12, run.why
    assert run.report["failure"]["reason"] == "ChecksumMismatch"


def test_a_model_info_trickling_in_is_transient_at_its_deadline(hub, model, monkeypatch):
    """A hub sending a byte at a time, each within the read timeout, must not hold the Job until its deadline: the
    model info has MODEL_INFO_SECONDS to arrive (shortened here), then a transient failure."""
    import time

    from huggingface_hub import HfApi

    from modelcache_hydrator import hub as hub_source
    from modelcache_hydrator.failure import HydrationFailure

    hub.info_trickle = 0.05
    # raising=False: the test runs (and fails) on code without the deadline too.
    monkeypatch.setattr(hub_source, "MODEL_INFO_SECONDS", 1.0, raising=False)
    started = time.monotonic()
    with pytest.raises(HydrationFailure) as info:
        hub_source.model_info(HfApi(endpoint=hub.endpoint), REPO, None)
    assert info.value.reason == "Transient" and "did not arrive within 1 s" in info.value.message
    assert time.monotonic() - started < 10
