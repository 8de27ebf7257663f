"""The stand-in is a hub the real huggingface_hub client accepts: its own info, tree and download calls work."""

from __future__ import annotations

import hashlib

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

from conftest import TOKEN


@pytest.fixture
def repo(hub):
    r = hub.add("org/tiny")
    files = {"config.json": b'{"a": 1}', "model.safetensors": bytes(range(256)) * 40}
    r.commit(files)
    return r, files


def test_model_info_with_file_metadata(hub, repo):
    r, files = repo
    info = HfApi(endpoint=hub.endpoint).model_info("org/tiny", revision="main", files_metadata=True)
    assert info.sha == r.refs["main"]
    by_name = {s.rfilename: s for s in info.siblings}
    assert by_name["model.safetensors"].lfs.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()
    assert by_name["config.json"].size == len(files["config.json"]) and by_name["config.json"].lfs is None


def test_list_repo_tree(hub, repo):
    r, files = repo
    tree = list(HfApi(endpoint=hub.endpoint).list_repo_tree("org/tiny", revision=r.refs["main"], recursive=True))
    assert sorted(f.path for f in tree) == sorted(files)
    assert {f.path: f.size for f in tree} == {p: len(d) for p, d in files.items()}


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_hf_hub_download_fetches_regular_and_redirected_lfs_files(hub, repo, tmp_path, name):
    r, files = repo
    path = hf_hub_download("org/tiny", name, revision="main", cache_dir=tmp_path, endpoint=hub.endpoint)
    assert open(path, "rb").read() == files[name]
    if name.endswith(".safetensors"):
        assert any(q["host"] == "lfs" for q in hub.requests), "LFS files are served by the second host"


def test_client_errors_for_missing_repo_revision_and_gated(hub, repo, tmp_path):
    api = HfApi(endpoint=hub.endpoint)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org/missing")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("org/tiny", revision="no-such-branch")
    gated = hub.add("org/gated", gated=True)
    gated.commit({"model.safetensors": b"x" * 2048})
    assert api.model_info("org/gated", files_metadata=True).sha == gated.refs["main"]  # metadata is public
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated", "model.safetensors", cache_dir=tmp_path, endpoint=hub.endpoint, token=False)
    hub.tokens.add(TOKEN)
    path = hf_hub_download("org/gated", "model.safetensors", cache_dir=tmp_path / "t", endpoint=hub.endpoint, token=TOKEN)
    assert open(path, "rb").read() == b"x" * 2048
