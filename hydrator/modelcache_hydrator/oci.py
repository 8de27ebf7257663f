"""The OCI source (sources.md §1): an artifact in a registry, resolved to its manifest digest (the pin), whose
layers are files named by annotations, each verified by its digest; archive layers are extracted at the revision
root, every tar entry checked as it is read.

What oras-py (PyPI `oras`, the field's Python OCI client) does here, and what it cannot:
- its `Registry` gives the HTTP session (a `requests.Session` that ignores cookies, honouring `HTTPS_PROXY`,
  `NO_PROXY` and `REQUESTS_CA_BUNDLE`), its auth helpers encode Docker-config credentials and parse a
  `WWW-Authenticate` challenge;
- the requests themselves are ours, through that session: oras-py's `get_manifest` turns every non-2xx answer into
  a `ValueError` carrying only text (failures must be classified by HTTP status), returns parsed JSON (the pin is
  the SHA-256 of the exact bytes), and its `do_request` retries any exception for minutes with its own sleeps;
  `download_blob` rewrites the file from byte 0 (no `Range` resume into our partial file, no hashing as bytes
  arrive, no progress); its token handshake hides the token endpoint's status (a 503 would read as a denial);
  and it reads `~/.docker/config.json` with credential helpers (a pod has `DOCKER_CONFIG` and `auths` only).
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import os
import re
import shutil
import tarfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import replace

from .failure import (
    EXIT_DOES_NOT_FIT,
    EXIT_NOT_FOUND,
    HydrationFailure,
    bad_input,
    classify,
    from_status,
    transient,
)
from .files import MAX_FILES, Check, RemoteFile, Resolved, check_path, check_unique, too_many_files
from .inputs import Inputs
from .source import Source
from .space import free_bytes, human

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ACCEPT = ", ".join((OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST))

# Layer annotations: the file's path (ModelPack first, then ORAS's title), ORAS's unpack mark, ModelPack's metadata.
FILEPATH = "org.cncf.model.filepath"
TITLE = "org.opencontainers.image.title"
UNPACK = "io.deis.oras.content.unpack"
FILE_METADATA = "org.cncf.model.file.metadata+json"
# ModelPack layers packed as tar archives: weight, weight.config, doc, code, dataset (…v1.tar[+gzip|+zstd]).
_MODELPACK_TAR = re.compile(r"application/vnd\.cncf\.model\.[a-z.]+\.v1\.tar(\+gzip|\+zstd)?", re.ASCII)

# Digests a layer may carry (image-spec's registered algorithms); anything else is refused (exit 10).
_DIGESTS = {
    "sha256": (re.compile(r"[0-9a-f]{64}", re.ASCII), "SHA-256", hashlib.sha256),
    "sha512": (re.compile(r"[0-9a-f]{128}", re.ASCII), "SHA-512", hashlib.sha512),
}
MANIFEST_LIMIT = 4 << 20  # the distribution spec's manifest limit
# A manifest (at most 4 MiB) arrives within this; the read timeout alone lets a registry sending a byte a minute hold
# the Job until its deadline (24 h by default).
MANIFEST_SECONDS = 120.0
TOKEN_LIMIT = 1 << 20  # a token service's answer
CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)", re.ASCII)
# Our working files inside the revision's partial directory (a layer's path never starts with `.modelcache-`).
UNPACKED_DIR = os.path.join(".modelcache-partial", ".modelcache-unpacked")
UNPACK_DIR = os.path.join(".modelcache-partial", ".modelcache-unpack")


class RegistryError(Exception):
    """The registry answered with an HTTP error status (classified by that status, never by its body)."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


