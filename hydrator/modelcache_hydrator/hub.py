"""The Hugging Face source: resolving to one commit and listing its files with the hub's hashes
(hydrator.md §2, §3), probing access, and fetching `resolve/<commit>/<path>`."""

from __future__ import annotations

import json
import time

from .failure import EXIT_NOT_FOUND, HydrationFailure, classify, transient
from .files import MAX_FILES, MAX_LISTING_BYTES, RemoteFile, Resolved, check_path, check_unique, too_many_files
from .inputs import Inputs
from .source import Source

ERROR_BODY = 64 << 10  # of an error answer, what the hub client may read (its message, never needed whole)
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# The model info (at most 64 MiB) arrives within this; the read timeout alone lets a hub sending a byte a minute hold
# the Job until its deadline (24 h by default).
MODEL_INFO_SECONDS = 120.0


def resolve(api, inputs: Inputs) -> Resolved:
    """Resolves the source (or the pinned commit) with one model-info call carrying file metadata."""
    revision = inputs.commit or inputs.revision
    what = f"resolving {inputs.source[:300]}" + (f" at the pinned commit {inputs.commit}" if inputs.commit else "")
    try:
        info = model_info(api, inputs.repo, revision)
    except Exception as exc:  # classified by type and status below
        failure = classify(exc, what)
        from huggingface_hub import errors as hub

        if inputs.commit and isinstance(exc, hub.RevisionNotFoundError):
            raise HydrationFailure(
                EXIT_NOT_FOUND, "SourceChanged", f"{what}: the pinned commit is no longer on the hub"
            ) from None
        raise failure from None
    commit = info.sha
    if not isinstance(commit, str) or len(commit) != 40:
        raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: the hub returned no commit")
    if inputs.commit and commit != inputs.commit:
        raise HydrationFailure(
            EXIT_NOT_FOUND, "SourceChanged", f"{what}: the hub answered with commit {commit[:40]}"
        )
    return Resolved(commit=commit, files=_files(info.siblings, what))


def model_info(api, repo: str, revision: str | None):
    """`api.model_info(repo, revision=revision, files_metadata=True)`, the answer read at most MAX_LISTING_BYTES (the
    client reads any answer whole into memory): the same request, the same errors (`hf_raise_for_status`), the same
    `ModelInfo`. A longer answer is exit 10 `NotAnArtifact` naming the limit; one still arriving after
    MODEL_INFO_SECONDS is transient."""
    from urllib.parse import quote

    import httpx2
    from huggingface_hub.hf_api import ModelInfo
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = f"{api.endpoint}/api/models/{repo}" + (f"/revision/{quote(revision, safe='')}" if revision else "")
    with get_session().stream("GET", url, headers=build_hf_headers(), params={"blobs": True}, timeout=60) as r:
        limit = MAX_LISTING_BYTES if r.status_code < 400 else ERROR_BODY
        body = bytearray()
        deadline = time.monotonic() + MODEL_INFO_SECONDS
        if int(r.headers.get("Content-Length") or 0) <= limit:
            # Each chunk is what one network read brought: the deadline is checked however slowly bytes trickle in.
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > limit:
                    break
                if time.monotonic() > deadline:
                    raise transient(
                        f"the hub's model info for {repo[:200]} did not arrive within {MODEL_INFO_SECONDS:.0f} s"
                    )
        if len(body) > limit or int(r.headers.get("Content-Length") or 0) > limit:
            if r.status_code < 400:
                raise _too_long(repo)
            del body[limit:]  # an error's message cut: its status and error code classify it
        # The body as read (decoded): without the headers that describe it on the wire.
        headers = [(k, v) for k, v in r.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        answer = httpx2.Response(r.status_code, headers=headers, content=bytes(body), request=r.request)
    hf_raise_for_status(answer)
    return ModelInfo(**json.loads(body))


def _too_long(repo: str) -> HydrationFailure:
    return HydrationFailure(
        EXIT_NOT_FOUND,
        "NotAnArtifact",
        f"listing hf://{repo[:200]}: the hub's answer listing the files is over {MAX_LISTING_BYTES >> 20} MiB, the "
        "hydrator's limit for one source",
    )


def _files(siblings, what: str) -> tuple[RemoteFile, ...]:
    if not siblings:
        raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: the commit lists no files")
    if len(siblings) > MAX_FILES:
        raise too_many_files(what)
    files = []
    for s in siblings:
        check_path(s.rfilename, what)
        if not isinstance(s.size, int) or s.size < 0:
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: no size for {s.rfilename[:200]!r}")
        sha256 = s.lfs.sha256 if s.lfs else None
        if sha256 is None and not _is_hex(s.blob_id, 40):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: no hash for {s.rfilename[:200]!r}")
        if sha256 is not None and not _is_hex(sha256, 64):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: bad sha256 for {s.rfilename[:200]!r}")
        files.append(RemoteFile(s.rfilename, s.size, sha256, None if sha256 else s.blob_id))
    # A git tree cannot list a path twice or a file that is another's directory; a mirror's answer can.
    check_unique([f.path for f in files], what)
    return tuple(sorted(files, key=lambda f: f.path))


def _is_hex(value, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and all(c in "0123456789abcdef" for c in value)


class HubSource(Source):
    """A Hugging Face repository at a revision (or the pinned commit)."""

    def __init__(self, inputs: Inputs):
        super().__init__(inputs)
        self._downloader = None
        self._commit = ""

    def resolve(self) -> Resolved:
        """One model-info call with file metadata (`resolve` above)."""
        from huggingface_hub import HfApi

        resolved = resolve(HfApi(), self.inputs)
        self._commit = resolved.commit
        return resolved

    def probe(self, resolved: Resolved) -> None:
        """A ranged GET (`bytes=0-0`) of the smallest LFS file (the smallest file when there is none)."""
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        candidates = [f for f in resolved.files if f.size > 0]
        if not candidates:
            return
        lfs = [f for f in candidates if f.lfs]
        target = min(lfs or candidates, key=lambda f: (f.size, f.path))
        headers = {**build_hf_headers(), "Range": "bytes=0-0", "Accept-Encoding": "identity"}
        url = file_url(self.inputs, resolved.commit, target)
        with get_session().stream("GET", url, headers=headers, timeout=60) as r:
            if r.status_code >= 400:
                r.read()
            hf_raise_for_status(r)

    def fetch(self, file: RemoteFile, partial, progress, what: str) -> str:
        """Range-resuming download of `resolve/<commit>/<path>` through the hub client's session."""
        from .download import Downloader

        if self._downloader is None:
            from huggingface_hub.utils import build_hf_headers, get_session

            self._downloader = Downloader(get_session(), build_hf_headers(), self.inputs.durations, progress)
        self._downloader.progress = progress
        return self._downloader.fetch(file_url(self.inputs, self._commit, file), partial, what)


def file_url(inputs: Inputs, commit: str, file: RemoteFile) -> str:
    """`<endpoint>/<repo>/resolve/<commit>/<path>` (the endpoint may carry a path prefix, as mirrors do)."""
    from huggingface_hub import hf_hub_url

    return hf_hub_url(inputs.repo, file.path, revision=commit)
