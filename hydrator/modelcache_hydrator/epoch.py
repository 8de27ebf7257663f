"""The staging epoch `<generation>.<n>` kept in each revision directory (hydrator.md §3)."""

from __future__ import annotations

import os

from .inputs import parse_epoch

EPOCH_FILE = ".modelcache-epoch"
GENERATION_FILE = ".modelcache-generation"  # the previous release's file: `<g>` reads as `<g>.0`


def read_epoch(directory: str) -> tuple[int, int]:
    """The directory's epoch; the previous release's generation as `<g>.0`; unreadable or absent as `0.0`."""
    for name, bare_only in ((EPOCH_FILE, False), (GENERATION_FILE, True)):
        try:
            with open(os.path.join(directory, name), encoding="ascii") as f:
                text = f.read(64).strip()
        except (OSError, UnicodeDecodeError):
            continue
        if bare_only and not text.isdigit():
            return (0, 0)
        try:
            return parse_epoch(text) if text else (0, 0)
        except ValueError:
            return (0, 0)
    return (0, 0)


def write_epoch(directory: str, epoch: tuple[int, int]) -> None:
    """Records `epoch` in the directory unless it already holds a newer one (written atomically)."""
    if read_epoch(directory) > epoch:
        return
    path = os.path.join(directory, EPOCH_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{epoch[0]}.{epoch[1]}")
    os.replace(tmp, path)