class OciSource(Source):
    """An artifact at `<registry>/<repository>` by tag or digest (inputs.repo, inputs.revision)."""

    def __init__(self, inputs: Inputs):
        super().__init__(inputs)
        plain = os.environ.get("MODELCACHE_OCI_PLAIN_HTTP", "")
        if plain not in ("", "0", "1"):
            raise bad_input(f"MODELCACHE_OCI_PLAIN_HTTP {plain[:20]!r} must be 1 (allow plain HTTP) or unset")
        self.host, _, self.repository = inputs.repo.partition("/")
        self.client = RegistryClient(self.host, self.repository, plain == "1")
        self._files: tuple[RemoteFile, ...] = ()
        self._kinds: dict[str, str] = {}  # an archive's path -> its compression (tar, gzip, zstd)

    # -- resolve: the manifest digest is the pin ---------------------------------------------------------------

    def resolve(self) -> Resolved:
        """GETs the manifest by tag or digest (by the pinned digest when pinned: exactly the pin is staged, wherever
        the tag has moved since, as a pinned hub commit is); its SHA-256 is the pin; its layers are the files."""
        ref = self.inputs.commit or self.inputs.revision or ""
        what = f"resolving {self.inputs.source[:300]}"
        try:
            body, media_type = self.client.manifest(ref)
        except RegistryError as exc:
            if exc.status in (404, 410) and self.inputs.commit and self.inputs.revision != self.inputs.commit:
                raise HydrationFailure(
                    EXIT_NOT_FOUND,
                    "SourceChanged",
                    f"{what}: the pinned manifest {self.inputs.commit} is no longer in the registry (HTTP {exc.status}): "
                    "set `modelplane.ai/refresh-revision` to stage what the tag names now",
                ) from None
            raise
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and digest != ref:
            raise transient(f"{what}: the registry answered a manifest whose digest is {digest}, not {ref}")
        try:
            manifest = json.loads(body)
        except ValueError:
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: the manifest is not JSON") from None
        if not isinstance(manifest, dict):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: the manifest is not a JSON object")
        kind = manifest.get("mediaType") or media_type
        if kind in (OCI_INDEX, DOCKER_LIST) or "manifests" in manifest:
            raise HydrationFailure(
                EXIT_NOT_FOUND,
                "NotAnArtifact",
                f"{what}: {digest} is an image index (a multi-platform image), not an artifact of files",
            )
        if kind not in (OCI_MANIFEST, DOCKER_MANIFEST) or not isinstance(manifest.get("layers"), list):
            raise HydrationFailure(
                EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: {digest} is not an image manifest ({str(kind)[:100]})"
            )
        files, self._kinds = _files(manifest["layers"], what)
        if not files:  # as an empty listing (S3) or a commit listing no files (hub): nothing to stage
            raise HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: the artifact {digest} has no file layers")
        self._files = files
        return Resolved(commit=digest, files=files)

    def probe(self, resolved: Resolved) -> None:
        """A ranged GET (`bytes=0-0`) of the smallest layer: blob access (often another store) before any byte."""
        candidates = [f for f in resolved.files if f.size > 0]
        if not candidates:
            return
        target = min(candidates, key=lambda f: (f.size, f.path))
        response = self.client.get(self.client.blob_url(target.locator), {"Range": "bytes=0-0"}, stream=True)
        with response:
            if response.status_code >= 400:
                raise RegistryError(response.status_code)

    # -- fetch: range-resuming, hashing as bytes arrive --------------------------------------------------------

    def fetch(self, file: RemoteFile, partial, progress, what: str) -> str:
        """Completes `partial` (download.Partial) from the layer's blob URL and returns the digest of its bytes."""
        from .download import resume

        url = self.client.blob_url(file.locator)
        return resume(lambda: self._get(url, partial, progress), partial, self.classify, self.inputs.durations, what)

    def _get(self, url: str, partial, progress) -> None:
        from .stall import Stall, paced

        size = partial.file.size
        if partial.offset >= size:
            return
        headers = {"Range": f"bytes={partial.offset}-"} if partial.offset else {}
        response = self.client.get(url, headers, stream=True)
        with response:
            if response.status_code == 416:
                partial.reset()
                raise transient("the registry refused the resume range; starting the layer again")
            if response.status_code >= 400:
                raise RegistryError(response.status_code)
            if partial.offset and response.status_code == 200:
                partial.reset()  # the range was ignored: take the whole body
            elif response.status_code == 206 and not _starts_at(response, partial.offset):
                partial.reset()
                raise transient("the registry answered another range; starting the layer again")
            # One network read at a time (iter_content gathers a whole chunk first), so the stall rule sees a trickle.
            read1 = functools.partial(response.raw.read1, decode_content=True)
            partial.append(paced(read1, Stall(self.inputs.durations), CHUNK), progress)
        if partial.offset < size and not partial.overflow:
            raise transient(f"the connection closed after {partial.offset} of {size} bytes")

    # -- place: files as they are, archives extracted at the revision root -------------------------------------

    def place(self, file: RemoteFile, partial_path: str, directory: str) -> None:
        """A plain layer moves to its path; an archive is extracted at the revision root (`_unpack`)."""
        if not file.unpack:
            super().place(file, partial_path, directory)
            return
        try:
            _unpack(self.inputs, file, self._kinds[file.path], partial_path, directory, self._files)
        except HydrationFailure as failure:
            if failure.reason in ("UnsafePath", "NotAnArtifact"):
                os.unlink(partial_path)  # a refused archive leaves nothing behind
            raise
        os.unlink(partial_path)

    def placed(self, file: RemoteFile, directory: str) -> list[dict] | None:
        """An archive became the files its record lists (None before it is extracted)."""
        if not file.unpack:
            return [file.manifest_entry()]
        record = _read_record(directory, file)
        return None if record is None else record["files"]

    def classify(self, exc: BaseException, what: str) -> HydrationFailure:
        """Registry statuses first (404: no such repository, tag or digest; 401/403: denied), then requests'
        exception types (network: transient), then the common rules (disk full, file system errors)."""
        import requests

        if isinstance(exc, HydrationFailure):
            return exc
        if isinstance(exc, RegistryError):
            if exc.status in (401, 403):
                return HydrationFailure(
                    EXIT_NOT_FOUND,
                    "AccessDenied",
                    f"{what}: access denied (HTTP {exc.status}): no credentials for {self.host[:100]} in the pull "
                    "secret (DOCKER_CONFIG), or the registry refuses them",
                )
            if exc.status in (404, 410):
                return HydrationFailure(
                    EXIT_NOT_FOUND,
                    "NotFound",
                    f"{what}: not found (HTTP {exc.status}): no such repository, tag or digest in {self.host[:100]}",
                )
            return from_status(exc.status, what)
        import urllib3

        # Bodies are read from urllib3 (`response.raw`): its errors are not wrapped in requests' types.
        if isinstance(exc, (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)):
            return transient(f"{what}: network error ({type(exc).__name__})")
        return classify(exc, what)


