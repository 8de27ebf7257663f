"""The downloader's GET on the standard library's HTTP client (hydrator.md §3, §5).

huggingface_hub's session (httpx2) hands a body over in 64 KiB pieces, each copied through h11
and a dozen Python calls; here a body is read with `http.client` straight into the caller's
buffer (`Response.readinto1`), which is what makes verification the main cost of a download.
The session still does everything else (model info, the access probe). What it does for a GET
is kept, from the same settings:

- proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are read and matched by
  httpx2's own rules (`get_environment_proxies`, `URLPattern`, most specific first), so a file
  goes through the proxy the session's calls go through. Credentials in the proxy URL
  (`http://user:pass@proxy:3128`) are sent as `Proxy-Authorization: Basic` to the proxy only.
  An `http://` proxy carries `https` URLs in a CONNECT tunnel and `http` URLs as absolute-URI
  requests; an `https://` proxy (TLS to the proxy) carries `http` URLs. TLS inside TLS (an
  `https://` proxy for an `https` URL) and SOCKS proxies are not done here: `Unsupported`,
  and the downloader uses the session for that file.
- trust: `httpx2.create_ssl_context()`, which reads `SSL_CERT_FILE` / `SSL_CERT_DIR` as the
  session does (the platform's bundle is exported there, hydrator.md §5).
- redirects: at most 20; `Authorization` is dropped when a redirect leaves the origin (the LFS
  storage host never sees the hub token), except for an http → https upgrade of the same host,
  as httpx does.
- timeouts: 30 s to connect, 60 s without a byte (a body trickling a byte at a time is the stall rule's, read by
  `readinto1`, download.py).
- one kept-alive connection per origin and proxy for the whole run; a kept connection the server
  has closed meanwhile is replaced once, at once.

Network failures (refused, reset, TLS, timeout, a broken response) raise `NetworkError`
(transient, failure.py); HTTP errors are raised by `raise_for_status` as the hub client's own
exceptions, so they are classified exactly as the session's are.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import uuid
from urllib.parse import unquote, urljoin, urlsplit

from .failure import NetworkError

CONNECT_TIMEOUT = 30.0
READ_TIMEOUT = 60.0
MAX_REDIRECTS = 20
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
# A redirect's or an error's body is read (to keep the connection) up to this; longer, the connection is dropped.
SMALL_BODY = 1 << 20
# Errors of a kept-alive connection the server closed while it was idle: the request is sent again on a new one.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


class Unsupported(Exception):
    """A route the standard library's client does not take (TLS inside TLS, SOCKS): use the session."""


