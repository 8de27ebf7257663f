"""Pruning (hydrator.md §3): what the claim no longer needs goes.

A `rev-*` directory is prunable unless it is the run's own, listed in `MODELCACHE_KEEP`,
holds a live lease (refreshed within 5 minutes), or carries a newer epoch than the run's.
Pruning runs after success. The one exception is making room: when the download does not
fit in the free space but does once prunable directories are gone (a refresh followed by a
source change on a claim sized for two revisions), those are removed before downloading.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

from .epoch import read_epoch
from .lease import lease_age
from .space import bytes_under

_REV = re.compile(r"rev-[A-Za-z0-9._-]+")


def prunable(root: str, own: str, keep: frozenset[str], epoch: tuple[int, int], lease_stale: float) -> list[str]:
    """The names of the `rev-*` directories pruning would remove, sorted."""
    names = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not _REV.fullmatch(name) or not os.path.isdir(path) or os.path.islink(path):
            continue
        if name == own or name in keep:
            continue
        age = lease_age(path)
        if age is not None and age < lease_stale:
            continue  # another run is writing there
        if read_epoch(path) > epoch:
            continue  # staged for a newer spec: not ours to remove
        names.append(name)
    return names


def reclaimable_bytes(root: str, names: list[str]) -> int:
    """The bytes that removing `names` would free."""
    return sum(bytes_under(os.path.join(root, n)) for n in names)


def prune(root: str, own: str, keep: frozenset[str], epoch: tuple[int, int], lease_stale: float) -> list[str]:
    """Removes every prunable directory; returns their names."""
    removed = []
    for name in prunable(root, own, keep, epoch, lease_stale):
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed.append(name)
        print(f"hydrator: pruned {name}", file=sys.stderr)
    return removed