def _files(layers: list, what: str) -> tuple[tuple[RemoteFile, ...], dict[str, str]]:
    """The layers as files: named by `org.cncf.model.filepath`, else `org.opencontainers.image.title`, each with
    its digest as the check; archives (ModelPack tar layers, ORAS's unpack annotation) marked to be extracted,
    with their compression by path."""
    files, kinds = [], {}
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: layer {i} is not a descriptor")
        annotations = layer.get("annotations") or {}
        if not isinstance(annotations, dict):
            annotations = {}
        name = annotations.get(FILEPATH) or annotations.get(TITLE)
        digest, size, media_type = layer.get("digest"), layer.get("size"), layer.get("mediaType")
        if not isinstance(name, str) or not name:
            raise HydrationFailure(
                EXIT_NOT_FOUND,
                "NotAnArtifact",
                f"{what}: layer {i} ({str(digest)[:80]}) has no {FILEPATH} or {TITLE} annotation naming its file",
            )
        check_path(name, what)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(media_type, str):
            raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"{what}: layer {name[:200]!r} has no size or media type")
        check = _check(digest, name, what)
        archive = _archive(media_type, annotations, name, what)
        disk = size if archive in (None, "tar") else _metadata_size(annotations, size)
        if archive is not None:
            kinds[name] = archive
        files.append(RemoteFile(name, size, check=check, locator=digest, unpack=archive is not None, disk_size=disk))
    check_unique([f.path for f in files], what)
    archives = [f for f in files if f.unpack]
    if archives:
        # While an archive is extracted its blob is still on the claim: the largest one is counted once more.
        largest = max(archives, key=lambda f: (f.size, f.path))
        files = [replace(f, disk_size=f.space + f.size) if f is largest else f for f in files]
    return tuple(sorted(files, key=lambda f: f.path)), kinds


