"""Resolving the source to one commit and listing its files with their hashes (hydrator.md §2, §3)."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

from .failure import EXIT_NOT_FOUND, HydrationFailure, classify
from .inputs import Inputs

# Files of ours beside the weights; a repository file may not take these names.
RESERVED_PREFIX = ".modelcache-"


@dataclass(frozen=True)
class RemoteFile:
    """One file of the commit: its path, size, and the hash the hub publishes for it."""

    path: str
    size: int
    sha256: str | None  # LFS files
    git_sha1: str | None  # every other file: the git blob id

    @property
    def lfs(self) -> bool:
        """Whether the file is stored with LFS (verified by SHA-256)."""
        return self.sha256 is not None

    def manifest_entry(self) -> dict:
        """The file's entry in `.modelcache-manifest.json`."""
        entry: dict = {"path": self.path, "size": self.size}
        if self.sha256:
            entry["sha256"] = self.sha256
        else:
            entry["gitSha1"] = self.git_sha1
        return entry


@dataclass(frozen=True)
class Resolved:
    """The commit the source resolved to and its files, sorted by path."""

    commit: str
    files: tuple[RemoteFile, ...]

    @property
    def total_bytes(self) -> int:
        """The sum of the files' sizes."""
        return sum(f.size for f in self.files)


def directory_name(staged: str) -> str:
    """The revision directory of a staged identity: `rev-` and 12 hex of its SHA-256."""
    return "rev-" + hashlib.sha256(staged.encode()).hexdigest()[:12]


def resolve(api, inputs: Inputs) -> Resolved:
    """Resolves the source (or the pinned commit) with one model-info call carrying file metadata."""
    revision = inputs.commit or inputs.revision
    what = f"resolving {inputs.source[:300]}" + (f" at the pinned commit {inputs.commit}" if inputs.commit else "")
    try:
        info = api.model_info(inputs.repo, revision=revision, files_metadata=True, timeout=60)
    except Exception as exc:  # classified by type and status below
        failure = classify(exc, what)
        from huggingface_hub import errors as hub

        if inputs.commit and isinstance(exc, hub.RevisionNotFoundError):
            raise HydrationFailure(
                EXIT_NOT_FOUND, "SourceChanged", f"{what}: the pinned commit is no longer on the hub"
            ) from None
        raise failure from None
    commit = info.sha
    if not isinstance(commit, str) or len(commit) != 40:
        raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: the hub returned no commit")
    if inputs.commit and commit != inputs.commit:
        raise HydrationFailure(
            EXIT_NOT_FOUND, "SourceChanged", f"{what}: the hub answered with commit {commit[:40]}"
        )
    return Resolved(commit=commit, files=_files(info.siblings, what))


def _files(siblings, what: str) -> tuple[RemoteFile, ...]:
    if not siblings:
        raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: the commit lists no files")
    files = []
    for s in siblings:
        check_path(s.rfilename, what)
        if not isinstance(s.size, int) or s.size < 0:
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: no size for {s.rfilename[:200]!r}")
        sha256 = s.lfs.sha256 if s.lfs else None
        if sha256 is None and not _is_hex(s.blob_id, 40):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: no hash for {s.rfilename[:200]!r}")
        if sha256 is not None and not _is_hex(sha256, 64):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: bad sha256 for {s.rfilename[:200]!r}")
        files.append(RemoteFile(s.rfilename, s.size, sha256, None if sha256 else s.blob_id))
    return tuple(sorted(files, key=lambda f: f.path))


def _is_hex(value, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and all(c in "0123456789abcdef" for c in value)


def check_path(path: str, what: str) -> None:
    """Rejects a repository path that could escape the revision directory or clash with our files."""
    parts = path.split("/") if isinstance(path, str) else [""]
    unsafe = (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\0" in path
        or any(p in ("", ".", "..") for p in parts)
        or posixpath.normpath(path) != path
        or parts[0].startswith(RESERVED_PREFIX)
        or any(ord(c) < 32 for c in path)
    )
    if unsafe:
        raise HydrationFailure(EXIT_NOT_FOUND, "UnsafePath", f"{what}: unsafe file path {str(path)[:200]!r}")
