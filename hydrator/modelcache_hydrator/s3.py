"""The S3 source (sources.md §1): `s3://<bucket>[/<prefix>]` read with boto3, the S3 SDK.

Settings come from the standard AWS variables the SDK reads (`AWS_ENDPOINT_URL`, `AWS_REGION`,
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_CA_BUNDLE`, `HTTPS_PROXY`).

- Resolving lists the keys under `<prefix>/` (the whole bucket without a prefix; never `<prefix>-v2/…`),
  checks EVERY relative key's safety before any object is read, and pins the listing digest: the lowercase
  hex SHA-256 of `<relative key>\\t<size>\\t<ETag without quotes>\\n` lines sorted by key bytes. A pin the
  listing no longer matches is `SourceChanged`. Zero-byte keys ending in `/` are folder markers (what
  consoles create): lines of the digest like every key, but not files.
- Each object is then asked for its checksums (`HeadObject`, `ChecksumMode=ENABLED`) and verified by the
  first of: a full-object checksum (SHA256, CRC64NVME, CRC32C, CRC32: computed here with hashlib, awscrt
  (the AWS common runtime boto3's crt extra brings) and zlib); a composite checksum re-derived part by part
  (`GetObjectAttributes` with `ObjectParts`, or `HeadObject` per part number where a store does not list
  parts); the ETag as MD5 for a single-part object without SSE-KMS/SSE-C; else its size, with a warning
  naming the objects.
- Bytes are fetched with `GetObject` (`If-Match` the listed ETag, so an object replaced since the listing
  is never mixed in), resumed with `Range: bytes=<n>-` into the partial file, hashed as they arrive.
- Failures are classified from botocore's exception types, error codes and HTTP status, never from text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .failure import (
    EXIT_NOT_FOUND,
    RETRYABLE_STATUS,
    HydrationFailure,
    bad_input,
    classify,
    from_status,
    transient,
)
from .files import MAX_FILES, Check, RemoteFile, Resolved, check_path, check_unique, too_many_files
from .source import Source

CHUNK = 1 << 20
LIST_PAGE = 1000  # keys per ListObjectsV2 page (S3's own maximum; botocore reads each page whole)
# Full-object checksum algorithms in the order sources.md prefers them.
ALGORITHMS = ("SHA256", "CRC64NVME", "CRC32C", "CRC32")
CHANGED = "the bucket changed since it was pinned: set `modelplane.ai/refresh-revision` to stage the new content"
_NOT_FOUND_CODES = frozenset({"NoSuchBucket", "NoSuchKey", "NotFound", "404"})
_DENIED_CODES = frozenset(
    {"AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
     "InvalidToken", "TokenRefreshRequired", "AccountProblem", "InvalidObjectState", "UnauthorizedAccess",
     "403", "401"}
)
_RETRY_CODES = frozenset({"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed",
                          "Throttling", "ThrottlingException", "TooManyRequests"})
_KMS = ("aws:kms", "aws:kms:dsse")
_WARNING_NAMES = 110  # characters of object names in the size-only warning (a warning is at most 200)


class Crc32:
    """CRC32 (zlib's, the one S3 uses) with the hashlib interface."""

    def __init__(self):
        self.value = 0

    def update(self, data) -> None:
        """Adds bytes."""
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        """The 4 big-endian bytes S3 encodes in base64."""
        return self.value.to_bytes(4, "big")

    def hexdigest(self) -> str:
        """The digest as lowercase hex."""
        return self.digest().hex()


class AwsCrc:
    """CRC32C or CRC64NVME, computed by awscrt (what the AWS SDKs use), with the hashlib interface."""

    def __init__(self, name: str, width: int):
        from awscrt import checksums

        self.update_fn = getattr(checksums, name)
        self.width = width
        self.value = 0

    def update(self, data) -> None:
        """Adds bytes."""
        self.value = self.update_fn(data, self.value)

    def digest(self) -> bytes:
        """The big-endian bytes S3 encodes in base64."""
        return self.value.to_bytes(self.width, "big")

    def hexdigest(self) -> str:
        """The digest as lowercase hex."""
        return self.digest().hex()


# What this hydrator computes, by S3 algorithm name, and the manifest key of each.
COMPUTABLE = {
    "SHA256": hashlib.sha256,
    "CRC64NVME": functools.partial(AwsCrc, "crc64nvme", 8),
    "CRC32C": functools.partial(AwsCrc, "crc32c", 4),
    "CRC32": Crc32,
}
MANIFEST_KEYS = {"SHA256": "sha256", "CRC64NVME": "crc64nvme", "CRC32C": "crc32c", "CRC32": "crc32"}


class SizeOnly:
    """The "hasher" of an object nothing can verify but its size (the size is checked by staging)."""

    def update(self, data) -> None:
        """Ignores the bytes."""

    def hexdigest(self) -> str:
        """Always `size`."""
        return "size"


class Composite:
    """A composite checksum re-derived as bytes arrive: each part's checksum over its bytes, then the checksum
    of the concatenated part checksums, as `<hex>-<parts>` (S3's `<base64>-<parts>` in hex)."""

    def __init__(self, algorithm: str, part_sizes: tuple[int, ...]):
        self.new = COMPUTABLE[algorithm]
        self.sizes = part_sizes
        self.index = 0
        self.left = part_sizes[0] if part_sizes else 0
        self.current = self.new()
        self.digests: list[bytes] = []
        self.extra = False

    def update(self, data) -> None:
        """Adds bytes, closing parts at their boundaries."""
        view = memoryview(data)
        while len(view):
            if self.index >= len(self.sizes):
                self.extra = True  # more bytes than the parts hold: cannot match
                return
            take = min(self.left, len(view))
            self.current.update(view[:take])
            view = view[take:]
            self.left -= take
            if self.left == 0:
                self.digests.append(self.current.digest())
                self.index += 1
                self.current = self.new()
                self.left = self.sizes[self.index] if self.index < len(self.sizes) else 0

    def hexdigest(self) -> str:
        """`<hex of the checksum of checksums>-<parts>`, or `incomplete` before the last part's last byte."""
        if self.extra or self.index != len(self.sizes):
            return "incomplete"
        combined = self.new()
        for d in self.digests:
            combined.update(d)
        return f"{combined.hexdigest()}-{len(self.sizes)}"


@dataclass(frozen=True)
class S3File(RemoteFile):
    """An S3 object: `locator` is its key, `etag` its ETag (quotes removed), `parts` the run-length part sizes
    (`((size, count), …)`) of a composite checksum, written into the manifest so a volume check can verify it."""

    etag: str = ""
    parts: tuple[tuple[int, int], ...] = ()

    def manifest_entry(self) -> dict:
        """`{path, size}` and the check's key (`sha256`, `crc32`, `md5`, `sha256Composite` or `crc32Composite`
        with `parts`); a size-only object has no hash key."""
        entry: dict = {"path": self.path, "size": self.size}
        if self.check is not None and self.check.manifest_key:
            entry[self.check.manifest_key] = self.check.expected
        if self.parts:
            entry["parts"] = [list(p) for p in self.parts]
        return entry


@dataclass(frozen=True)
class Listed:
    """One key of the listing."""

    key: str
    path: str  # relative to the prefix
    size: int
    etag: str  # without quotes


def listing_digest(listing) -> str:
    """The pin: lowercase hex SHA-256 of `<relative key>\\t<size>\\t<ETag>\\n`, sorted by key bytes."""
    h = hashlib.sha256()
    for item in sorted(listing, key=lambda i: i.path.encode("utf-8", "surrogatepass")):
        h.update(f"{item.path}\t{item.size}\t{item.etag}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def run_lengths(sizes) -> tuple[tuple[int, int], ...]:
    """`(8, 8, 8, 3)` → `((8, 3), (3, 1))`."""
    out: list[list[int]] = []
    for s in sizes:
        if out and out[-1][0] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    return tuple((s, n) for s, n in out)


def expand(parts) -> tuple[int, ...]:
    """The inverse of `run_lengths`."""
    return tuple(s for s, n in parts for _ in range(n))


def b64hex(value: str) -> str | None:
    """An S3 checksum value (base64, maybe with a `-<parts>` suffix removed first) as hex, or None."""
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def full_object_check(algorithm: str, value: str) -> Check | None:
    """The check of a full-object checksum this hydrator can compute, or None."""
    if algorithm not in COMPUTABLE or "-" in value:
        return None
    hexed = b64hex(value)
    if hexed is None:
        return None
    return Check(f"S3 {algorithm}", hexed, MANIFEST_KEYS[algorithm], COMPUTABLE[algorithm])


def composite_check(algorithm: str, value: str, part_sizes: tuple[int, ...]) -> Check | None:
    """The check of a composite checksum re-derived over these parts, or None."""
    head, _, count = value.partition("-")
    hexed = b64hex(head)
    if algorithm not in COMPUTABLE or hexed is None or (count and count != str(len(part_sizes))):
        return None
    return Check(
        f"S3 composite {algorithm}",
        f"{hexed}-{len(part_sizes)}",
        MANIFEST_KEYS[algorithm] + "Composite",
        functools.partial(Composite, algorithm, part_sizes),
    )


def md5_check(etag: str, head: dict) -> Check | None:
    """The ETag as MD5: only for a single-part object (32 hex) without SSE-KMS or SSE-C."""
    if len(etag) != 32 or any(c not in "0123456789abcdef" for c in etag.lower()):
        return None
    if head.get("ServerSideEncryption") in _KMS or head.get("SSECustomerAlgorithm"):
        return None
    return Check("S3 ETag MD5", etag.lower(), "md5", hashlib.md5)


SIZE_ONLY = Check("size only", "size", "", SizeOnly)


class S3Source(Source):
    """`s3://<bucket>[/<prefix>]`: a listing pinned by its digest, objects verified by their checksums."""

    def __init__(self, inputs):
        super().__init__(inputs)
        self.bucket, _, self.prefix = inputs.repo.partition("/")
        self._client = None
        self._pinned = bool(inputs.commit)

    def client(self):
        """The boto3 S3 client, configured from the standard AWS variables; retries are the program's own."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 1},
                connect_timeout=30,
                read_timeout=60,
                max_pool_connections=16,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",  # verification is ours, as bytes arrive
                user_agent_extra="modelcache-hydrator",
            )
            # AWS_ENDPOINT_URL names the S3 store (the source's `endpoint`): it is given to the S3 client only,
            # so that credentials from workload identity (IRSA's STS call) still reach AWS, not the store.
            endpoint = os.environ.pop("AWS_ENDPOINT_URL", None) or None
            session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
            self._client = session.client("s3", config=config, endpoint_url=endpoint)
        return self._client

    # -- resolving -------------------------------------------------------------------------------------

    def resolve(self) -> Resolved:
        """Lists, checks every key, pins the listing digest, then chooses each object's verification."""
        what = f"listing {self.inputs.source[:300]}"
        everything = self._list(what)
        listing = [i for i in everything if not (i.path.endswith("/") or i.path == "") or i.size]
        if not listing:
            where = f"s3://{self.bucket}/{self.prefix}/" if self.prefix else f"s3://{self.bucket}"
            raise HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: no objects under {where[:300]}")
        for item in listing:
            check_path(item.path, what)
        check_unique([i.path for i in listing], what)
        digest = listing_digest(everything)
        if self.inputs.commit and digest != self.inputs.commit:
            raise HydrationFailure(EXIT_NOT_FOUND, "SourceChanged", f"{self.inputs.source[:300]}: {CHANGED}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            files = list(pool.map(self._file, listing))
        files.sort(key=lambda f: f.path)
        warnings = _size_only_warning([f for f in files if f.check is SIZE_ONLY])
        return Resolved(commit=digest, files=tuple(files), warnings=warnings)

    def _list(self, what: str) -> list[Listed]:
        client = self.client()
        base = self.prefix + "/" if self.prefix else ""
        listing: list[Listed] = []
        seen: set[str] = set()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base, PaginationConfig={"PageSize": LIST_PAGE}
        )
        for page in pages:
            contents = page.get("Contents", [])
            if len(listing) + len(contents) > MAX_FILES:  # checked page by page: the listing never grows past it
                raise too_many_files(what, "objects")
            for obj in contents:
                key, size = obj["Key"], int(obj["Size"])
                if not key.startswith(base):
                    continue  # never outside the prefix, whatever a store answers
                if key in seen:
                    # Pages that do not advance (a store ignoring the continuation token) would be read forever.
                    raise transient(f"{what}: the store listed {key[len(base):][:200]!r} twice; listing again")
                seen.add(key)
                listing.append(Listed(key, key[len(base) :], size, str(obj.get("ETag", "")).strip('"')))
        return listing

    def _head(self, item: Listed, **request) -> dict:
        """HeadObject of a listed key; a 404 (a HEAD has no body, so no `NoSuchKey` code) means the key was deleted
        since the listing: the bucket changed (`_changed`), never NotFound."""
        from botocore.exceptions import ClientError

        try:
            return self._object(self.client().head_object, item.key, **request)
        except ClientError as exc:
            if _status(exc) in (404, 410):
                raise self._changed(f"reading {item.path[:200]!r}") from None
            raise

    def _object(self, call, key: str, **request):
        """`call` (HeadObject, GetObject) on one key; a request the store refuses for good (a 400) fails naming the
        key: the failure's `what` names the source or the file's path, not the key the store refused."""
        from botocore.exceptions import ClientError

        try:
            return call(Bucket=self.bucket, Key=key, **request)
        except ClientError as exc:
            if _status(exc) == 400:
                failure = self.classify(exc, f"reading s3://{self.bucket}/{key[:300]}")
                if not failure.transient:
                    raise failure from None
            raise

    def _file(self, item: Listed) -> S3File:
        head = self._head(item, ChecksumMode="ENABLED")
        if str(head.get("ETag", "")).strip('"') != item.etag or int(head.get("ContentLength", -1)) != item.size:
            raise self._changed(f"reading {item.path[:200]!r}")
        check, parts = self._choose(item, head)
        return S3File(item.path, item.size, check=check, locator=item.key, etag=item.etag, parts=parts)

    def _choose(self, item: Listed, head: dict) -> tuple[Check, tuple]:
        found = [(a, str(head["Checksum" + a])) for a in ALGORITHMS if head.get("Checksum" + a)]
        # A store that does not say the checksum's type (older S3-compatible ones): a value with a `-<parts>`
        # suffix, or any checksum of a multipart object (its ETag ends in `-<parts>`), is composite.
        etag_parts = item.etag.rpartition("-")[2] if "-" in item.etag else ""
        kind = head.get("ChecksumType") or (
            "COMPOSITE" if etag_parts or any("-" in v for _, v in found) else "FULL_OBJECT"
        )
        if kind == "FULL_OBJECT":
            for algorithm, value in found:
                check = full_object_check(algorithm, value)
                if check is not None:
                    return check, ()
        else:
            for algorithm, value in found:
                count = value.partition("-")[2] or etag_parts
                if algorithm in COMPUTABLE and count.isdigit() and 0 < int(count) <= 10000:
                    sizes = self._part_sizes(item, algorithm, value, int(count))
                    check = composite_check(algorithm, value, sizes) if sizes else None
                    if check is not None:
                        return check, run_lengths(sizes)
        check = md5_check(item.etag, head)
        if check is not None:
            return check, ()
        return SIZE_ONLY, ()

    def _part_sizes(self, item: Listed, algorithm: str, value: str, count: int) -> tuple[int, ...] | None:
        """The part sizes, if the listed part checksums combine into the object's composite checksum."""
        parts = self._listed_parts(item, algorithm)
        if parts is None or len(parts) != count:
            parts = self._parts_by_number(item, algorithm, count)
        if parts is None or [n for n, _, _ in parts] != list(range(1, count + 1)):
            return None
        if sum(size for _, size, _ in parts) != item.size:
            return None
        combined = COMPUTABLE[algorithm]()
        try:
            for _, _, checksum in parts:
                combined.update(base64.b64decode(checksum.partition("-")[0], validate=True))
        except (binascii.Error, ValueError):
            return None
        if combined.hexdigest() != b64hex(value.partition("-")[0]):
            return None
        return tuple(size for _, size, _ in parts)

    def _listed_parts(self, item: Listed, algorithm: str) -> list[tuple[int, int, str]] | None:
        """`GetObjectAttributes` with `ObjectParts` (paged by 1,000); None where the store lists no parts."""
        from botocore.exceptions import ClientError

        parts: list[tuple[int, int, str]] = []
        marker = 0
        while True:
            try:
                answer = self.client().get_object_attributes(
                    Bucket=self.bucket, Key=item.key, ObjectAttributes=["ObjectParts"], MaxParts=1000,
                    PartNumberMarker=marker,
                )
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status in (400, 403, 405, 501):  # not offered, or not allowed: ask part by part instead
                    return None
                if status in (404, 410) and _code(exc) != "NoSuchBucket":
                    raise self._changed(f"reading {item.path[:200]!r}") from None  # deleted since the listing
                raise
            listed = answer.get("ObjectParts") or {}
            for p in listed.get("Parts") or []:
                checksum = p.get("Checksum" + algorithm)
                if not checksum:
                    return None
                parts.append((int(p["PartNumber"]), int(p["Size"]), str(checksum)))
            if not listed.get("IsTruncated"):
                return parts or None
            following = int(listed.get("NextPartNumberMarker") or 0)
            if following <= marker or len(parts) > 10000:
                return None  # paging that does not advance: ask part by part instead
            marker = following

    def _parts_by_number(self, item: Listed, algorithm: str, count: int) -> list[tuple[int, int, str]] | None:
        """`HeadObject` with `PartNumber` 1…count: each part's size and checksum."""
        parts = []
        for number in range(1, count + 1):
            head = self._head(item, PartNumber=number, ChecksumMode="ENABLED", IfMatch=f'"{item.etag}"')
            checksum = head.get("Checksum" + algorithm)
            if not checksum:
                return None
            parts.append((number, int(head["ContentLength"]), str(checksum)))
        return parts

    # -- access and bytes ------------------------------------------------------------------------------

    def probe(self, resolved: Resolved) -> None:
        """A ranged GET (`bytes=0-0`) of the smallest non-empty object: a denial fails here, before any byte."""
        candidates = [f for f in resolved.files if f.size > 0]
        if not candidates:
            return
        target = min(candidates, key=lambda f: (f.size, f.path))
        answer = self._object(self.client().get_object, target.locator, Range="bytes=0-0", IfMatch=f'"{target.etag}"')
        answer["Body"].read()
        answer["Body"].close()

    def fetch(self, file: RemoteFile, partial, progress, what: str) -> str:
        """Completes `partial` with ranged GETs, retrying transient failures from the byte reached."""
        from .download import resume

        def refused_range(exc: BaseException) -> None:
            if _code(exc) == "InvalidRange" or _status(exc) == 416:
                partial.reset()

        return resume(
            lambda: self._get(file, partial, progress), partial, self.classify, self.inputs.durations, what, refused_range
        )

    def _get(self, file: RemoteFile, partial, progress) -> None:
        from .stall import Stall, paced

        size = file.size
        if partial.offset >= size:
            return
        request = {"IfMatch": f'"{file.etag}"'}  # type: ignore[attr-defined]
        if partial.offset:
            request["Range"] = f"bytes={partial.offset}-"
        answer = self._object(self.client().get_object, file.locator, **request)
        # The body's context is its urllib3 response (closed on leaving): read one network read at a time, so that
        # the stall rule sees a trickling store (StreamingBody.read gathers a whole chunk first).
        with answer["Body"] as raw:
            if partial.offset:
                content_range = str(answer.get("ContentRange") or "")
                if not content_range:
                    partial.reset()  # the store ignored the range: take the whole body
                elif not content_range.startswith(f"bytes {partial.offset}-"):
                    partial.reset()
                    raise transient("the store answered another range; starting the object again")
            partial.append(paced(raw.read1, Stall(self.inputs.durations), CHUNK), progress)
        if partial.offset < size and not partial.overflow:
            raise transient(f"the connection closed after {partial.offset} of {size} bytes")

    # -- failures --------------------------------------------------------------------------------------

    def _changed(self, what: str) -> HydrationFailure:
        """An object replaced or removed since the listing: `SourceChanged` when pinned; else a transient
        failure, so the run lists again (and pins the new listing)."""
        if self._pinned:
            return HydrationFailure(EXIT_NOT_FOUND, "SourceChanged", f"{self.inputs.source[:300]}: {CHANGED}")
        return transient(f"{what}: the object changed while it was read; listing again")

    def classify(self, exc: BaseException, what: str) -> HydrationFailure:
        """botocore's error codes and HTTP status, and its exception types (never message text)."""
        if isinstance(exc, HydrationFailure):
            return exc
        from botocore import exceptions as boto

        if isinstance(exc, boto.ClientError):
            code, status = _code(exc), _status(exc)
            # A HEAD's error has no body: botocore gives its status as its code.
            label = f"{code[:60]}, HTTP {status}" if code and code != str(status) else f"HTTP {status}"
            if code == "NoSuchBucket":
                return HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: bucket {self.bucket!r} not found ({label})")
            if code in ("PreconditionFailed", "NoSuchKey") or status == 412:
                return self._changed(what)
            if code in _NOT_FOUND_CODES or status in (404, 410):
                return HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: not found ({label})")
            if code in _DENIED_CODES or status in (401, 403):
                return HydrationFailure(EXIT_NOT_FOUND, "AccessDenied", f"{what}: access denied ({label})")
            if code in _RETRY_CODES or status in RETRYABLE_STATUS or (status or 0) >= 500:
                return transient(f"{what}: the store is busy or failing ({label})")
            if status == 400:  # a request the store will never accept (an SSE-C object read without its key)
                return HydrationFailure(
                    EXIT_NOT_FOUND, "AccessDenied", f"{what}: the store refused the request ({label}); retrying cannot "
                    "help (an SSE-C object, for one, needs its customer key, which this hydrator never sends)"
                )
            if code == "InvalidRange" or status == 416:
                return transient(f"{what}: the store refused the resume range; starting the object again")
            return from_status(status, what)
        if isinstance(exc, (boto.NoCredentialsError, boto.PartialCredentialsError, boto.CredentialRetrievalError)):
            return HydrationFailure(
                EXIT_NOT_FOUND, "AccessDenied", f"{what}: no usable AWS credentials ({type(exc).__name__})"
            )
        if isinstance(exc, (boto.ParamValidationError, boto.NoRegionError, boto.InvalidEndpointConfigurationError)):
            return bad_input(f"{what}: the S3 client rejected the settings ({type(exc).__name__})")
        if isinstance(exc, (boto.HTTPClientError, boto.ConnectionError, boto.IncompleteReadError)):
            return transient(f"{what}: network error ({type(exc).__name__})")
        try:
            import urllib3

            if isinstance(exc, urllib3.exceptions.HTTPError):
                return transient(f"{what}: network error ({type(exc).__name__})")
        except ImportError:  # pragma: no cover - botocore requires urllib3
            pass
        return classify(exc, what)


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return ""


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def _size_only_warning(files) -> tuple[str, ...]:
    """One warning naming the objects verified by size only (bounded: a warning is at most 200 characters)."""
    if not files:
        return ()
    names, used = [], 0
    for f in files:
        if used + len(f.path) + 2 > _WARNING_NAMES:
            break
        names.append(f.path)
        used += len(f.path) + 2
    more = f" and {len(files) - len(names)} more" if len(files) > len(names) else ""
    noun = "object" if len(files) == 1 else "objects"
    return (f"{len(files)} S3 {noun} verified by size only (no checksum to re-derive): {', '.join(names)}{more}",)
