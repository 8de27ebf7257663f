"""Writing the report into its ConfigMap through the Kubernetes API (hydrator.md §4).

In-cluster configuration: the API server from KUBERNETES_SERVICE_HOST/PORT, the pod's
projected ServiceAccount token (read at every write: it rotates) and CA certificate, and
the pod's namespace from the same folder. One JSON merge PATCH of `data["report.json"]`
on `/api/v1/namespaces/<ns>/configmaps/<name>`: the Role needs `patch` on that ConfigMap only.
"""

from __future__ import annotations

import json
import os
import ssl
from urllib.parse import quote

REPORT_KEY = "report.json"


class ConfigMapWriter:
    """Patches one ConfigMap's `report.json` with the pod's ServiceAccount token."""

    def __init__(self, name: str, serviceaccount_dir: str):
        self.name = name
        self.dir = serviceaccount_dir
        self._client = None
        self._url: str | None = None

    def _setup(self):
        import httpx2

        host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise RuntimeError("KUBERNETES_SERVICE_HOST is not set")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        with open(os.path.join(self.dir, "namespace"), encoding="utf-8") as f:
            namespace = f.read().strip()
        context = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        self._client = httpx2.Client(verify=context, timeout=httpx2.Timeout(15.0, connect=10.0))
        self._url = f"https://{host}:{port}/api/v1/namespaces/{quote(namespace, safe='')}/configmaps/{quote(self.name, safe='')}"

    def write(self, report: bytes) -> None:
        """Patches the ConfigMap; raises on any failure (the caller decides whether it matters)."""
        if self._client is None:
            self._setup()
        with open(os.path.join(self.dir, "token"), encoding="utf-8") as f:
            token = f.read().strip()
        body = json.dumps({"data": {REPORT_KEY: report.decode()}}).encode()
        response = self._client.patch(
            self._url,
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/merge-patch+json"},
        )
        if response.status_code >= 300:
            raise ConfigMapError(response.status_code)


class ConfigMapError(Exception):
    """The API server refused the write (status only: the body may echo request data)."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status
