"""A local stand-in for the Hugging Face Hub that the real huggingface_hub client accepts.

It implements what the client and the hydrator use: model info by revision with file
metadata (`?blobs=true`), the file tree, `resolve/<revision>/<path>` with `ETag`,
`X-Repo-Commit`, `X-Linked-Size`, `X-Linked-Etag` and range requests, LFS files redirected
to a second host (another port), and the hub's error responses (`X-Error-Code`) for missing
repos and revisions, gated and private repos. Optionally served under a path prefix (a
mirror such as Artifactory) and over TLS. Test hooks: corrupt a file's next N downloads,
pause a download at an offset, count the bytes served per file, drop a connection, answer 503,
ignore ranges, serve more bytes than the file has, pad the model info (optionally chunked, without a length).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

CHUNK = 256 * 1024


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of `data`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Blob:
    """One file's content and identities."""

    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def oid(self) -> str:
        return git_blob_sha1(self.data)


@dataclass
class Repo:
    """A model repository: commits (path -> Blob) and branches/tags pointing at them."""

    repo_id: str
    gated: bool = False
    private: bool = False
    refs: dict = field(default_factory=dict)
    commits: dict = field(default_factory=dict)
    default_branch: str = "main"

    def commit(self, files: dict[str, bytes], ref: str = "main", lfs_min: int = 1024) -> str:
        """Adds a commit holding `files` (files of `lfs_min` bytes or more are LFS) and points `ref` at it."""
        blobs = {p: Blob(d, len(d) >= lfs_min or p.endswith(".safetensors")) for p, d in files.items()}
        digest = hashlib.sha1(json.dumps({p: b.sha256 for p, b in sorted(blobs.items())}).encode())
        digest.update(str(len(self.commits)).encode())
        sha = digest.hexdigest()
        self.commits[sha] = blobs
        self.refs[ref] = sha
        return sha

    def resolve(self, revision: str | None) -> str | None:
        revision = revision or self.default_branch
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


class Hub:
    """The stand-in's state, shared by its two servers (the hub and the LFS host)."""

    def __init__(self, prefix: str = "", ssl_context=None):
        self.prefix = prefix.rstrip("/")
        self.repos: dict[str, Repo] = {}
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        self.served: dict[str, int] = {}  # path or sha256 -> bytes served
        self.requests: list[dict] = []
        self.corrupt: dict[str, int] = {}  # path -> how many more downloads are corrupted
        self.pauses: dict[str, tuple[int, threading.Event]] = {}
        self.unavailable: dict[str, int] = {}  # path -> how many more GETs answer 503
        self.drops: dict[str, int] = {}  # path -> close the connection after this many bytes (once)
        self.ignore_range: set[str] = set()  # paths whose ranged GETs (but the bytes=0-0 probe) answer 200 with it all
        self.longer: dict[str, int] = {}  # path -> bytes of junk served after the file's own
        # path -> [after, every, times]: its next `times` GETs send `after` bytes, then a byte every `every` seconds
        self.trickles: dict[str, list] = {}
        self.info_padding = 0  # bytes of padding in every model info answer (a broken or hostile hub)
        self.info_chunked = False  # model info answered chunked, with no Content-Length
        self.info_trickle = 0.0  # model info sent a byte per this many seconds (0: at once)
        self.hub = _serve(self, _HubHandler, ssl_context)
        self.lfs = _serve(self, _LfsHandler, ssl_context)
        scheme = "https" if ssl_context else "http"
        self.host_url = f"{scheme}://127.0.0.1:{self.hub.server_address[1]}"
        self.endpoint = self.host_url + self.prefix
        self.lfs_url = f"{scheme}://127.0.0.1:{self.lfs.server_address[1]}"

    def add(self, repo_id: str, **kwargs) -> Repo:
        """Creates a repository."""
        repo = Repo(repo_id, **kwargs)
        self.repos[repo_id.lower()] = repo
        return repo

    def pause(self, path: str, offset: int) -> threading.Event:
        """Stops serving `path` after `offset` bytes until the returned event is set."""
        event = threading.Event()
        self.pauses[path] = (offset, event)
        return event

    def bytes_served(self, path: str) -> int:
        with self.lock:
            return self.served.get(path, 0)

    def reset_counters(self) -> None:
        with self.lock:
            self.served.clear()
            self.requests.clear()

    def close(self) -> None:
        for _, event in self.pauses.values():
            event.set()
        for server in (self.hub, self.lfs):
            server.shutdown()
            server.server_close()


