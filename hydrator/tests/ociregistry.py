"""A real OCI registry for the tests (Debian's `docker-registry`, distribution 2.8) and pushing to it with the
`oras` PyPI client as image-spec v1.0 manifests (the registry knows no artifact-spec). The hydrator reaches
it through tests/flipproxy.py, which counts, holds or corrupts the bytes of a blob."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from dataclasses import dataclass

import pytest

from helpers import free_port, stop

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ORAS_FILE = "application/vnd.oci.image.layer.v1.tar"
ORAS_DIR = "application/vnd.oci.image.layer.v1.tar+gzip"
WEIGHT = "application/vnd.cncf.model.weight.v1"
TITLE = "org.opencontainers.image.title"
FILEPATH = "org.cncf.model.filepath"
UNPACK = "io.deis.oras.content.unpack"


@dataclass
class Layer:
    """One layer to push: its bytes, media type and annotations."""

    data: bytes
    media_type: str = ORAS_FILE
    annotations: dict | None = None

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


def file_layer(name: str, data: bytes) -> Layer:
    """An ORAS file layer (`oras push <name>`)."""
    return Layer(data, ORAS_FILE, {TITLE: name})


def tar_bytes(entries: dict[str, bytes], compression: str = "", extra=None) -> bytes:
    """A tar archive of `entries` (path -> bytes), compressed with `gzip`, `zstd` or nothing; `extra(tar)` may add
    hostile members."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in entries.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            extra(tar)
    data = raw.getvalue()
    if compression == "gzip":
        import gzip

        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


class Registry:
    """`docker-registry serve` on 127.0.0.1 with a temporary filesystem storage (and htpasswd when asked)."""

    def __init__(self, workdir, htpasswd: str | None = None, tls: tuple[str, str] | None = None):
        if not os.path.exists(REGISTRY_BIN):
            pytest.fail("docker-registry is not installed (scripts/setup.sh installs Debian's docker-registry)")
        self.workdir = str(workdir)
        self.ca = tls[0] if tls is not None else None  # HTTPS, trusted through this certificate
        self.log = open(os.path.join(self.workdir, "registry.log"), "wb")
        for _attempt in range(3):  # another process may take the free port before the registry binds it
            self.port = free_port()
            self.host = f"127.0.0.1:{self.port}"
            if self._start(htpasswd, tls):
                break
        else:
            raise RuntimeError(f"docker-registry did not start: {open(self.log.name).read()[-2000:]}")
        self.user: tuple[str, str] | None = None

    def _start(self, htpasswd: str | None, tls: tuple[str, str] | None) -> bool:
        config = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.workdir, "data")}, "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "test-secret"},
        }
        if htpasswd is not None:
            config["auth"] = {"htpasswd": {"realm": "basic-realm", "path": htpasswd}}
        if tls is not None:
            config["http"]["tls"] = {"certificate": tls[0], "key": tls[1]}
        path = os.path.join(self.workdir, "config.yml")
        with open(path, "w") as f:
            json.dump(config, f)  # YAML is a superset of JSON
        self.process = subprocess.Popen([REGISTRY_BIN, "serve", path], stdout=self.log, stderr=subprocess.STDOUT)
        context = ssl.create_default_context(cafile=self.ca) if self.ca else None
        deadline = time.monotonic() + 20
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{'https' if tls else 'http'}://{self.host}/v2/", timeout=1, context=context).close()
            except urllib.error.HTTPError:  # 401 with htpasswd: it is up
                pass
            except OSError:
                time.sleep(0.05)
                continue
            time.sleep(0.1)
            if self.process.poll() is None:  # up, and the one listening is ours
                return True
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        return False

    def client(self):
        """oras-py's client for this registry (plain HTTP), logged in when the registry has a user."""
        import oras.provider

        client = oras.provider.Registry(
            hostname=self.host, insecure=self.ca is None, tls_verify=self.ca or True, auth_backend="basic"
        )
        if self.user is not None:
            client.auth.set_basic_auth(*self.user)
        return client

    def push(self, repository: str, tag: str, layers: list[Layer], annotations: dict | None = None) -> str:
        """Pushes the layers (blobs) and an image-spec v1.0 manifest with oras-py; returns the manifest digest."""
        import oras.oci

        client = self.client()
        container = client.get_container(f"{self.host}/{repository}:{tag}")
        with tempfile.TemporaryDirectory() as tmp:
            descriptors = []
            for i, layer in enumerate([*layers, Layer(b"{}")]):
                blob = os.path.join(tmp, f"blob{i}")
                with open(blob, "wb") as f:
                    f.write(layer.data)
                descriptor = {"mediaType": layer.media_type, "size": len(layer.data), "digest": layer.digest}
                if layer.annotations:
                    descriptor["annotations"] = dict(layer.annotations)
                response = client.upload_blob(blob, container, descriptor)
                assert response.status_code in (200, 201, 202), response.status_code
                descriptors.append(descriptor)
        manifest = oras.oci.NewManifest()
        config, _ = oras.oci.ManifestConfig()
        manifest["config"] = config
        manifest["layers"] = descriptors[:-1]
        manifest["annotations"] = annotations or {}
        response = client.upload_manifest(manifest, container)
        assert response.status_code == 201, response.status_code
        return response.headers["Docker-Content-Digest"]

    def push_index(self, repository: str, tag: str, manifests: list[str]) -> str:
        """Pushes an image index naming manifests of this repository (as a multi-platform image has)."""
        client = self.client()
        entries = []
        for digest in manifests:
            with client.do_request(
                f"{client.prefix}://{self.host}/v2/{repository}/manifests/{digest}", "GET", headers={"Accept": OCI_MANIFEST}
            ) as r:
                entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(r.content),
                                "platform": {"architecture": "amd64", "os": "linux"}})
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
        response = client.do_request(
            f"{client.prefix}://{self.host}/v2/{repository}/manifests/{tag}", "PUT", headers={"Content-Type": OCI_INDEX}, data=body
        )
        assert response.status_code == 201, response.status_code
        return response.headers["Docker-Content-Digest"]

    def blob_file(self, digest: str) -> str:
        """Where the registry keeps a blob's bytes (to corrupt them at rest)."""
        algo, hex_ = digest.split(":")
        return os.path.join(self.workdir, "data", "docker", "registry", "v2", "blobs", algo, hex_[:2], hex_, "data")

    def close(self) -> None:
        stop(self.process)
        self.log.close()
