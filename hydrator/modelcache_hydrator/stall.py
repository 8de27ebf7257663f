"""The stall rule every body download follows (hub, mirror, S3, OCI): a download moving too few bytes in a window is
aborted as transient, and the retry loop (`download.resume`) picks it up by range from the byte reached. Bodies are read
one network read at a time (`paced` for chunk iterators, `fill` for reads straight into a buffer), so a server that
trickles is seen; the per-read timeout alone would let it hold the Job until its deadline."""

from __future__ import annotations

import time
from typing import Callable

from .failure import HydrationFailure, transient
from .inputs import Durations

CHUNK = 1 << 20


class Stall:
    """The stall rule: a download moving less than `durations.stall_bytes` in `durations.stall_seconds` is aborted
    (transient: the retry loop resumes it). The read timeout alone bounds one read, so a server sending a byte every
    few seconds would hold the Job until its deadline. `feed(n)` after every network read; the window starts when
    the body starts."""

    def __init__(self, durations: Durations):
        self.seconds = durations.stall_seconds
        self.least = durations.stall_bytes
        self.start = time.monotonic()
        self.moved = 0

    def feed(self, n: int) -> bool:
        """Counts `n` bytes read; whether the download is stalled (a window closed with too few bytes)."""
        self.moved += n
        now = time.monotonic()
        if now - self.start < self.seconds:
            return False
        if self.moved < self.least:
            return True
        self.start, self.moved = now, 0
        return False

    def failure(self) -> HydrationFailure:
        """The transient failure of a stalled download."""
        return transient(
            f"the download stalled: {self.moved} bytes in {time.monotonic() - self.start:.0f} s, under the "
            f"{self.least} bytes per {self.seconds:.0f} s it must move"
        )


def paced(read1: Callable[[int], bytes], stall: Stall, size: int = CHUNK):
    """A body's chunks of up to `size` bytes, gathered from `read1(n)` calls (each at most one network read, so a
    trickling server never blocks a chunk for long), every read fed to `stall`; once stalled, the bytes gathered are
    yielded (the resume starts after them) and the stall's failure raised."""
    while True:
        pieces, got, stalled = [], 0, False
        while got < size and not stalled:
            data = read1(size - got)
            if not data:
                break
            pieces.append(data)
            got += len(data)
            stalled = stall.feed(len(data))
        if got:
            yield pieces[0] if len(pieces) == 1 else b"".join(pieces)  # a whole chunk in one read is not copied
        if stalled:
            raise stall.failure()
        if got < size:
            return


def fill(readinto1: Callable[[memoryview], int], view: memoryview, stall: Stall) -> tuple[int, bool]:
    """Fills `view` from `readinto1(view)` calls (each at most one network read, straight into it), every read fed to
    `stall`: the bytes read, and whether the download stalled (the caller keeps those bytes, then raises the stall's
    failure). Fewer bytes than `len(view)` without a stall: the body ended."""
    n, want = 0, len(view)
    while n < want:
        got = readinto1(view[n:])
        if not got:
            return n, False
        n += got
        if stall.feed(got):
            return n, True
    return n, False
