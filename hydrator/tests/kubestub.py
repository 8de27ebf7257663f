"""A stand-in for the Kubernetes API server: ConfigMap GET, PATCH (merge patch) and PUT, over TLS with a bearer token."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class KubeApi:
    """ConfigMaps by (namespace, name); records every `report.json` written, in order."""

    def __init__(self, ssl_context, token: str):
        self.token = token
        self.configmaps: dict[tuple[str, str], dict] = {}
        self.reports: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.fail_writes = 0  # answer this many more writes with 500
        self.lock = threading.Lock()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.api = self
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        self.server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def create(self, namespace: str, name: str) -> None:
        self.configmaps[(namespace, name)] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": {},
        }

    def phases(self) -> list[str]:
        return [r["phase"] for r in self.reports]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, obj) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        api: KubeApi = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        api.requests.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {api.token}":
            return self._send(401, {"kind": "Status", "code": 401, "reason": "Unauthorized"})
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/configmaps/([^/?]+)", self.path)
        if not m or (m[1], m[2]) not in api.configmaps:
            return self._send(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
        cm = api.configmaps[(m[1], m[2])]
        if self.command == "GET":
            return self._send(200, cm)
        with api.lock:
            if api.fail_writes > 0:
                api.fail_writes -= 1
                return self._send(500, {"kind": "Status", "code": 500})
        patch = json.loads(body)
        if self.command == "PATCH":
            if self.headers.get("Content-Type") != "application/merge-patch+json":
                return self._send(415, {"kind": "Status", "code": 415})
            cm["data"] = {**cm.get("data", {}), **patch.get("data", {})}
        else:
            cm.clear()
            cm.update(patch)
        if "report.json" in cm.get("data", {}):
            api.reports.append(json.loads(cm["data"]["report.json"]))
        self._send(200, cm)

    do_GET = do_PATCH = do_PUT = _handle