def _serve(hub: Hub, handler, ssl_context) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # clients that hang up are part of the tests
    server.hub = hub
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    @property
    def hub(self) -> Hub:
        return self.server.hub

    def _record(self, host: str) -> None:
        with self.hub.lock:
            self.hub.requests.append(
                {
                    "host": host,
                    "method": self.command,
                    "path": self.path,
                    "range": self.headers.get("Range"),
                    "authorization": self.headers.get("Authorization"),
                    "proxy_authorization": self.headers.get("Proxy-Authorization"),
                }
            )

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _error(self, status: int, code: str | None, message: str) -> None:
        headers = {"Content-Type": "application/json"}
        if code:
            headers["X-Error-Code"] = code
        headers["X-Error-Message"] = message
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def _content(self, key: str, blob: Blob, headers: dict) -> None:
        """Serves a blob with range support, corruption and pauses."""
        data, size = blob.data, len(blob.data)
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and rng != "bytes=0-0" and key in self.hub.ignore_range:
            rng = None
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
            if not m or int(m.group(1)) >= size:
                return self._send(416, b"", {**headers, "Content-Range": f"bytes */{size}"})
            start = int(m.group(1))
            end = min(size - 1, int(m.group(2))) if m.group(2) else size - 1
            status = 206
            headers = {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}
        body = data[start : end + 1] + b"\x5a" * self.hub.longer.get(key, 0)
        with self.hub.lock:
            if self.command == "GET" and self.hub.unavailable.get(key, 0) > 0:
                self.hub.unavailable[key] -= 1
                return self._error(503, None, "Service Unavailable")
            drop = self.hub.drops.pop(key, None) if self.command == "GET" and len(body) > 1 else None
        if self.command == "GET" and len(body) > 1:
            with self.hub.lock:
                if self.hub.corrupt.get(key, 0) > 0:
                    self.hub.corrupt[key] -= 1
                    mid = len(body) // 2
                    body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1 :]
        self.send_response(status)
        for k, v in {**headers, "Accept-Ranges": "bytes", "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        pause = self.hub.pauses.get(key)
        pos = start
        with self.hub.lock:
            trickle = self.hub.trickles.get(key) if self.command == "GET" and len(body) > 1 else None
            if trickle is not None and trickle[2] > 0:
                trickle[2] -= 1
            else:
                trickle = None
        if trickle is not None:
            return self._trickle(key, body, trickle[0], trickle[1])
        if drop is not None:
            self._write(key, body[:drop])
            self.close_connection = True
            self.connection.shutdown(2)
            return
        try:
            for i in range(0, len(body), CHUNK):
                chunk = body[i : i + CHUNK]
                if pause and pos < pause[0] <= pos + len(chunk):
                    cut = pause[0] - pos
                    self._write(key, chunk[:cut])
                    pos += cut
                    chunk = chunk[cut:]
                    pause[1].wait(60)
                self._write(key, chunk)
                pos += len(chunk)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _trickle(self, key: str, body: bytes, after: int, every: float) -> None:
        """Sends `after` bytes, then one byte every `every` seconds (each well within a read timeout) until the end or
        the client hangs up."""
        try:
            self._write(key, body[:after])
            for i in range(after, len(body)):
                time.sleep(every)
                self._write(key, body[i : i + 1])
        except OSError:
            self.close_connection = True

    def _write(self, key: str, chunk: bytes) -> None:
        if not chunk:
            return
        self.wfile.write(chunk)
        self.wfile.flush()
        with self.hub.lock:
            self.hub.served[key] = self.hub.served.get(key, 0) + len(chunk)


class _HubHandler(_Base):
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self._record("hub")
        url = urlsplit(self.path)
        path = url.path
        if not path.startswith(self.hub.prefix + "/"):
            return self._error(404, None, "Not Found")
        path = path[len(self.hub.prefix) :]
        if path.startswith("/api/models/"):
            return self._api(path[len("/api/models/") :], url.query)
        m = re.fullmatch(r"/(?P<repo>[^/]+(?:/[^/]+)?)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path)
        if m:
            return self._resolve(unquote(m["repo"]), unquote(m["rev"]), unquote(m["file"]))
        self._error(404, None, "Not Found")

    def _repo(self, repo_id: str, for_content: bool) -> Repo | None:
        repo = self.hub.repos.get(repo_id.lower())
        token = self._token()
        if repo is None or (repo.private and token not in self.hub.tokens):
            self._error(401, "RepoNotFound", "Repository not found")
            return None
        if repo.gated and for_content and token not in self.hub.tokens:
            status = 401 if token is None else 403
            self._error(status, "GatedRepo", "Access to this model is restricted")
            return None
        return repo

    def _api(self, rest: str, query: str) -> None:
        m = re.fullmatch(r"(?P<repo>[^/]+(?:/[^/]+)?)(?:/(?P<kind>revision|tree)/(?P<rev>[^/]+)(?:/(?P<sub>.*))?)?", rest)
        if not m:
            return self._error(404, None, "Not Found")
        repo = self._repo(unquote(m["repo"]), for_content=False)
        if repo is None:
            return
        sha = repo.resolve(unquote(m["rev"]) if m["rev"] else None)
        if sha is None:
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        blobs = repo.commits[sha]
        if m["kind"] == "tree":
            return self._tree(blobs, unquote(m["sub"] or ""))
        siblings = []
        for p, b in sorted(blobs.items()):
            entry = {"rfilename": p}
            if "blobs=" in query:
                entry.update(size=len(b.data), blobId=b.oid)
                if b.lfs:
                    entry["lfs"] = {"size": len(b.data), "sha256": b.sha256, "pointerSize": 134}
            siblings.append(entry)
        info = {
            "_id": "x",
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "sha": sha,
            "private": repo.private,
            "gated": "manual" if repo.gated else False,
            "disabled": False,
            "tags": [],
            "siblings": siblings,
            "lastModified": "2026-01-01T00:00:00.000Z",
        }
        if self.hub.info_padding:
            info["cardData"] = {"padding": "x" * self.hub.info_padding}
        body = json.dumps(info).encode()
        if self.hub.info_trickle:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self._trickle("model-info", body, 0, self.hub.info_trickle)
        if not self.hub.info_chunked:
            return self._send(200, body, {"Content-Type": "application/json"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for i in range(0, len(body), CHUNK):
                self.wfile.write(b"%x\r\n" % len(body[i : i + CHUNK]) + body[i : i + CHUNK] + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client stopped reading

    def _tree(self, blobs: dict, sub: str) -> None:
        items = []
        for p, b in sorted(blobs.items()):
            if sub and not p.startswith(sub.rstrip("/") + "/"):
                continue
            item = {"type": "file", "oid": b.oid, "size": len(b.data), "path": p}
            if b.lfs:
                item["lfs"] = {"oid": b.sha256, "size": len(b.data), "pointerSize": 134}
            items.append(item)
        self._send(200, json.dumps(items).encode(), {"Content-Type": "application/json"})

    def _resolve(self, repo_id: str, rev: str, path: str) -> None:
        repo = self._repo(repo_id, for_content=True)
        if repo is None:
            return
        sha = repo.resolve(rev)
        if sha is None:
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        blob = repo.commits[sha].get(path)
        if blob is None:
            return self._error(404, "EntryNotFound", "Entry not found")
        if blob.lfs:
            location = f"{self.hub.lfs_url}/lfs/{blob.sha256}?name={quote(path)}"
            headers = {
                "Location": location,
                "X-Repo-Commit": sha,
                "X-Linked-Size": str(len(blob.data)),
                "X-Linked-Etag": f'"{blob.sha256}"',
                "ETag": f'"{blob.oid}"',
            }
            return self._send(302, b"", headers)
        self._content(path, blob, {"ETag": f'"{blob.oid}"', "X-Repo-Commit": sha})


class _LfsHandler(_Base):
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self._record("lfs")
        m = re.fullmatch(r"/lfs/([0-9a-f]{64})", urlsplit(self.path).path)
        blob = None
        if m:
            for repo in self.hub.repos.values():
                for blobs in repo.commits.values():
                    for p, b in blobs.items():
                        if b.lfs and b.sha256 == m.group(1):
                            blob, name = b, p
        if blob is None:
            return self._error(404, None, "NoSuchKey")
        self._content(name, blob, {"ETag": f'"{blob.sha256}"'})
