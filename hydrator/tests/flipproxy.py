"""A byte-flipping reverse proxy for tests (sources.md §3): corruption is injected between the hydrator and a
real server (moto's S3, a distribution registry), which cannot hold bytes that disagree with their checksums.

    proxy = FlipProxy("http://127.0.0.1:5000")          # listens on 127.0.0.1, a free port: proxy.url
    proxy.flip(lambda method, target: target == "/bucket/models/a.bin", times=1)

Every request is forwarded to the upstream base URL verbatim (method, target, headers, `Host` included, so
signed requests still verify and `Range` requests are answered by the upstream), and every response comes
back verbatim, streamed, except that the body of the first `times` 2xx responses with a body whose request
matches the predicate has one byte flipped (XOR 0xFF, at body offset `at`, or the last byte of a shorter
body; a body of unknown length shorter than `at` is sent unflipped). The predicate gets the method and the request target (path and query, as sent). `pause` holds a
matching response after a number of body bytes until the test releases it (to kill a client mid-file).
`trickle` sends the body of the first `times` matching responses at full speed up to a number of bytes, then one
byte per interval (a server that keeps a download alive without moving it). `answer` makes the proxy answer the first `times` matching requests itself (a status, headers and a body: an
error the upstream cannot be made to give, such as S3's `400 InvalidRequest` for an SSE-C object read without
its key), without forwarding them. `requests` logs every request: method, target, range, status, body bytes
handed to the connection, and whether it was flipped.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

Predicate = Callable[[str, str], bool]
CHUNK = 1 << 16
# Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's own, never forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade"}
)


class FlipProxy:
    """A reverse proxy on 127.0.0.1 in front of `upstream` (`http://host:port`, optionally with a path prefix)."""

    def __init__(self, upstream: str):
        url = urlsplit(upstream)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"upstream {upstream!r} must be http://host[:port][/prefix]")
        self.upstream_host = url.hostname
        self.upstream_port = url.port or 80
        self.upstream_prefix = url.path.rstrip("/")
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._flips: list[list] = []  # [predicate, remaining, at]
        self._pauses: list[list] = []  # [predicate, after_bytes, event, reached_event]
        self._answers: list[list] = []  # [predicate, remaining, status, headers, body]
        self._trickles: list[list] = []  # [predicate, remaining, after_bytes, seconds_per_byte]
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.proxy = self
        self.server = server
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def flip(self, predicate: Predicate, times: int = 1, at: int = 0) -> None:
        """Flips one byte (at body offset `at`) in the first `times` matching 2xx responses with a body."""
        with self._lock:
            self._flips.append([predicate, times, at])

    def pause(self, predicate: Predicate, after: int) -> tuple[threading.Event, threading.Event]:
        """Holds the first matching response after `after` body bytes until the first returned event is set;
        the second is set once the bytes before the pause have been sent."""
        release, reached = threading.Event(), threading.Event()
        with self._lock:
            self._pauses.append([predicate, after, release, reached])
        return release, reached

    def trickle(self, predicate: Predicate, after: int, every: float, times: int = 1) -> None:
        """Sends the body of the first `times` matching responses at full speed for `after` bytes, then one byte
        every `every` seconds."""
        with self._lock:
            self._trickles.append([predicate, times, after, every])

    def answer(self, predicate: Predicate, status: int, body: bytes = b"", headers: dict | None = None,
               times: int = 1 << 30) -> None:
        """Answers the first `times` matching requests with `status`, `headers` and `body` (none to a HEAD) instead of
        forwarding them."""
        with self._lock:
            self._answers.append([predicate, times, status, dict(headers or {}), body])

    def clear(self) -> None:
        """Drops every flip, pause and answer (paused responses resume), and the request log."""
        with self._lock:
            for p in self._pauses:
                p[2].set()
            self._flips.clear()
            self._pauses.clear()
            self._answers.clear()
            self._trickles.clear()
            self.requests.clear()

    @property
    def flipped(self) -> int:
        """How many responses had a byte flipped."""
        return sum(1 for r in self.requests if r.get("flipped"))

    def bytes_sent(self, predicate: Predicate) -> int:
        """Body bytes sent in responses to matching requests."""
        return sum(r["bytes"] for r in list(self.requests) if predicate(r["method"], r["target"]))

    def close(self) -> None:
        """Stops listening; paused responses are released."""
        self.clear()
        self.server.shutdown()
        self.server.server_close()

    def _take_flip(self, method: str, target: str) -> int | None:
        with self._lock:
            for f in self._flips:
                if f[1] > 0 and f[0](method, target):
                    f[1] -= 1
                    return f[2]
        return None

    def _take_answer(self, method: str, target: str):
        with self._lock:
            for a in self._answers:
                if a[1] > 0 and a[0](method, target):
                    a[1] -= 1
                    return a[2:]
        return None

    def _take_pause(self, method: str, target: str):
        with self._lock:
            for i, p in enumerate(self._pauses):
                if p[0](method, target):
                    return self._pauses.pop(i)
        return None

    def _take_trickle(self, method: str, target: str):
        with self._lock:
            for t in self._trickles:
                if t[1] > 0 and t[0](method, target):
                    t[1] -= 1
                    return t[2:]
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        proxy: FlipProxy = self.server.proxy
        entry = {"method": self.command, "target": self.path, "range": self.headers.get("Range"), "status": None,
                 "bytes": 0, "flipped": False}
        proxy.requests.append(entry)
        body = self._request_body()
        answer = proxy._take_answer(self.command, self.path)
        if answer is not None:
            self._answer(entry, *answer)
            return
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
        try:
            conn.putrequest(self.command, proxy.upstream_prefix + self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            entry["status"] = response.status
            self._relay(proxy, entry, response)
        except (OSError, http.client.HTTPException):
            self.close_connection = True
        finally:
            conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _forward

    def _answer(self, entry: dict, status: int, headers: dict, body: bytes) -> None:
        entry["status"] = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            entry["bytes"] = len(body)
        self.wfile.flush()

    def _request_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        return None

    def _relay(self, proxy: FlipProxy, entry: dict, response) -> None:
        has_body = self.command != "HEAD" and response.status not in (204, 304) and response.status >= 200
        length = response.getheader("Content-Length")
        chunked = has_body and length is None
        self.send_response_only(response.status, response.reason)
        for k, v in response.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not has_body:
            return
        flip_at = None
        if 200 <= response.status < 300:
            flip_at = proxy._take_flip(self.command, self.path)
            if flip_at is not None and length is not None:
                flip_at = max(0, min(flip_at, int(length) - 1))
        pause = proxy._take_pause(self.command, self.path)
        trickle = proxy._take_trickle(self.command, self.path)
        sent = 0
        while True:
            if pause is not None and sent >= pause[1]:
                self.wfile.flush()
                pause[3].set()
                pause[2].wait()
                pause = None
            want = CHUNK if pause is None else min(CHUNK, pause[1] - sent)
            if trickle is not None:
                self.wfile.flush()
                if sent >= trickle[0]:
                    time.sleep(trickle[1])
                want = 1 if sent >= trickle[0] else min(want, trickle[0] - sent)
            chunk = response.read(want)
            if not chunk:
                break
            if flip_at is not None and sent <= flip_at < sent + len(chunk):
                buf = bytearray(chunk)
                buf[flip_at - sent] ^= 0xFF
                chunk = bytes(buf)
                entry["flipped"] = True
            sent += len(chunk)
            entry["bytes"] = sent  # counted before the write, so the log never lags what a client has read
            self._send(chunk, chunked)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send(self, chunk: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        else:
            self.wfile.write(chunk)
