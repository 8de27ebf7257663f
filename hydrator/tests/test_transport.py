"""The downloader's own HTTP client (transport.py), in process: routes, redirects, kept connections."""

from __future__ import annotations

import socket
import threading

import pytest

from hubstub import Hub
from modelcache_hydrator import transport
from modelcache_hydrator.failure import NetworkError, classify

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def clean_env(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def read_all(response) -> bytes:
    out, buffer = b"", memoryview(bytearray(1 << 16))
    while n := response.readinto1(buffer):
        out += bytes(buffer[:n])
    response.release()
    return out


def test_routes_follow_the_sessions_rules(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://user:p%40ss@proxy.corp:3128")
    clean_env.setenv("HTTP_PROXY", "https://proxy.corp:3129")
    clean_env.setenv("NO_PROXY", "internal.example,.svc,10.0.0.0/8")
    client = transport.Client()
    assert client.proxy_for("https://huggingface.co/x") == "http://user:p%40ss@proxy.corp:3128"
    assert client.proxy_for("http://mirror.example/x") == "https://proxy.corp:3129"
    assert client.proxy_for("https://internal.example/x") is None
    assert client.proxy_for("https://hub.ns.svc/x") is None
    assert client.proxy_for("http://10.1.2.3:8080/x") is None
    proxy = transport._Proxy("http://user:p%40ss@proxy.corp:3128")
    assert (proxy.host, proxy.port) == ("proxy.corp", 3128)
    assert proxy.headers == {"Proxy-Authorization": "Basic dXNlcjpwQHNz"}  # user:p@ss


def test_tls_inside_tls_and_socks_are_left_to_the_session(clean_env):
    clean_env.setenv("HTTPS_PROXY", "https://127.0.0.1:9")
    clean_env.setenv("HTTP_PROXY", "socks5://127.0.0.1:9")
    client = transport.Client()
    with pytest.raises(transport.Unsupported):
        client.get("https://127.0.0.1:1/x", {})
    with pytest.raises(transport.Unsupported):
        client.get("http://127.0.0.1:1/x", {})


def test_the_token_follows_a_redirect_to_the_same_origin_only():
    assert transport._keeps_authorization("https://hub.example/a", "https://hub.example:443/b")
    assert transport._keeps_authorization("http://hub.example/a", "https://hub.example/b")
    assert not transport._keeps_authorization("https://hub.example/a", "https://cdn.example/b")
    assert not transport._keeps_authorization("https://hub.example/a", "https://hub.example:8443/b")
    assert not transport._keeps_authorization("https://hub.example/a", "http://hub.example/b")


def test_a_redirected_download_drops_the_token_and_keeps_one_connection_per_host(clean_env):
    hub = Hub()
    try:
        repo = hub.add("org/model")
        data = bytes(range(256)) * 4096
        commit = repo.commit({"model.safetensors": data, "config.json": b'{"a": 1}'})
        client = transport.Client()
        for _ in range(3):
            for name, content in (("model.safetensors", data), ("config.json", b'{"a": 1}')):
                response = client.get(f"{hub.endpoint}/org/model/resolve/{commit}/{name}", {"Authorization": "Bearer t"})
                assert response.status == 200 and read_all(response) == content
        assert all(r["authorization"] is None for r in hub.requests if r["host"] == "lfs")
        assert all(r["authorization"] == "Bearer t" for r in hub.requests if r["host"] == "hub")
        assert len(client._pool) == 2, "one kept connection to the hub and one to the LFS host"
    finally:
        hub.close()


def test_a_kept_connection_the_server_closed_is_replaced_at_once(clean_env):
    """A server that closes after each answer without saying so: the next GET goes out again on a new connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        client = transport.Client()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        assert read_all(client.get(url, {})) == b"hello"
        assert read_all(client.get(url, {})) == b"hello"
        assert len(accepted) == 2
    finally:
        listener.close()


def test_network_failures_are_transient_and_http_errors_keep_the_hubs_classes(clean_env):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(NetworkError) as info:
        transport.Client().get(f"http://127.0.0.1:{port}/x", {})
    failure = classify(info.value, "downloading x")
    assert (failure.code, failure.reason) == (1, "Transient") and "network error (ConnectionRefusedError)" in failure.message
    hub = Hub()
    try:
        hub.add("org/gated", gated=True).commit({"model.safetensors": b"x" * 2048})
        response = transport.Client().get(f"{hub.endpoint}/org/gated/resolve/main/model.safetensors", {})
        with pytest.raises(Exception) as info:
            transport.raise_for_status(response)
        assert (classify(info.value, "downloading").reason, response.status) == ("Gated", 401)
    finally:
        hub.close()


class _Body:
    """A response stand-in: the body in uneven pieces, then maybe more than listed."""

    def __init__(self, data: bytes, extra: bytes = b""):
        self.data, self.extra, self.at = data, extra, 0

    def readinto1(self, view) -> int:
        n = min(len(view), 300_001, len(self.data) - self.at)
        view[:n] = self.data[self.at : self.at + n]
        self.at += n
        return n

    def has_more(self) -> bool:
        return bool(self.extra)


@pytest.mark.parametrize("extra", [b"", b"junk"])
def test_the_body_is_written_and_hashed_in_order_on_the_second_thread(tmp_path, extra):
    import hashlib

    from modelcache_hydrator import download
    from modelcache_hydrator.inputs import Durations
    from modelcache_hydrator.files import RemoteFile

    data = bytes(range(256)) * 40_000 + b"tail"  # 10 MiB and a bit: several buffers, a writeback hint, a short last read
    file = RemoteFile("model.safetensors", len(data), hashlib.sha256(data).hexdigest(), None)
    partial = download.Partial(str(tmp_path / "model.safetensors"), file)
    seen = []
    downloader = download.Downloader(None, {}, Durations(), seen.append)
    downloader._receive(_Body(data, extra), partial)
    assert (tmp_path / "model.safetensors").read_bytes() == data and partial.offset == len(data) == sum(seen)
    if extra:
        assert partial.overflow and partial.hasher.hexdigest() != file.sha256
    else:
        assert not partial.overflow and partial.hasher.hexdigest() == file.sha256
