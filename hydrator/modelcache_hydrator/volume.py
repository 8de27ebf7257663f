"""The volume source (sources.md §1): a claim someone else fills, checked, never written.

The check Job mounts the claim READ-ONLY at `MODELCACHE_ROOT` with the source's subPath applied. The
check finds the files there (none: exit 10 `NotFound`) and, when `.modelcache-manifest.json` is present,
verifies every file it lists (a manifest listing none verifies nothing: exit 10 `NotFound`, as an empty
claim): size and hash by the manifest's keys (`sha256`, `gitSha1` of the Hugging Face
source; `sha256`, `crc64nvme`, `crc32c`, `crc32`, `md5`, `sha256Composite`/`crc32cComposite`/`crc32Composite` with `parts` of the S3 source); a
mismatch is exit 12, a listed file missing exit 10, an entry with no key known here is checked by size
and named in a warning. It writes nothing on the claim: no lease, no epoch, no marker. The `Complete`
report carries the identity itself (`pvc://…`) as `commit`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys

from .failure import EXIT_CHECKSUM, EXIT_NOT_FOUND, HydrationFailure
from .files import RESERVED_PREFIX, check_path, check_unique
from .source import Source

MANIFEST_FILE = ".modelcache-manifest.json"
CHUNK = 8 << 20
MAX_MANIFEST_BYTES = 64 << 20


class _GitBlob:
    """The git blob SHA-1 of a file of known size."""

    def __init__(self, size: int):
        self.h = hashlib.sha1()
        self.h.update(b"blob %d\0" % size)

    def update(self, data) -> None:
        """Adds bytes."""
        self.h.update(data)

    def hexdigest(self) -> str:
        """The blob id."""
        return self.h.hexdigest()


def _hasher(entry: dict):
    """`(key, expected, new hasher)` for the first hash key of a manifest entry this check knows, or None."""
    from .s3 import COMPUTABLE, Composite, expand

    size = entry["size"]
    if isinstance(entry.get("sha256"), str):
        return "sha256", entry["sha256"], hashlib.sha256
    if isinstance(entry.get("gitSha1"), str):
        return "gitSha1", entry["gitSha1"], functools.partial(_GitBlob, size)
    if isinstance(entry.get("md5"), str):
        return "md5", entry["md5"], hashlib.md5
    for key, algorithm in (("crc64nvme", "CRC64NVME"), ("crc32c", "CRC32C"), ("crc32", "CRC32")):
        if isinstance(entry.get(key), str):
            return key, entry[key], COMPUTABLE[algorithm]
    for key, algorithm in (("sha256Composite", "SHA256"), ("crc32cComposite", "CRC32C"), ("crc32Composite", "CRC32")):
        if isinstance(entry.get(key), str):
            try:
                runs = tuple((int(s), int(n)) for s, n in entry.get("parts") or ())
            except (TypeError, ValueError):
                return None
            # At most S3's 10,000 parts, each of at least one byte, before the run lengths become a tuple of sizes.
            if any(s < 1 or n < 1 for s, n in runs) or sum(n for _, n in runs) > 10000:
                return None
            sizes = expand(runs)
            if not sizes or sum(sizes) != size:
                return None
            return key, entry[key], functools.partial(Composite, algorithm, sizes)
    return None


class VolumeSource(Source):
    """`pvc://<claim>[/<subPath>]`: the files must be there; a manifest, when present, is verified."""

    def run(self, reporter) -> int:
        """Checks the mounted claim and reports; returns 0, or raises the failure (exit 10 or 12)."""
        inputs = self.inputs
        root = inputs.root
        identity = inputs.source
        what = f"checking {identity[:300]}"
        count, total = _walk(root)  # files reached through a link leaving the root are not the claim's
        if count == 0:
            raise HydrationFailure(
                EXIT_NOT_FOUND, "NotFound", f"{what}: no files at the claim's {'subPath' if '/' in inputs.repo else 'root'}"
            )
        manifest = _read_manifest(root, os.path.join(root, MANIFEST_FILE), what)
        if manifest is None:
            print(f"hydrator: {identity[:300]} holds {count} files, no manifest to verify", file=sys.stderr)
            reporter.update(commit=identity, totalBytes=total, doneBytes=total, files=count, filesDone=count)
            reporter.finish("Complete")
            return 0
        entries = _entries(manifest, what)
        if not entries:  # nothing to verify: an empty claim, whatever else lies there
            raise HydrationFailure(
                EXIT_NOT_FOUND, "NotFound", f"{what}: no files listed in {MANIFEST_FILE}, nothing verified"
            )
        total = sum(e["size"] for e in entries)
        reporter.update(commit=identity, totalBytes=total, files=len(entries))
        reporter.phase("Verifying")
        unknown: list[str] = []
        done = 0
        for n, entry in enumerate(entries, 1):
            _verify(root, entry, what, unknown, lambda moved: reporter.set_done(done + moved))
            done += entry["size"]
            reporter.update(filesDone=n, verifiedFiles=n - len(unknown))
            reporter.set_done(done)
        if unknown:
            names = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            reporter.warn(f"{len(unknown)} files of the manifest have no hash this check knows; size checked only: {names}")
        print(f"hydrator: {identity[:300]}: {len(entries)} files match the manifest", file=sys.stderr)
        reporter.update(doneBytes=total)
        reporter.finish("Complete")
        return 0


def _inside(root: str, path: str) -> bool:
    """Whether `path`, every link on the way followed, stays under `root`: a link leaving the root resolves to another
    file in each pod (the check's image, a workload's), so what the check reads there proves nothing."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _walk(root: str) -> tuple[int, int]:
    """The regular files under root (symbolic links followed to files that stay under the root, our
    `.modelcache-*` files at the root not counted) and their bytes."""
    count = total = 0
    if not os.path.isdir(root):
        return 0, 0
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            if directory == root and name.startswith(RESERVED_PREFIX):
                continue
            path = os.path.join(directory, name)
            try:
                st = os.stat(path)
            except OSError:
                continue  # a dangling link
            if stat.S_ISREG(st.st_mode) and (not os.path.islink(path) or _inside(root, path)):
                count += 1
                total += st.st_size
    return count, total


