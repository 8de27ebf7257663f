#!/usr/bin/env python3
"""Generates the synthetic repo of the hydrator benchmark (bench/hydrator.sh).

A 2 GiB model repo (eight 256 MiB LFS shards and a few small files) laid out
so that a static server (nginx, bench/hydrator/nginx.conf.in) answers what
huggingface_hub and the hydrator ask the hub:

    OUT/files/<path>          the bytes, served by resolve/<rev>/<path>
    OUT/lfs/<sha256>          hard links to the LFS files (the "CDN" host)
    OUT/api/info.json         GET /api/models/<repo>[/revision/<rev>] (with blobs)
    OUT/api/tree.json         GET /api/models/<repo>/tree/<rev>?recursive=...
    OUT/api/paths-info.json   POST /api/models/<repo>/paths-info/<rev>
    OUT/nginx-maps.conf       per-file headers: ETag, X-Linked-Size, X-Linked-Etag
    OUT/files.txt             one path a line, in download order
    OUT/meta.json             repo id, commit, sizes, hashes (the reuse stamp)

Standard library only; the content is pseudo-random (incompressible), hashed
while it is written. Usage: genrepo.py OUT REPO_ID [SHARD_MIB] [SHARDS]
"""

import hashlib
import json
import os
import random
import sys

CHUNK = 8 << 20


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of `data` (what the hub reports as `oid`/`blobId`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def write_random(path: str, size: int, rng: random.Random) -> str:
    """Writes `size` pseudo-random bytes to `path`; returns their SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        left = size
        while left:
            block = rng.randbytes(min(CHUNK, left))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest.hexdigest()


def small_files(shards: int, shard_bytes: int) -> dict:
    """The small files of a typical safetensors repo (stored in git, not LFS)."""
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    index = {
        "metadata": {"total_size": shards * shard_bytes},
        "weight_map": {f"layers.{i}.weight": name for i, name in enumerate(names)},
    }
    config = {"architectures": ["BenchForCausalLM"], "hidden_size": 4096, "num_hidden_layers": shards}
    return {
        ".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\ntokenizer.json filter=lfs diff=lfs merge=lfs -text\n",
        "README.md": b"# synthetic-2g\n\nPseudo-random bytes for the hydrator benchmark.\n",
        "config.json": json.dumps(config, indent=2).encode(),
        "generation_config.json": b'{"do_sample": false}\n',
        "model.safetensors.index.json": json.dumps(index, indent=2).encode(),
    }


def main() -> None:
    out, repo_id = sys.argv[1], sys.argv[2]
    shard_mib = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    shards = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    shard_bytes = shard_mib << 20
    rng = random.Random(24)
    for sub in ("files", "lfs", "api"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    entries = []  # (path, size, blob_id, sha256 or None)
    for name, data in small_files(shards, shard_bytes).items():
        with open(os.path.join(out, "files", name), "wb") as f:
            f.write(data)
        entries.append((name, len(data), git_blob_sha1(data), None))
    lfs_files = [("tokenizer.json", 3 << 20)]
    lfs_files += [(f"model-{i:05d}-of-{shards:05d}.safetensors", shard_bytes) for i in range(1, shards + 1)]
    for name, size in lfs_files:
        path = os.path.join(out, "files", name)
        sha = write_random(path, size, rng)
        link = os.path.join(out, "lfs", sha)
        if not os.path.exists(link):
            os.link(path, link)
        entries.append((name, size, git_blob_sha1(lfs_pointer(sha, size)), sha))
        print(f"genrepo: {name} {size} bytes sha256 {sha[:12]}", file=sys.stderr)
    commit = hashlib.sha1(json.dumps(entries).encode()).hexdigest()
    write_api(out, repo_id, commit, entries)
    write_maps(out, entries)
    with open(os.path.join(out, "files.txt"), "w") as f:
        f.writelines(name + "\n" for name, *_ in entries)
    meta = {
        "repo": repo_id,
        "commit": commit,
        "totalBytes": sum(size for _, size, _, _ in entries),
        "files": [{"path": p, "size": s, "blobId": b, "sha256": h} for p, s, b, h in entries],
    }
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


def write_api(out: str, repo_id: str, commit: str, entries: list) -> None:
    """The hub API's JSON: model info (with blobs), the tree listing, paths-info."""
    stamp = "2026-12-01T00:00:00.000Z"
    siblings, tree = [], []
    for path, size, blob, sha in entries:
        sibling = {"rfilename": path, "size": size, "blobId": blob}
        node = {"type": "file", "oid": blob, "size": size, "path": path}
        if sha:
            sibling["lfs"] = {"sha256": sha, "size": size, "pointerSize": len(lfs_pointer(sha, size))}
            node["lfs"] = {"oid": sha, "size": size, "pointerSize": len(lfs_pointer(sha, size))}
        siblings.append(sibling)
        tree.append(node)
    info = {
        "_id": "6750000000000000000000bb",
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/")[0],
        "sha": commit,
        "lastModified": stamp,
        "createdAt": stamp,
        "private": False,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "tags": ["safetensors"],
        "library_name": "transformers",
        "siblings": siblings,
        "usedStorage": sum(size for _, size, _, _ in entries),
    }
    for name, value in (("info.json", info), ("tree.json", tree), ("paths-info.json", tree)):
        with open(os.path.join(out, "api", name), "w") as f:
            json.dump(value, f)


def write_maps(out: str, entries: list) -> None:
    """nginx `map`s from a file's repo path to the headers the hub sends for it."""
    lines = ["map $hub_file $lfs_oid {\n    default \"\";\n"]
    lines += [f'    "{p}" "{h}";\n' for p, _, _, h in entries if h]
    lines += ["}\nmap $hub_file $lfs_size {\n    default \"\";\n"]
    lines += [f'    "{p}" "{s}";\n' for p, s, _, h in entries if h]
    lines += ["}\nmap $hub_file $lfs_etag {\n    default \"\";\n"]
    lines += [f'    "{p}" \'"{h}"\';\n' for p, _, _, h in entries if h]
    lines += ["}\nmap $hub_file $hub_etag {\n    default \"\";\n"]
    lines += [f'    "{p}" \'"{h or b}"\';\n' for p, _, b, h in entries]
    lines += ["}\n"]
    with open(os.path.join(out, "nginx-maps.conf"), "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
