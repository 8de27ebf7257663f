#!/usr/bin/env python3
"""Proves that the real huggingface_hub client accepts the benchmark's static hub.

Against the nginx of bench/hydrator.sh: model info by branch and by commit
(with file metadata), the recursive tree listing, the file metadata (HEAD of
resolve/<commit>/<path>: ETag, X-Repo-Commit, X-Linked-Size, X-Linked-Etag,
the LFS redirect to the second host) of every file, and hf_hub_download of
every small file and the smallest LFS file, each checked against the
generator's meta.json. Exits non-zero at the first difference.
Usage: hubcheck.py ENDPOINT META_JSON WORK_DIR
"""

import hashlib
import json
import os
import sys

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")

from huggingface_hub import HfApi, __version__, get_hf_file_metadata, hf_hub_download, hf_hub_url  # noqa: E402


def check(cond: bool, what: str) -> None:
    """Fails the check with `what` unless `cond`."""
    if not cond:
        sys.exit(f"hubcheck: FAILED: {what}")


def main() -> None:
    endpoint, meta_path, work = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(meta_path) as f:
        meta = json.load(f)
    repo, commit = meta["repo"], meta["commit"]
    want = {f["path"]: f for f in meta["files"]}
    api = HfApi(endpoint=endpoint, token=False)
    for revision in ("main", commit, None):
        info = api.model_info(repo, revision=revision, files_metadata=True)
        check(info.sha == commit, f"model_info({revision}).sha {info.sha} != {commit}")
        got = {s.rfilename: s for s in info.siblings}
        check(set(got) == set(want), f"model_info siblings {sorted(got)}")
        for path, s in got.items():
            w = want[path]
            check(s.size == w["size"] and s.blob_id == w["blobId"], f"sibling {path}")
            check((s.lfs.sha256 if s.lfs else None) == w["sha256"], f"sibling {path} lfs")
    tree = list(api.list_repo_tree(repo, revision=commit, recursive=True))
    check({t.path: (t.size, t.blob_id, t.lfs.sha256 if t.lfs else None) for t in tree}
          == {p: (w["size"], w["blobId"], w["sha256"]) for p, w in want.items()}, "list_repo_tree")
    for path, w in want.items():
        m = get_hf_file_metadata(hf_hub_url(repo, path, revision=commit, endpoint=endpoint), token=False)
        check(m.commit_hash == commit, f"{path}: X-Repo-Commit {m.commit_hash}")
        check(m.etag == (w["sha256"] or w["blobId"]), f"{path}: etag {m.etag}")
        check(m.size == w["size"], f"{path}: size {m.size}")
        if w["sha256"]:
            check(m.location.endswith("/lfs/" + w["sha256"]), f"{path}: LFS redirect {m.location}")
    smallest_lfs = min((w for w in want.values() if w["sha256"]), key=lambda w: w["size"])
    fetch = [w for w in want.values() if not w["sha256"]] + [smallest_lfs]
    for w in fetch:
        local = hf_hub_download(repo, w["path"], revision=commit, endpoint=endpoint, token=False,
                                cache_dir=os.path.join(work, "hf-cache"))
        with open(local, "rb") as f:
            data = f.read()
        check(len(data) == w["size"], f"download {w['path']}: size")
        if w["sha256"]:
            check(hashlib.sha256(data).hexdigest() == w["sha256"], f"download {w['path']}: sha256")
        else:
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            check(blob == w["blobId"], f"download {w['path']}: blob id")
    print(f"hubcheck: huggingface_hub {__version__} accepts the static hub: model_info (main, commit, default), "
          f"list_repo_tree, file metadata of {len(want)} files, hf_hub_download of {len(fetch)}")


if __name__ == "__main__":
    main()