def _check(digest, name: str, what: str) -> Check:
    """The layer's digest as its check: SHA-256 or SHA-512 (image-spec's registered algorithms); others refused."""
    algorithm, _, hex_ = str(digest).partition(":")
    known = _DIGESTS.get(algorithm)
    if known is None or not known[0].fullmatch(hex_):
        raise HydrationFailure(
            EXIT_NOT_FOUND,
            "NotAnArtifact",
            f"{what}: layer {name[:200]!r} has digest {str(digest)[:100]!r}: only sha256 and sha512 digests can be "
            "verified",
        )
    return Check(known[1], hex_, algorithm, known[2])


def _archive(media_type: str, annotations: dict, name: str, what: str) -> str | None:
    """None for a file, else the archive's compression: `tar`, `gzip` or `zstd`."""
    modelpack = _MODELPACK_TAR.fullmatch(media_type)
    if modelpack:
        return {None: "tar", "+gzip": "gzip", "+zstd": "zstd"}[modelpack.group(1)]
    if annotations.get(UNPACK) != "true":
        return None
    for suffix, kind in ((".tar", "tar"), (".tar+gzip", "gzip"), ("+gzip", "gzip"), (".tar+zstd", "zstd"), ("+zstd", "zstd")):
        if media_type.endswith(suffix):
            return kind
    raise HydrationFailure(
        EXIT_NOT_FOUND,
        "NotAnArtifact",
        f"{what}: layer {name[:200]!r} is marked {UNPACK} but its media type {media_type[:100]!r} is not a tar archive",
    )


def _metadata_size(annotations: dict, size: int) -> int:
    """A compressed archive's unpacked size before any byte: ModelPack's file metadata (a regular file's `size`);
    without it the blob's size (the exact figure comes from the headers, before extracting: `_unpack`)."""
    try:
        meta = json.loads(annotations[FILE_METADATA])
        if meta.get("typeflag") in (0, 48) and isinstance(meta.get("size"), int) and meta["size"] >= 0:
            return max(size, meta["size"])
    except (KeyError, ValueError, TypeError, AttributeError):
        pass
    return size


# -- HTTP ------------------------------------------------------------------------------------------------------


