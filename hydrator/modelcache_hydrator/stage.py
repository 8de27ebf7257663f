"""Staging one pin into its revision directory (hydrator.md §2, §3), the same steps for every kind of source."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import Callable, TypeVar

from .download import Partial, expected_digest, hash_file, mismatch
from .epoch import write_epoch
from .failure import EXIT_NOT_FOUND, HydrationFailure
from .files import RemoteFile, Resolved, directory_name
from .inputs import Inputs
from .lease import Lease
from .prune import prunable, prune, reclaimable_bytes
from .report import Reporter
from .source import Source, open_source
from .space import needs_room

MARKER_FILE = ".modelcache-complete"
MANIFEST_FILE = ".modelcache-manifest.json"
JOURNAL_FILE = ".modelcache-verified"
PARTIAL_DIR = ".modelcache-partial"

T = TypeVar("T")


def with_retries(step: Callable[[], T], what: str, source: Source) -> T:
    """Runs `step`, retrying transient failures with exponential backoff before giving up (exit 1)."""
    d = source.inputs.durations
    for attempt in range(d.retry_attempts):
        try:
            return step()
        except Exception as exc:  # classified by type and status
            failure = source.classify(exc, what)
            if not failure.transient or attempt + 1 == d.retry_attempts:
                raise failure from None
            print(f"hydrator: {failure.message}; retrying", file=sys.stderr)
            time.sleep(d.retry_base * 2**attempt)
    raise AssertionError("unreachable")


def stage(inputs: Inputs, reporter: Reporter) -> int:
    """Resolves, probes, checks space, downloads and verifies, marks complete, prunes; returns 0."""
    source = open_source(inputs)
    code = source.run(reporter)
    if code is not None:
        return code
    # 1. One pin: resolve before any byte, then work by the pin only.
    resolved = with_retries(source.resolve, f"resolving {inputs.source[:300]}", source)
    staged = inputs.staged(resolved.commit)
    name = directory_name(staged)
    reporter.update(commit=resolved.commit, dir=name, totalBytes=resolved.total_bytes, files=len(resolved.files))
    for warning in resolved.warnings:
        reporter.warn(warning)
    print(f"hydrator: {inputs.source[:300]} is {resolved.commit}: {len(resolved.files)} files in {name}", file=sys.stderr)
    # 2. Access: a gate or a denial fails here, before any byte (and on an already staged revision too).
    with_retries(lambda: source.probe(resolved), f"probing access to {inputs.source[:300]}", source)
    # 3. One writer per directory.
    directory = os.path.join(inputs.root, name)
    with_retries(lambda: os.makedirs(directory, exist_ok=True), f"creating {name}", source)
    lease = Lease(directory, inputs.job, inputs.pod, inputs.durations)
    lease.acquire()
    try:
        write_epoch(directory, inputs.epoch)
        marker = _read(os.path.join(directory, MARKER_FILE))
        if marker == staged:
            return _already_staged(inputs, reporter, resolved, name, directory)
        if marker is not None:
            os.unlink(os.path.join(directory, MARKER_FILE))  # not this identity: the directory is not complete
        _fill(source, reporter, resolved, directory)
        _finish_directory(source, directory, staged, resolved)
        print(f"hydrator: staged {staged[:300]} in {name}, every file verified", file=sys.stderr)
        reporter.phase("Pruning")
        prune(inputs.root, name, inputs.keep, inputs.epoch, inputs.durations.lease_stale)
        reporter.finish("Complete")
        return 0
    finally:
        lease.release()


def _already_staged(inputs: Inputs, reporter: Reporter, resolved: Resolved, name: str, directory: str) -> int:
    print(f"hydrator: {name} is already staged", file=sys.stderr)
    n = _manifest_count(directory, len(resolved.files))  # files after extraction (archives)
    reporter.update(doneBytes=resolved.total_bytes, files=n, filesDone=n, verifiedFiles=n)
    prune(inputs.root, name, inputs.keep, inputs.epoch, inputs.durations.lease_stale)
    reporter.finish("Complete")
    return 0


def _fill(source: Source, reporter: Reporter, resolved: Resolved, directory: str) -> None:
    """Checks space, then fetches and verifies every file not yet verified; resumes partial files."""
    inputs = source.inputs
    journal = _Journal(directory)
    todo, present, present_space, done_files, files = [], 0, 0, 0, len(resolved.files)
    for file in resolved.files:
        placed = source.placed(file, directory)
        if journal.has(file, placed) or (not file.unpack and _verified_in_place(directory, file, journal)):
            present += file.size
            present_space += file.space
            done_files, files = done_files + len(placed or ()), files + len(placed or ()) - 1
            continue
        todo.append(file)
        partial = min(file.size, _size(_partial_path(directory, file)))
        present += partial
        present_space += partial
    _check_space(inputs, directory, resolved.space_bytes - present_space)
    reporter.update(doneBytes=present, files=files, filesDone=done_files, verifiedFiles=done_files)
    reporter.phase("Downloading")
    pending = {f.path for f in todo}
    base = sum(f.size for f in resolved.files if f.path not in pending)
    for file in todo:
        _fetch_verified(source, reporter, directory, file, base)
        base += file.size
        journal.add(file)
        n = len(source.placed(file, directory) or ())  # an archive counts the files it became
        done_files, files = done_files + n, files + n - 1
        reporter.update(files=files, filesDone=done_files, verifiedFiles=done_files)


def _check_space(inputs: Inputs, directory: str, to_fetch: int) -> None:
    """Exit 11 before any byte when the rest does not fit; prunes first when it fits only that way."""
    own = os.path.basename(directory)
    d = inputs.durations
    names = prunable(inputs.root, own, inputs.keep, inputs.epoch, d.lease_stale)
    if needs_room(inputs.root, to_fetch, inputs.claim_bytes, reclaimable_bytes(inputs.root, names)):
        print(f"hydrator: making room: pruning {len(names)} revisions no longer needed first", file=sys.stderr)
        prune(inputs.root, own, inputs.keep, inputs.epoch, d.lease_stale)


def _fetch_verified(source: Source, reporter: Reporter, directory: str, file: RemoteFile, base: int) -> None:
    """Downloads one file, verifies it, and places it; a mismatch is fetched once more, then exit 12."""
    partial = Partial(_partial_path(directory, file), file)
    os.makedirs(os.path.dirname(partial.path), exist_ok=True)
    open(partial.path, "ab").close()
    for attempt in (1, 2):
        if partial.prime() and attempt == 1:
            print(f"hydrator: resuming {file.path[:200]} at byte {partial.offset}", file=sys.stderr)
        got = source.fetch(file, partial, lambda _n: reporter.set_done(base + partial.offset), f"downloading {file.path[:300]}")
        # More bytes than listed (`overflow`) fail whatever the check (a size-only check cannot see them otherwise).
        if got == expected_digest(file) and partial.offset == file.size and not partial.overflow:
            _fsync(partial.path)  # on disk before it counts: the marker must never outlive a file's bytes
            source.place(file, partial.path, directory)
            return
        os.unlink(partial.path)
        partial = Partial(partial.path, file)
        open(partial.path, "ab").close()
        reporter.set_done(base)
        if attempt == 2:
            raise mismatch(file, got)
        print(f"hydrator: {file.path[:200]} did not match its {file.check_name}; fetching it again", file=sys.stderr)
        reporter.warn(f"{file.path[:150]} did not match its {file.check_name} once and was fetched again")


def _verified_in_place(directory: str, file: RemoteFile, journal: "_Journal") -> bool:
    """A file already at its final path (not in the journal) is hashed, not fetched again."""
    final = os.path.join(directory, file.path)
    if not os.path.isfile(final) or os.path.islink(final):
        return False
    if os.path.getsize(final) == file.size and hash_file(final, file) == expected_digest(file):
        journal.add(file)
        return True
    os.unlink(final)
    return False


def _finish_directory(source: Source, directory: str, staged: str, resolved: Resolved) -> None:
    """Writes the manifest, drops the working files, and writes the marker last, atomically."""
    manifest = {
        "version": 1,
        "staged": staged,
        "commit": resolved.commit,
        "files": [e for f in resolved.files for e in source.placed(f, directory) or [f.manifest_entry()]],
    }
    _check_distinct(directory, manifest["files"])
    _atomic_write(os.path.join(directory, MANIFEST_FILE), json.dumps(manifest, indent=1).encode())
    shutil.rmtree(os.path.join(directory, PARTIAL_DIR), ignore_errors=True)
    try:
        os.unlink(os.path.join(directory, JOURNAL_FILE))
    except FileNotFoundError:
        pass
    _atomic_write(os.path.join(directory, MARKER_FILE), staged.encode())


def _check_distinct(directory: str, entries: list[dict]) -> None:
    """Every path of the manifest must be its own file: a claim whose file system folds case or Unicode forms (an
    SMB share, a ZFS dataset with normalization) makes `Model.bin` and `model.bin` one file, the second written over
    the first, so the manifest would vouch for bytes that are not there. Paths are safe per the source (Linux file
    systems are case-sensitive, so names differing only in case are legitimate); this finds the fold, one `stat` a
    file: exit 10 UnsafePath, no marker."""
    seen: dict[tuple[int, int], str] = {}
    for entry in entries:
        st = os.stat(os.path.join(directory, entry["path"]))
        other = seen.setdefault((st.st_dev, st.st_ino), entry["path"])
        if other != entry["path"]:
            raise HydrationFailure(
                EXIT_NOT_FOUND,
                "UnsafePath",
                f"{entry['path'][:200]!r} and {other[:200]!r} are one file on this claim (its file system folds case or "
                "Unicode forms): the source cannot be staged on it",
            )


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _partial_path(directory: str, file: RemoteFile) -> str:
    return os.path.join(directory, PARTIAL_DIR, file.path)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _manifest_count(directory: str, default: int) -> int:
    """How many files the staged directory's manifest lists (`default` when it cannot be read)."""
    try:
        with open(os.path.join(directory, MANIFEST_FILE), encoding="utf-8") as f:
            files = json.load(f)["files"]
        return len(files) if isinstance(files, list) else default
    except (OSError, ValueError, KeyError, TypeError):
        return default


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(4096)
    except (OSError, UnicodeDecodeError):
        return None


class _Journal:
    """The files verified so far in an unfinished directory (one JSON line each), so a resume never re-fetches them."""

    def __init__(self, directory: str):
        self.directory = directory
        self.path = os.path.join(directory, JOURNAL_FILE)
        self.entries: dict[str, tuple[int, str]] = {}
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    try:
                        e = json.loads(line)
                        self.entries[e["path"]] = (int(e["size"]), str(e["hash"]))
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut by a crash
        except FileNotFoundError:
            pass

    def has(self, file: RemoteFile, placed: list[dict] | None) -> bool:
        """Whether the file was verified by an earlier run and what it became (`Source.placed`) is still in
        place with its sizes."""
        return (
            self.entries.get(file.path) == (file.size, expected_digest(file))
            and placed is not None
            and all(_size(os.path.join(self.directory, e["path"])) == e["size"] for e in placed)
        )

    def add(self, file: RemoteFile) -> None:
        """Records a verified file."""
        self.entries[file.path] = (file.size, expected_digest(file))
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": file.path, "size": file.size, "hash": expected_digest(file)}) + "\n")
