"""The volume source (sources.md §1): not built yet."""

from __future__ import annotations

from .failure import bad_input
from .source import Source


class VolumeSource(Source):
    """The volume source: refused until it is built."""

    def resolve(self):
        """Refused: this hydrator does not read volume sources yet."""
        raise bad_input(f"MODELCACHE_SOURCE {self.inputs.source[:200]!r}: volume sources are not supported by this hydrator yet")