class RegistryClient:
    """One registry repository over HTTP(S): oras-py's session and auth helpers, our own requests (module doc).

    Credentials are the `auths` entry for the registry in `$DOCKER_CONFIG/config.json` (`auth`, or `username`
    and `password`); no credential helper runs. A `401` is answered once per request: `Basic` with those
    credentials, `Bearer` with a token from the challenge's realm (anonymous without credentials); the answer is
    kept for the next requests and renewed on the next `401` (tokens expire)."""

    def __init__(self, host: str, repository: str, plain_http: bool):
        import oras.provider

        self.host = host
        api_host, self.repository = host, repository
        if host in ("docker.io", "index.docker.io"):  # Docker Hub's API host and its `library/` namespace
            api_host = "registry-1.docker.io"
            self.repository = repository if "/" in repository else "library/" + repository
        self.plain_http = plain_http
        self.base = f"{'http' if plain_http else 'https'}://{api_host}/v2/{self.repository}"
        self._oras = oras.provider.Registry(hostname=api_host, insecure=plain_http)
        self.session = self._oras.session
        self._credentials = _credentials(host)
        self._authorization: str | None = None

    def blob_url(self, digest: str) -> str:
        """`/v2/<repository>/blobs/<digest>`."""
        return f"{self.base}/blobs/{digest}"

    def manifest(self, ref: str) -> tuple[bytes, str]:
        """The manifest's exact bytes (at most 4 MiB) and its Content-Type."""
        response = self.get(f"{self.base}/manifests/{ref}", {"Accept": ACCEPT}, stream=True)
        with response:
            if response.status_code >= 400:
                raise RegistryError(response.status_code)
            body = bytearray()
            deadline = time.monotonic() + MANIFEST_SECONDS
            # read1: what has arrived, so the deadline is checked however slowly bytes trickle in.
            while chunk := response.raw.read1(64 << 10, decode_content=True):
                body += chunk
                if len(body) > MANIFEST_LIMIT:
                    raise HydrationFailure(EXIT_NOT_FOUND, "NotAnArtifact", f"the manifest {ref} is over 4 MiB")
                if time.monotonic() > deadline:
                    raise transient(f"the manifest {ref} did not arrive within {MANIFEST_SECONDS:.0f} s")
            return bytes(body), response.headers.get("Content-Type", "").split(";")[0].strip()

    def get(self, url: str, headers: dict, stream: bool):
        """A GET with our authorization; a `401` is answered once (its challenge) and the GET repeated."""
        headers = {"Accept-Encoding": "identity", **headers}
        response = self._send(url, headers, stream)
        # Only the registry's own 401 is answered: one from the host a redirect led to (a CDN) names a realm of that
        # host's choosing, and answering it would hand the registry's credentials to whoever the redirect leads to.
        if response.status_code == 401 and _origin(response.url) == _origin(self.base):
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            self._authorization = self._answer(challenge)
            response = self._send(url, headers, stream)
        return response

    def _send(self, url: str, headers: dict, stream: bool):
        if self._authorization:
            headers = {**headers, "Authorization": self._authorization}
        # requests drops Authorization when a redirect leaves the host (blobs are often served by a CDN).
        return self.session.get(url, headers=headers, stream=stream, timeout=(30, 60), allow_redirects=True)

    def _answer(self, challenge: str) -> str:
        from oras.auth.utils import get_basic_auth, parse_auth_header

        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic":
            if self._credentials is None:
                raise RegistryError(401)
            return "Basic " + get_basic_auth(*self._credentials)
        if scheme != "bearer":
            raise RegistryError(401)
        h = parse_auth_header(challenge)
        # A plain-HTTP realm only for a registry allowed plain HTTP: never credentials in clear text otherwise.
        if not h.realm or not h.realm.startswith(("https://", "http://") if self.plain_http else "https://"):
            raise RegistryError(401)
        params = {k: v for k, v in (("service", h.service), ("scope", h.scope)) if v}
        headers = {"Accept": "application/json"}
        if self._credentials is not None:
            headers["Authorization"] = "Basic " + get_basic_auth(*self._credentials)
        with self.session.get(h.realm, params=params, headers=headers, timeout=(30, 60), stream=True) as r:
            if r.status_code != 200:
                raise RegistryError(r.status_code)
            body = bytearray()
            for chunk in r.iter_content(64 << 10):
                body += chunk
                if len(body) > TOKEN_LIMIT:  # a token is a few KiB: never a body of any size in memory
                    raise RegistryError(401)
            try:
                data = json.loads(body)
                token = data.get("token") or data.get("access_token")
            except (ValueError, AttributeError):
                token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(401)
        return "Bearer " + token


