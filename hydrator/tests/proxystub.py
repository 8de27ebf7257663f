"""A forward proxy stand-in that records what passes: CONNECT tunnels (HTTPS_PROXY) and absolute-URI requests (HTTP_PROXY).

Optionally served over TLS (an `https://` proxy URL) and requiring credentials (`Proxy-Authorization:
Basic`, else 407); every request's Proxy-Authorization is recorded, and none is passed on.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Proxy:
    def __init__(self, ssl_context=None, credentials: tuple[str, str] | None = None):
        self.seen: list[str] = []  # "CONNECT host:port" or "GET http://..."
        self.authorizations: list[str | None] = []  # each request's Proxy-Authorization, in order
        self.refused = 0  # requests answered 407
        self.expected = (
            "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode() if credentials else None
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, address: None
        server.proxy = self
        if ssl_context is not None:
            server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        self.server = server
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _admitted(self) -> bool:
        proxy = self.server.proxy
        given = self.headers.get("Proxy-Authorization")
        proxy.authorizations.append(given)
        if proxy.expected is None or given == proxy.expected:
            return True
        proxy.refused += 1
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self):
        self.server.proxy.seen.append(f"CONNECT {self.path}")
        if not self._admitted():
            return
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    break
                for s in readable:
                    data = s.recv(1 << 16)
                    if not data:
                        return
                    # A TLS connection to the proxy may hold decrypted bytes select() does not see.
                    while getattr(s, "pending", lambda: 0)():
                        data += s.recv(1 << 16)
                    (upstream if s is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True

    def _forward(self):
        self.server.proxy.seen.append(f"{self.command} {self.path}")
        if not self._admitted():
            return
        url = urlsplit(self.path)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection", "proxy-authorization")}
        conn.request(self.command, url.path + (f"?{url.query}" if url.query else ""), headers=headers)
        response = conn.getresponse()
        body = response.read() if self.command != "HEAD" else b""
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        conn.close()

    do_GET = do_HEAD = _forward
