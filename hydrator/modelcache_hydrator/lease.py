"""One writer per revision directory: an advisory flock plus a lease file (hydrator.md §3).

`flock` on `.modelcache-lock` keeps two runs on one node apart; it is unreliable across
nodes on NFS, so the directory also carries `.modelcache-active`, holding the Job's and the
pod's names, refreshed (rewritten, mtime bumped) every 30 s while the run lasts. A lease is
live while its mtime is younger than 5 minutes. A second writer waits while another pod's
lease is live (another pod of the same Job too), takes over a stale one, and gives up
(exit 1) after 10 minutes in all.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time

from .failure import transient
from .inputs import Durations

LOCK_FILE = ".modelcache-lock"
LEASE_FILE = ".modelcache-active"


def lease_age(directory: str) -> float | None:
    """Seconds since the directory's lease was last refreshed, or None without a lease."""
    try:
        return max(0.0, time.time() - os.stat(os.path.join(directory, LEASE_FILE)).st_mtime)
    except OSError:
        return None


def _holder(directory: str) -> dict:
    try:
        with open(os.path.join(directory, LEASE_FILE), encoding="utf-8") as f:
            value = json.loads(f.read(4096) or "{}")
            return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}  # the previous release's lease is an empty file


class Lease:
    """Holds the lock and the lease of one directory while a run writes there."""

    def __init__(self, directory: str, job: str, pod: str, durations: Durations):
        self.directory = directory
        self.job = job
        self.pod = pod
        self.durations = durations
        self._lock_fd: int | None = None
        self._locked = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        """Waits for the lock and for any live lease of another pod; raises Transient after the give-up time."""
        deadline = time.monotonic() + self.durations.lease_give_up
        self._lock_fd = os.open(os.path.join(self.directory, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            if self._try_lock() and self._lease_free():
                break
            if time.monotonic() >= deadline:
                self._unlock()
                raise transient(
                    f"another writer holds {os.path.basename(self.directory)} "
                    f"({self._describe()}); gave up after {self.durations.lease_give_up:.0f} s"
                )
            time.sleep(min(self.durations.lease_poll, max(0.0, deadline - time.monotonic())))
        self._write()
        self._thread = threading.Thread(target=self._refresh, name="lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stops refreshing, removes the lease if it is still ours, and drops the lock."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        holder = _holder(self.directory)
        if holder.get("pod") == self.pod and holder.get("job") == self.job:
            try:
                os.unlink(os.path.join(self.directory, LEASE_FILE))
            except OSError:
                pass
        self._unlock()

    def _try_lock(self) -> bool:
        if self._locked:
            return True
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._locked = True
        return True

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None
            self._locked = False

    def _lease_free(self) -> bool:
        age = lease_age(self.directory)
        if age is None or age >= self.durations.lease_stale:
            if age is not None:
                print(f"hydrator: taking over a stale lease ({self._describe()})", file=sys.stderr)
            return True
        holder = _holder(self.directory)
        # Our own pod's lease (a restarted container) is ours; any other pod's live lease is waited for,
        # even one of this Job: a node cut off from the API server may still run it and write over NFS.
        return bool(self.pod) and holder.get("pod") == self.pod and holder.get("job") == self.job

    def _describe(self) -> str:
        holder = _holder(self.directory)
        age = lease_age(self.directory)
        who = f"job {str(holder.get('job', '?'))[:63]}, pod {str(holder.get('pod', '?'))[:63]}"
        return who + (f", refreshed {age:.0f} s ago" if age is not None else "")

    def _write(self) -> None:
        path = os.path.join(self.directory, LEASE_FILE)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"job": self.job, "pod": self.pod}, f)
        os.replace(tmp, path)

    def _refresh(self) -> None:
        while not self._stop.wait(self.durations.lease_refresh):
            try:
                self._write()
            except OSError as exc:
                print(f"hydrator: could not refresh the lease ({type(exc).__name__})", file=sys.stderr)
