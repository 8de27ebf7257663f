"""The S3 source (sources.md §1): not built yet."""

from __future__ import annotations

from .failure import bad_input
from .source import Source


class S3Source(Source):
    """The S3 source: refused until it is built."""

    def resolve(self):
        """Refused: this hydrator does not read S3 sources yet."""
        raise bad_input(f"MODELCACHE_SOURCE {self.inputs.source[:200]!r}: S3 sources are not supported by this hydrator yet")
