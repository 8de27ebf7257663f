"""The range-resuming downloader: fetches `resolve/<commit>/<path>`, hashing while bytes arrive (hydrator.md §3).

It uses huggingface_hub's own HTTP session (httpx2), so proxies (`HTTPS_PROXY`, `NO_PROXY`)
and CA bundles (`SSL_CERT_FILE`) behave as they do for the client's own calls, and redirects
are followed (the Authorization header is dropped when a redirect leaves the origin).
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Callable

from .failure import EXIT_CHECKSUM, HydrationFailure, classify, transient
from .inputs import Durations
from .files import RemoteFile

CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def new_hasher(file: RemoteFile):
    """A fresh hasher for the file (hub files: SHA-256 for LFS, the git blob SHA-1 otherwise)."""
    return file.new_hasher()


def expected_digest(file: RemoteFile) -> str:
    """The value the file's hasher must produce (the hash the hub publishes, for hub files)."""
    return file.expected


def hash_file(path: str, file: RemoteFile) -> str:
    """Hashes a file already on the claim the way the hub does."""
    hasher = new_hasher(file)
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(8 * CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


class Partial:
    """A partly downloaded file and the hash of the bytes it holds."""

    def __init__(self, path: str, file: RemoteFile):
        self.path = path
        self.file = file
        self.hasher = new_hasher(file)
        self.offset = 0
        self.overflow = False

    def prime(self) -> int:
        """Hashes the bytes a previous run left (read once), so the download continues after them."""
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            return 0
        if size > self.file.size:
            self.reset()
            return 0
        with open(self.path, "rb", buffering=0) as f:
            while chunk := f.read(8 * CHUNK):
                self.hasher.update(chunk)
                self.offset += len(chunk)
        return self.offset

    def reset(self) -> None:
        """Drops every byte: the next request starts at 0."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "wb"):
            pass
        self.hasher = new_hasher(self.file)
        self.offset = 0
        self.overflow = False


class Downloader:
    """Fetches files by URL into partial files with range requests, retrying transient errors."""

    def __init__(self, session, headers: dict[str, str], durations: Durations, progress: Callable[[int], None]):
        self.session = session
        self.headers = {**headers, "Accept-Encoding": "identity"}
        self.durations = durations
        self.progress = progress

    def fetch(self, url: str, partial: Partial, what: str) -> str:
        """Completes `partial` from `url` and returns the hex digest of its bytes."""
        failures, mark = 0, partial.offset
        while True:
            try:
                self._get(url, partial)
                return partial.hasher.hexdigest()
            except Exception as exc:  # classified by type and status
                failure = classify(exc, what)
                if partial.offset > mark:
                    failures, mark = 0, partial.offset  # bytes moved since the last failure: a fresh budget
                if not failure.transient or failures + 1 >= self.durations.retry_attempts:
                    raise failure from None
                failures += 1
                print(f"hydrator: {failure.message}; retrying from byte {partial.offset}", file=sys.stderr)
                time.sleep(self.durations.retry_base * 2 ** (failures - 1))

    def _get(self, url: str, partial: Partial) -> None:
        import httpx2
        from huggingface_hub.utils import hf_raise_for_status

        size = partial.file.size
        if partial.offset >= size:
            return
        headers = dict(self.headers)
        if partial.offset:
            headers["Range"] = f"bytes={partial.offset}-"
        timeout = httpx2.Timeout(60.0, connect=30.0)
        with self.session.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 416:
                partial.reset()
                raise transient("the server refused the resume range; starting the file again")
            if response.status_code >= 400:
                response.read()
            hf_raise_for_status(response)
            if partial.offset and response.status_code == 200:
                partial.reset()  # the server ignored the range: take the whole body
            elif response.status_code == 206 and not self._starts_at(response, partial.offset):
                partial.reset()
                raise transient("the server answered another range; starting the file again")
            self._write(response, partial)
        if partial.offset < size and not partial.overflow:
            raise transient(f"the connection closed after {partial.offset} of {size} bytes")

    @staticmethod
    def _starts_at(response, offset: int) -> bool:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        return bool(match) and int(match.group(1)) == offset

    def _write(self, response, partial: Partial) -> None:
        size = partial.file.size
        fd = os.open(partial.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            for chunk in response.iter_bytes():
                if partial.offset + len(chunk) > size:
                    # More bytes than the hub listed: the file cannot match; let verification say so.
                    partial.hasher.update(b"\0")
                    raise _TooLong()
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
                partial.hasher.update(chunk)
                partial.offset += len(chunk)
                self.progress(len(chunk))
        except _TooLong:
            partial.overflow = True
        finally:
            os.close(fd)


class _TooLong(Exception):
    pass


def mismatch(file: RemoteFile, got: str) -> HydrationFailure:
    """Exit 12: a file failed verification twice."""
    whose = "the source's" if file.check else "the hub's"
    return HydrationFailure(
        EXIT_CHECKSUM,
        "ChecksumMismatch",
        f"{file.path[:300]} did not match {whose} {file.check_name} twice (expected {expected_digest(file)}, got {got})",
    )
