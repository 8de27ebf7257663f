"""The one interface every kind of source implements (sources.md §1), and the choice of kind by
`MODELCACHE_SOURCE`'s scheme. Staging (stage.py) is the same for every kind: resolve to a pin before any
byte, probe access, check space, fetch and verify each file, place it, write the manifest and the marker."""

from __future__ import annotations

import os
from typing import Callable

from .failure import HydrationFailure, classify
from .files import RemoteFile, Resolved
from .inputs import Inputs


class Source:
    """A kind of source: how it resolves, probes, fetches and places files. Subclasses override what differs."""

    def __init__(self, inputs: Inputs):
        self.inputs = inputs

    def resolve(self) -> Resolved:
        """The pin (`inputs.commit` when set: a source that no longer matches it is `SourceChanged`) and the files."""
        raise NotImplementedError

    def probe(self, resolved: Resolved) -> None:
        """Proves access before any byte is written (a denial fails here); nothing by default."""

    def fetch(self, file: RemoteFile, partial, progress: Callable[[int], None], what: str) -> str:
        """Completes `partial` (download.Partial) from the source, hashing as bytes arrive; returns the digest.
        Retries transient failures itself; `progress(n)` after every chunk."""
        raise NotImplementedError

    def place(self, file: RemoteFile, partial_path: str, directory: str) -> None:
        """Moves a verified, fsynced file to its place in the revision directory (archives: extracts it)."""
        final = os.path.join(directory, file.path)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(partial_path, final)

    def placed(self, file: RemoteFile, directory: str) -> list[dict] | None:
        """What `file` became in `directory` once placed, as manifest entries (`{path, size, <hash key>}`): the
        file itself by default; an archive its extracted files, None until it is extracted. Staging uses it to
        tell a file placed by an earlier run is still whole (every entry at its path with its size), to count
        files after extraction, and to write the manifest."""
        return [file.manifest_entry()]

    def classify(self, exc: BaseException, what: str) -> HydrationFailure:
        """Maps an exception to a failure, by type and status (never by text)."""
        return classify(exc, what)

    def run(self, reporter) -> int | None:
        """A kind that stages nothing (a volume) does all its work here and returns the exit code; None: stage."""
        return None


def open_source(inputs: Inputs) -> Source:
    """The source for `inputs.kind` (`hf`, `s3`, `oci`, `pvc`)."""
    if inputs.kind == "hf":
        from .hub import HubSource

        return HubSource(inputs)
    if inputs.kind == "s3":
        from .s3 import S3Source

        return S3Source(inputs)
    if inputs.kind == "oci":
        from .oci import OciSource

        return OciSource(inputs)
    from .volume import VolumeSource

    return VolumeSource(inputs)
