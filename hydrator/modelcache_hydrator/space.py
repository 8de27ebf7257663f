"""The space check before the first byte (hydrator.md §3)."""

from __future__ import annotations

import os

from .failure import EXIT_DOES_NOT_FIT, HydrationFailure


def human(n: int) -> str:
    """Bytes as people read them: `142.0 GiB`, `12.5 MiB`, `900 B`."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} B"


def bytes_under(root: str) -> int:
    """The sizes of the regular files under `root` (what the claim already holds)."""
    total = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            if not os.path.islink(os.path.join(dirpath, name)):
                total += st.st_size
    return total


def free_bytes(root: str, claim_bytes: int) -> int:
    """min(statvfs free, claim size - bytes under the root): EFS-like file systems report no real limit."""
    st = os.statvfs(root)
    return min(st.f_bavail * st.f_frsize, max(0, claim_bytes - bytes_under(root)))


def needs_room(root: str, to_fetch: int, claim_bytes: int, reclaimable: int) -> bool:
    """Whether `to_fetch` fits only once `reclaimable` bytes are pruned; exit 11 (with figures) when not even then."""
    free = free_bytes(root, claim_bytes)
    if to_fetch <= free:
        return False
    if to_fetch <= free + reclaimable:
        return True
    extra = f" (and {human(reclaimable)} in revisions no longer needed)" if reclaimable else ""
    raise HydrationFailure(
        EXIT_DOES_NOT_FIT,
        "DoesNotFit",
        f"does not fit: needs {human(to_fetch)}, {human(free)} free of {human(claim_bytes)}{extra}",
    )
