"""What every kind of source resolves to: files with a size and a check, and the revision directory's name
(hydrator.md §2, §3; sources.md §1). Path safety for every kind lives here too."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from typing import Callable

from .failure import EXIT_NOT_FOUND, HydrationFailure

# Files of ours beside the weights; a source's file may not take these names.
RESERVED_PREFIX = ".modelcache-"
# What a file system holds (NAME_MAX) per path segment, and a whole relative path (PATH_MAX 4096 less the root, the
# revision directory and our working folders), in UTF-8 bytes: a longer name fails every run the same way.
NAME_MAX_BYTES = 255
PATH_MAX_BYTES = 3072
# At most this many files in one source (a hub commit, an S3 listing, one archive layer's entries). Model repositories
# hold tens to thousands; every listed file costs about a kilobyte of memory here, so a broken or hostile listing of
# millions would exhaust the pod before a byte is staged. More is exit 10 `NotAnArtifact`, naming the limit.
MAX_FILES = 100_000
# At most this many bytes in one listing answer the hydrator reads itself (the hub's model info with every file's
# metadata: 100,000 files at ~300 bytes each take about 30 MiB).
MAX_LISTING_BYTES = 64 << 20


@dataclass(frozen=True)
class Check:
    """How a file is verified when it is not a Hugging Face file: a hasher, the value it must produce,
    the name people read in messages (`SHA-256`, `CRC32C`, `size only`) and the manifest key."""

    name: str
    expected: str
    manifest_key: str
    new: Callable[[], object] = hashlib.sha256  # an object with update(bytes) and hexdigest() -> str


@dataclass(frozen=True)
class RemoteFile:
    """One file of the resolved revision: its path in the revision directory, its size and how it is verified.

    Hugging Face files carry the hub's `sha256` (LFS) or `git_sha1` (the git blob id); other kinds a `check`.
    `locator` is what the source fetches it by (an S3 key, a layer digest; the path when empty), `unpack`
    marks an archive extracted at the revision root (sources.md §1), whose files take `disk_size` bytes."""

    path: str
    size: int
    sha256: str | None = None
    git_sha1: str | None = None
    check: Check | None = None
    locator: str = ""
    unpack: bool = False
    disk_size: int | None = None

    @property
    def lfs(self) -> bool:
        """Whether the file is a Hugging Face LFS file (verified by SHA-256)."""
        return self.sha256 is not None

    @property
    def expected(self) -> str:
        """The value the file's hasher must produce."""
        if self.check is not None:
            return self.check.expected
        return self.sha256 if self.sha256 is not None else self.git_sha1  # type: ignore[return-value]

    @property
    def check_name(self) -> str:
        """How the file is verified, as people read it."""
        if self.check is not None:
            return self.check.name
        return "SHA-256" if self.lfs else "git blob SHA-1"

    @property
    def space(self) -> int:
        """The bytes the file takes on the claim once placed."""
        return self.size if self.disk_size is None else self.disk_size

    def new_hasher(self):
        """A fresh hasher for the file's bytes."""
        if self.check is not None:
            return self.check.new()
        if self.lfs:
            return hashlib.sha256()
        hasher = hashlib.sha1()
        hasher.update(b"blob %d\0" % self.size)
        return hasher

    def manifest_entry(self) -> dict:
        """The file's entry in `.modelcache-manifest.json`."""
        entry: dict = {"path": self.path, "size": self.size}
        if self.check is not None:
            entry[self.check.manifest_key] = self.check.expected
        elif self.sha256:
            entry["sha256"] = self.sha256
        else:
            entry["gitSha1"] = self.git_sha1
        return entry


@dataclass(frozen=True)
class Resolved:
    """The pin the source resolved to (`commit`) and its files, sorted by path."""

    commit: str
    files: tuple[RemoteFile, ...]
    warnings: tuple[str, ...] = ()

    @property
    def total_bytes(self) -> int:
        """The bytes to transfer: the sum of the files' sizes."""
        return sum(f.size for f in self.files)

    @property
    def space_bytes(self) -> int:
        """The bytes the revision takes on the claim (archives counted unpacked)."""
        return sum(f.space for f in self.files)


def too_many_files(what: str, noun: str = "files") -> HydrationFailure:
    """Exit 10 `NotAnArtifact`: the source holds more than MAX_FILES files (`noun`: objects, archive entries)."""
    return HydrationFailure(
        EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: more than {MAX_FILES:,} {noun}, the hydrator's limit for one source"
    )


def directory_name(staged: str) -> str:
    """The revision directory of a staged identity: `rev-` and 12 hex of its SHA-256."""
    return "rev-" + hashlib.sha256(staged.encode()).hexdigest()[:12]


def check_path(path: str, what: str) -> None:
    """Rejects a relative path (a repository file, an S3 key, an annotation, a tar entry) that could escape
    the revision directory or clash with our files: exit 10, reason `UnsafePath`."""
    if not is_safe_path(path):
        raise HydrationFailure(EXIT_NOT_FOUND, "UnsafePath", f"{what}: unsafe file path {str(path)[:200]!r}")


def is_safe_path(path: object, on_disk: bool = True) -> bool:
    """Whether `path` is a normalised relative path: no leading `/`, `..`, `.`, empty segments, backslashes,
    control characters, and not one of our own `.modelcache-*` names at the root; valid UTF-8 text (no surrogate: a
    tar name that is not UTF-8, a JSON escape of half a character) a file system can hold (segments of at most 255
    bytes, the path at most 3,072; `on_disk=False`, for an S3 prefix, which names no file, leaves the lengths out)."""
    if not isinstance(path, str) or not path:
        return False
    parts = path.split("/")
    return not (
        path.startswith("/")
        or "\\" in path
        or any(p in ("", ".", "..") for p in parts)
        or posixpath.normpath(path) != path
        or parts[0].startswith(RESERVED_PREFIX)
        or any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in path)
        or (on_disk and len(path.encode()) > PATH_MAX_BYTES)
        or (on_disk and any(len(p.encode()) > NAME_MAX_BYTES for p in parts))
    )


def check_unique(paths, what: str) -> None:
    """Rejects two entries that land on one path, or a file that is also another's directory (`UnsafePath`)."""
    seen: set[str] = set()
    dirs: set[str] = set()
    for path in paths:
        if path in seen or path in dirs:
            raise HydrationFailure(EXIT_NOT_FOUND, "UnsafePath", f"{what}: {path[:200]!r} collides with another entry")
        seen.add(path)
        parts = path.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    if seen & dirs:
        clash = sorted(seen & dirs)[0]
        raise HydrationFailure(EXIT_NOT_FOUND, "UnsafePath", f"{what}: {clash[:200]!r} collides with another entry")
