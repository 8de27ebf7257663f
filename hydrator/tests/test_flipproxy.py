"""The byte-flipping proxy itself: verbatim pass-through (ranges, headers, Host), N flips, pauses."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flipproxy import FlipProxy

BODY = bytes(range(256)) * 64  # 16 KiB


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Host"), self.headers.get("X-Custom")))
        body, status = BODY, 200
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            body, status = BODY[start:], 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"abc"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append((self.path, len(data), None))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    p = FlipProxy(f"http://127.0.0.1:{upstream.server_address[1]}")
    yield p
    p.close()


def get(proxy, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r, data


def test_passes_everything_verbatim_including_ranges_and_host(proxy, upstream):
    r, data = get(proxy, "/b/k?x=1", {"Host": "bucket.example:9", "X-Custom": "v"})
    assert r.status == 200 and data == BODY and r.getheader("ETag") == '"abc"'
    r, data = get(proxy, "/b/k", {"Range": "bytes=100-"})
    assert r.status == 206 and data == BODY[100:] and r.getheader("Content-Range") == f"bytes 100-{len(BODY) - 1}/{len(BODY)}"
    assert upstream.seen[0] == ("/b/k?x=1", "bucket.example:9", "v")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("PUT", "/b/new", body=b"x" * 1000)
    assert conn.getresponse().status == 200
    assert upstream.seen[-1] == ("/b/new", 1000, None)
    assert [(e["method"], e["target"], e["range"], e["status"], e["flipped"]) for e in proxy.requests] == [
        ("GET", "/b/k?x=1", None, 200, False), ("GET", "/b/k", "bytes=100-", 206, False), ("PUT", "/b/new", None, 200, False)]


def test_flips_one_byte_in_the_first_n_matching_responses_only(proxy):
    proxy.flip(lambda method, target: target == "/b/k", times=2, at=10)
    assert get(proxy, "/b/other")[1] == BODY
    for _ in range(2):
        data = get(proxy, "/b/k")[1]
        assert len(data) == len(BODY) and [i for i in range(len(BODY)) if data[i] != BODY[i]] == [10]
        assert data[10] == BODY[10] ^ 0xFF
    assert get(proxy, "/b/k")[1] == BODY
    assert proxy.flipped == 2
    proxy.flip(lambda method, target: True, at=10**9)  # past the end: the last byte
    data = get(proxy, "/b/k", {"Range": "bytes=16000-"})[1]
    assert data[:-1] == BODY[16000:-1] and data[-1] == BODY[-1] ^ 0xFF


def test_pause_holds_a_response_mid_body_until_released(proxy):
    release, reached = proxy.pause(lambda method, target: target == "/b/k", after=5000)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("data", get(proxy, "/b/k")[1]))
    t.start()
    assert reached.wait(10)
    assert proxy.requests[-1]["bytes"] == 5000 and "data" not in result
    release.set()
    t.join(10)
    assert result["data"] == BODY
    assert proxy.bytes_sent(lambda method, target: target == "/b/k") == len(BODY)


def test_answer_replies_itself_to_the_first_n_matching_requests(proxy, upstream):
    error = b"<Error><Code>InvalidRequest</Code></Error>"
    proxy.answer(lambda method, target: target == "/b/k", 400, error, {"Content-Type": "application/xml"}, times=1)
    r, data = get(proxy, "/b/k")
    assert r.status == 400 and data == error and r.getheader("Content-Type") == "application/xml"
    assert get(proxy, "/b/k")[1] == BODY, "answered once, then forwarded"
    assert [s[0] for s in upstream.seen] == ["/b/k"]
    assert [(e["status"], e["bytes"]) for e in proxy.requests] == [(400, len(error)), (200, len(BODY))]


def test_trickle_sends_a_byte_per_interval_after_the_first_bytes(proxy):
    proxy.trickle(lambda method, target: target == "/b/k", after=1000, every=0.05)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/b/k")
    r = conn.getresponse()
    assert r.read(1000) == BODY[:1000]
    started = time.monotonic()
    assert r.read(10) == BODY[1000:1010]
    assert time.monotonic() - started >= 0.4
    conn.close()
    assert get(proxy, "/b/k")[1] == BODY, "only the first matching response trickles"