def _read_manifest(root: str, path: str, what: str) -> dict | None:
    """The manifest, None without one; one that is not a regular file under the root is refused (a directory is
    not a transient failure, and a FIFO must not block the read until the Job's deadline)."""
    if not os.path.lexists(path):
        return None
    if not _inside(root, path):
        raise HydrationFailure(EXIT_NOT_FOUND, "UnsafePath", f"{what}: {MANIFEST_FILE} is a link leaving the root")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return None  # a dangling link
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: {MANIFEST_FILE} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    finally:
        os.close(fd)
    try:
        if len(data) > MAX_MANIFEST_BYTES:
            raise ValueError("too large")
        manifest = json.loads(data)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ValueError("no files")
    except ValueError:
        raise HydrationFailure(
            EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: {MANIFEST_FILE} is not a manifest ({{version, files: [...]}})"
        ) from None
    return manifest


def _entries(manifest: dict, what: str) -> list[dict]:
    entries = []
    for e in manifest["files"]:
        if not isinstance(e, dict) or not isinstance(e.get("size"), int) or e["size"] < 0:
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: {MANIFEST_FILE} has an entry without path and size")
        check_path(e.get("path"), what)
        entries.append(e)
    check_unique([e["path"] for e in entries], what)
    return entries


def _verify(root: str, entry: dict, what: str, unknown: list[str], progress) -> None:
    """One listed file: present (else exit 10), its size and hash (else exit 12)."""
    path, size = entry["path"], entry["size"]
    full = os.path.join(root, path)
    if os.path.lexists(full) and not _inside(root, full):
        raise HydrationFailure(
            EXIT_NOT_FOUND, "UnsafePath", f"{what}: {path[:300]} is reached through a link leaving the claim's root"
        )
    if not os.path.isfile(full):
        raise HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: {path[:300]} is listed in the manifest but missing")
    actual = os.path.getsize(full)
    if actual != size:
        raise HydrationFailure(
            EXIT_CHECKSUM, "ChecksumMismatch", f"{what}: {path[:300]} has {actual} bytes, the manifest says {size}"
        )
    hashing = _hasher(entry)
    if hashing is None:
        unknown.append(path[:60])
        return
    key, expected, new = hashing
    hasher = new()
    moved = 0
    with open(full, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
            moved += len(chunk)
            progress(moved)
    got = hasher.hexdigest()
    if got != expected:
        raise HydrationFailure(
            EXIT_CHECKSUM,
            "ChecksumMismatch",
            f"{what}: {path[:300]} does not match the manifest's {key} (expected {str(expected)[:80]}, got {got[:80]})",
        )
