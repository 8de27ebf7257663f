"""The OCI source (sources.md §1): not built yet."""

from __future__ import annotations

from .failure import bad_input
from .source import Source


class OciSource(Source):
    """The OCI source: refused until it is built."""

    def resolve(self):
        """Refused: this hydrator does not read OCI sources yet."""
        raise bad_input(f"MODELCACHE_SOURCE {self.inputs.source[:200]!r}: OCI sources are not supported by this hydrator yet")
