"""Exit codes, failure reasons, and the classification of exceptions into them (hydrator.md §1, §4).

Failures are classified from exception types and HTTP status codes, never from message text.
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_TRANSIENT = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 10
EXIT_DOES_NOT_FIT = 11
EXIT_CHECKSUM = 12

# HTTP statuses worth retrying: timeouts, rate limits and server errors.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

MESSAGE_LIMIT = 1024


class HydrationFailure(Exception):
    """A failure with its exit code and report reason; `message` never holds a secret."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message[:MESSAGE_LIMIT]

    @property
    def transient(self) -> bool:
        """Whether retrying the same step may succeed."""
        return self.code == EXIT_TRANSIENT


class NetworkError(Exception):
    """A network failure of the downloader's own client (refused, reset, TLS, timeout, a broken response), by type name."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def bad_input(message: str) -> HydrationFailure:
    """A missing or malformed input (exit 2)."""
    return HydrationFailure(EXIT_BAD_INPUT, "BadInput", message)


def transient(message: str) -> HydrationFailure:
    """A failure that a later attempt may not meet (exit 1)."""
    return HydrationFailure(EXIT_TRANSIENT, "Transient", message)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status carried by a huggingface_hub or httpx error, if any."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException, what: str) -> HydrationFailure:
    """Maps an exception raised while doing `what` (e.g. "resolving hf://org/name") to a failure."""
    if isinstance(exc, HydrationFailure):
        return exc
    if isinstance(exc, NetworkError):
        return transient(f"{what}: network error ({exc.name})")
    # Imported here so that input validation runs without loading the client.
    import httpx2
    from huggingface_hub import errors as hub

    name = type(exc).__name__
    if isinstance(exc, hub.GatedRepoError):
        return HydrationFailure(
            EXIT_NOT_FOUND, "Gated", f"{what}: the repository is gated and the token (if any) has not been granted access"
        )
    if isinstance(exc, hub.RepositoryNotFoundError):
        return HydrationFailure(
            EXIT_NOT_FOUND,
            "NotFound",
            f"{what}: repository not found, or private and the token (if any) has no access "
            f"(HTTP {http_status(exc)})",
        )
    if isinstance(exc, hub.RevisionNotFoundError):
        return HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: revision not found (HTTP {http_status(exc)})")
    if isinstance(exc, hub.EntryNotFoundError):
        return HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: file not found on the hub")
    if isinstance(exc, hub.DisabledRepoError):
        return HydrationFailure(EXIT_NOT_FOUND, "AccessDenied", f"{what}: access to this repository is disabled")
    if isinstance(exc, hub.HFValidationError):
        return bad_input(f"{what}: the hub client rejected the input ({name})")
    if isinstance(exc, (hub.HfHubHTTPError, httpx2.HTTPStatusError)):
        return from_status(http_status(exc), what)
    if isinstance(exc, (httpx2.TransportError, httpx2.TooManyRedirects, hub.OfflineModeIsEnabled)):
        return transient(f"{what}: network error ({name})")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return HydrationFailure(EXIT_DOES_NOT_FIT, "DiskFull", f"{what}: the claim is full ({errno.errorcode[exc.errno]})")
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0, "unknown")
        return transient(f"{what}: file system error {code} on {getattr(exc, 'filename', None) or 'a file'}")
    return transient(f"{what}: unexpected {name}")


def from_status(status: int | None, what: str) -> HydrationFailure:
    """Maps an HTTP status without a hub error code to a failure."""
    if status in (401, 403):
        return HydrationFailure(EXIT_NOT_FOUND, "AccessDenied", f"{what}: access denied (HTTP {status})")
    if status in (404, 410):
        return HydrationFailure(EXIT_NOT_FOUND, "NotFound", f"{what}: not found (HTTP {status})")
    return transient(f"{what}: HTTP {status}")