def _credentials(host: str) -> tuple[str, str] | None:
    """The registry's `auths` entry in `$DOCKER_CONFIG/config.json` (`~/.docker` without it): (user, password)."""
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    path = os.path.join(directory, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise bad_input(f"DOCKER_CONFIG: {path[:200]} is not a readable Docker config (JSON)") from None
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    names = {host}
    if host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        names |= {"docker.io", "index.docker.io", "registry-1.docker.io"}
    for key, entry in auths.items():
        name = re.sub(r"^[a-z]+://", "", str(key)).split("/", 1)[0]
        if name not in names or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                user, sep, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise bad_input(f"DOCKER_CONFIG: the auths entry for {host[:100]} is not base64 of user:password") from None
            if sep:
                return user, password
        if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
            return entry["username"], entry["password"]
    return None


def _origin(url: str) -> tuple:
    """`(scheme, host, port)` of a URL, the port defaulted."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def _starts_at(response, offset: int) -> bool:
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
    return bool(match) and int(match.group(1)) == offset


# -- archives --------------------------------------------------------------------------------------------------


def _key(file: RemoteFile) -> str:
    return hashlib.sha256(file.path.encode()).hexdigest()[:16]


def _record_path(directory: str, file: RemoteFile) -> str:
    return os.path.join(directory, UNPACKED_DIR, _key(file) + ".json")


def _read_record(directory: str, file: RemoteFile) -> dict | None:
    """What an extracted archive became (`{layer, files: [{path, size, sha256}], dirs}`), or None."""
    try:
        with open(_record_path(directory, file), encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("layer") != file.locator or not isinstance(record.get("files"), list):
        return None
    return record


def _unpack(inputs: Inputs, file: RemoteFile, kind: str, blob: str, directory: str, files: tuple[RemoteFile, ...]) -> None:
    """Extracts a verified archive at the revision root in three steps, so that a refused archive leaves nothing
    in the revision directory: (1) the headers are read and every entry checked (paths, types, collisions with
    other layers' files), which gives the unpacked size for the space check before any byte is written; (2) the
    entries are written under the partial directory (checked again as they are read) and hashed for the
    manifest, and the archive's record is written; (3) they are moved to their places. The partial extraction
    is removed whatever happens."""
    what = f"extracting {file.path[:200]}"
    taken_files, taken_dirs = _taken(directory, file, files)
    # 1. Every entry checked before a byte is written; the unpacked size from the headers.
    total = 0
    with _reading(blob, kind, what) as tar:
        for member, _name in _checked(tar, what, taken_files, taken_dirs):
            total += member.size if member.isreg() else 0
    free = free_bytes(inputs.root, inputs.claim_bytes)
    if total > free:
        raise HydrationFailure(
            EXIT_DOES_NOT_FIT,
            "DoesNotFit",
            f"does not fit: {file.path[:200]} unpacks to {human(total)}, {human(free)} free of {human(inputs.claim_bytes)}",
        )
    # 2. Written under the partial directory, checked again as read, hashed.
    staging = os.path.join(directory, UNPACK_DIR, _key(file))
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        entries, dirs = [], []
        with _reading(blob, kind, what) as tar:
            for member, name in _checked(tar, what, taken_files, taken_dirs):
                if member.isdir():
                    os.makedirs(os.path.join(staging, name), exist_ok=True)
                    dirs.append(name)
                else:
                    entries.append(_write_entry(tar, member, name, staging))
        os.makedirs(os.path.join(directory, UNPACKED_DIR), exist_ok=True)
        tmp = _record_path(directory, file) + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"layer": file.locator, "files": entries, "dirs": dirs}, f)
            f.flush()
            os.fsync(f.fileno())
        # 3. Moved into place (renames within the revision directory).
        for d in dirs:
            os.makedirs(os.path.join(directory, d), exist_ok=True)
        for e in entries:
            final = os.path.join(directory, e["path"])
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(os.path.join(staging, e["path"]), final)
        os.replace(tmp, _record_path(directory, file))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _taken(directory: str, file: RemoteFile, files: tuple[RemoteFile, ...]) -> tuple[set[str], set[str]]:
    """The paths other layers place (plain layers, and archives already extracted), and their directories."""
    taken = {f.path for f in files if not f.unpack}
    for other in files:
        if other.unpack and other is not file:
            record = _read_record(directory, other)
            if record is not None:
                taken |= {e["path"] for e in record["files"]}
    dirs = {"/".join(p.split("/")[:i]) for p in taken for i in range(1, p.count("/") + 1)}
    return taken, dirs


# Headers that tarfile reads whole into memory (pax extended and global headers, GNU long names and links): real ones
# hold a few hundred bytes; a hostile one of gigabytes would exhaust the pod's memory before any entry is checked.
_META_TYPES = frozenset({tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
                         tarfile.GNUTYPE_LONGLINK})
META_LIMIT = 1 << 20


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header whose metadata headers are refused (`UnsafePath`) above META_LIMIT before tarfile reads them."""

    @classmethod
    def frombuf(cls, buf, encoding, errors):
        """The header block parsed; a pax or GNU long-name header announcing more than META_LIMIT is refused."""
        info = super().frombuf(buf, encoding, errors)
        if info.type in _META_TYPES and info.size > META_LIMIT:
            raise _HeaderTooLarge(info.size)
        return info


class _HeaderTooLarge(Exception):
    """A tar metadata header above META_LIMIT (refused as `UnsafePath` by `_reading`, which names the layer)."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


@contextmanager
def _reading(blob: str, kind: str, what: str):
    """The archive open for reading in order; a verified layer that is not a readable archive is NotAnArtifact."""
    import zstandard

    unreadable = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, zstandard.ZstdError)
    try:
        with open(blob, "rb") as f:
            if kind == "tar":
                # seekable: the headers are read, the data skipped
                tar = tarfile.open(fileobj=f, mode="r:", tarinfo=_BoundedTarInfo)
            elif kind == "gzip":
                tar = tarfile.open(fileobj=f, mode="r|gz", tarinfo=_BoundedTarInfo)
            else:
                stream = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
                tar = tarfile.open(fileobj=stream, mode="r|", tarinfo=_BoundedTarInfo)
            with tar:
                yield tar
    except _HeaderTooLarge as exc:
        _unsafe(what, f"a pax or GNU long-name header of {exc.size} bytes (at most {META_LIMIT})")
    except unreadable as exc:
        raise HydrationFailure(
            EXIT_NOT_FOUND,
            "NotAnArtifact",
            f"{what}: the layer matches its digest but is not a readable {kind} archive ({type(exc).__name__})",
        ) from None


def _checked(tar, what: str, taken_files: set[str], taken_dirs: set[str]):
    """Yields `(member, path)` for every entry, checked as it is read: a normalised relative path (no `..`, no
    absolute path, no control characters), a regular file or a directory only (symbolic and hard links, devices
    and FIFOs are refused), never colliding with another entry or another layer's file (`UnsafePath`, exit 10); with
    the other layers' files, at most MAX_FILES (`NotAnArtifact`)."""
    files: set[str] = set()
    dirs: set[str] = set()
    for member in tar:
        name = member.name[2:] if member.name.startswith("./") else member.name
        if name in (".", "") and member.isdir():
            continue
        check_path(name, what)
        if member.issym() or member.islnk():
            _unsafe(what, f"{name[:200]!r} is a {'symbolic' if member.issym() else 'hard'} link")
        if not (member.isreg() or member.isdir()):
            _unsafe(what, f"{name[:200]!r} is not a regular file or a directory (type {member.type!r})")
        parents = ["/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)]
        if name in files or name in taken_files or any(p in files or p in taken_files for p in parents):
            _unsafe(what, f"{name[:200]!r} collides with another entry")
        if member.isreg():
            if name in dirs or name in taken_dirs:
                _unsafe(what, f"{name[:200]!r} collides with another entry")
            files.add(name)
            if len(files) + len(taken_files) > MAX_FILES:  # with the other layers' files: the source's
                raise too_many_files(what)
        else:
            dirs.add(name)
        dirs.update(parents)
        yield member, name


def _unsafe(what: str, why: str):
    raise HydrationFailure(EXIT_NOT_FOUND, "UnsafePath", f"{what}: unsafe archive entry: {why}")


def _write_entry(tar, member, name: str, staging: str) -> dict:
    """Writes one file under `staging` (fresh, ours: nothing there can redirect a write), hashing it."""
    target = os.path.join(staging, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    hasher, size = hashlib.sha256(), 0
    with tar.extractfile(member) as source, open(target, "xb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)
            hasher.update(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return {"path": name, "size": size, "sha256": hasher.hexdigest()}