class _HTTP(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        self.sock.settimeout(READ_TIMEOUT)


class _HTTPS(http.client.HTTPSConnection):
    def connect(self):
        super().connect()
        self.sock.settimeout(READ_TIMEOUT)


class _Proxy:
    """A proxy URL split into where to connect and the credentials to present."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or ""
        self.port = parts.port or DEFAULT_PORTS.get(self.scheme, 0)
        self.headers: dict[str, str] = {}
        if parts.username is not None or parts.password is not None:
            userpass = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            self.headers["Proxy-Authorization"] = "Basic " + base64.b64encode(userpass.encode()).decode()

    @property
    def key(self) -> tuple:
        return (self.scheme, self.host, self.port, self.headers.get("Proxy-Authorization"))


class Response:
    """A response whose body is read into the caller's buffer; `release` keeps the connection when it can."""

    def __init__(self, client: "Client", key: tuple, conn: http.client.HTTPConnection, raw: http.client.HTTPResponse,
                 url: str):
        self._client, self._key, self._conn, self._raw = client, key, conn, raw
        self.url = url
        self.status = raw.status
        self.headers = raw.msg

    def readinto1(self, view) -> int:
        """Fills `view` with what one network read brings (or what is already buffered): a trickling server never
        blocks it for long (the stall rule, stall.Stall); 0 at the end of the body. `HTTPResponse.readinto`
        with the buffered reader's `readinto1`: straight into `view`, no copy (a chunked body, which `http.client`
        only reads through `read1`, is copied)."""
        raw = self._raw
        try:
            if raw.fp is None or raw.chunked or raw._method == "HEAD":
                return raw.readinto1(view)
            if raw.length is not None and len(view) > raw.length:
                view = view[: raw.length]
            n = raw.fp.readinto1(view)
            if not n and view:
                raw._close_conn()
            elif raw.length is not None:
                raw.length -= n
                if not raw.length:
                    raw._close_conn()
            return n
        except (OSError, http.client.HTTPException) as exc:
            raise NetworkError(type(exc).__name__) from exc

    def has_more(self) -> bool:
        """Whether the body goes on (read after the bytes the caller expected)."""
        if self._raw.length is not None:
            return self._raw.length > 0
        try:
            return bool(self._raw.read(1))
        except (OSError, http.client.HTTPException) as exc:
            raise NetworkError(type(exc).__name__) from exc

    def read_small(self) -> bytes:
        """The body, when it is small (redirects, errors); b"" and the connection dropped otherwise."""
        if self._raw.length is not None and self._raw.length > SMALL_BODY:
            return b""
        try:
            return self._raw.read(SMALL_BODY)
        except (OSError, http.client.HTTPException):
            return b""

    def release(self) -> None:
        """Returns the connection to the pool when the body was read to its end, else closes it."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        if raw.isclosed() and not raw.will_close and self._conn.sock is not None:
            self._client._pool[self._key] = self._conn
        else:
            raw.close()
            self._conn.close()


class Client:
    """GETs with the session's proxies, trust, redirects and timeouts; one connection per origin and proxy."""

    def __init__(self):
        import httpx2
        from httpx2._utils import URLPattern, get_environment_proxies

        self._url = httpx2.URL
        self._routes = sorted(
            ((URLPattern(k), v) for k, v in get_environment_proxies().items()), key=lambda route: route[0]
        )
        self._context: ssl.SSLContext | None = None
        self._pool: dict[tuple, http.client.HTTPConnection] = {}

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL the session would use for `url` (None: direct)."""
        target = self._url(url)
        for pattern, proxy in self._routes:
            if pattern.matches(target):
                return proxy
        return None

    def get(self, url: str, headers: dict[str, str]) -> Response:
        """The response to GET `url` after redirects; the caller reads the body, then `release`s it."""
        headers = {**headers, "X-Amzn-Trace-Id": str(uuid.uuid4())}  # as the hub client's request hook adds
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(url, headers)
            location = response.headers.get("Location")
            if response.status not in REDIRECTS or not location:
                return response
            response.read_small()
            response.release()
            target = urljoin(url, location)
            if not _keeps_authorization(url, target):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            url = target
        raise NetworkError("TooManyRedirects")

    def _send(self, url: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise NetworkError("UnsupportedProtocol")
        host, port = parts.hostname, parts.port or DEFAULT_PORTS[scheme]
        proxy_url = self.proxy_for(url)
        proxy = _Proxy(proxy_url) if proxy_url else None
        if proxy is not None and (proxy.scheme not in DEFAULT_PORTS or (proxy.scheme == "https" and scheme == "https")):
            raise Unsupported(proxy.scheme)
        key = (scheme, host, port, proxy.key if proxy else None)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        send_headers = dict(headers)
        if proxy is not None and scheme == "http":
            target = f"http://{parts.netloc.rpartition('@')[2]}{target}"  # absolute-URI form, through the proxy
            send_headers.update(proxy.headers)
        for attempt in (1, 2):
            conn = self._pool.pop(key, None)
            kept = conn is not None
            if conn is None:
                conn = self._connect(scheme, host, port, proxy)
            try:
                conn.request("GET", target, headers=send_headers)
                raw = conn.getresponse()
            except _STALE as exc:
                conn.close()
                if kept and attempt == 1:
                    continue
                raise NetworkError(type(exc).__name__) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise NetworkError(type(exc).__name__) from exc
            return Response(self, key, conn, raw, url)
        raise AssertionError("unreachable")

    def _connect(self, scheme: str, host: str, port: int, proxy: _Proxy | None) -> http.client.HTTPConnection:
        if proxy is None:
            if scheme == "https":
                return _HTTPS(host, port, timeout=CONNECT_TIMEOUT, context=self._ssl())
            return _HTTP(host, port, timeout=CONNECT_TIMEOUT)
        if scheme == "https":  # an http:// proxy: CONNECT, then TLS to the host through the tunnel
            conn = _HTTPS(proxy.host, proxy.port, timeout=CONNECT_TIMEOUT, context=self._ssl())
            conn.set_tunnel(host, port, headers=dict(proxy.headers))
            return conn
        if proxy.scheme == "https":
            return _HTTPS(proxy.host, proxy.port, timeout=CONNECT_TIMEOUT, context=self._ssl())
        return _HTTP(proxy.host, proxy.port, timeout=CONNECT_TIMEOUT)

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            import httpx2

            self._context = httpx2.create_ssl_context()
        return self._context


def _keeps_authorization(old: str, new: str) -> bool:
    """httpx's rule: the same origin, or an http → https upgrade of the same host on the default ports."""
    a, b = urlsplit(old), urlsplit(new)
    a_port = a.port or DEFAULT_PORTS.get(a.scheme.lower())
    b_port = b.port or DEFAULT_PORTS.get(b.scheme.lower())
    if (a.scheme.lower(), a.hostname, a_port) == (b.scheme.lower(), b.hostname, b_port):
        return True
    return (
        a.scheme.lower() == "http"
        and b.scheme.lower() == "https"
        and a.hostname == b.hostname
        and a_port == 80
        and b_port == 443
    )


def raise_for_status(response: Response) -> None:
    """Raises the hub client's exception for an HTTP error (>= 400), built from the status, headers and body."""
    if response.status < 400:
        return
    import httpx2
    from huggingface_hub.utils import hf_raise_for_status

    body = response.read_small()
    response.release()
    request = httpx2.Request("GET", response.url)
    framing = ("content-length", "content-encoding", "transfer-encoding")
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in framing]
    mirror = httpx2.Response(response.status, headers=headers, content=body, request=request)
    hf_raise_for_status(mirror)
    raise httpx2.HTTPStatusError(f"HTTP {response.status}", request=request, response=mirror)


_client: Client | None = None


def client() -> Client:
    """The run's client (one pool of connections for every file)."""
    global _client
    if _client is None:
        _client = Client()
    return _client
