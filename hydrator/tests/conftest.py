"""Fixtures: the hub stand-in, the Kubernetes API stand-in, a TLS certificate, and running the real program."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
from dataclasses import dataclass

import pytest

import modelcache_hydrator
from hubstub import Hub
from kubestub import KubeApi

TOKEN = "hf_SECRETtokenVALUE1234567890"
SA_TOKEN = "sa-token-abcdef"
NAMESPACE = "modelcache-system"
CONFIGMAP = "report-qwen-gpu-east"
MiB = 1 << 20
# The subprocess runs the very package these tests import (the mutation proof relies on it).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(modelcache_hydrator.__file__)))


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, server SSL context)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    cert_path, key_path = d / "ca.crt", d / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return str(cert_path), context


@pytest.fixture
def hub():
    h = Hub()
    yield h
    h.close()


@pytest.fixture
def kube(tls, tmp_path):
    api = KubeApi(tls[1], SA_TOKEN)
    api.create(NAMESPACE, CONFIGMAP)
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(SA_TOKEN)
    (sa / "namespace").write_text(NAMESPACE)
    (sa / "ca.crt").write_text(open(tls[0]).read())
    api.env = {
        "MODELCACHE_REPORT_CONFIGMAP": CONFIGMAP,
        "MODELCACHE_TEST_SERVICEACCOUNT_DIR": str(sa),
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(api.port),
    }
    yield api
    api.close()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict | None
    report_raw: bytes

    @property
    def why(self) -> str:
        """The program's last log line and exit code, for assertion messages."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return f"exit {self.code}: {lines[-1] if lines else '(no output)'}"


class Env:
    """Runs the real program (`python -m modelcache_hydrator`) in a clean environment."""

    def __init__(self, tmp_path, hub: Hub):
        self.tmp = tmp_path
        self.root = tmp_path / "cache"
        self.root.mkdir()
        self.report_file = tmp_path / "report.json"
        self.base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": PACKAGE_ROOT,
            "HOME": str(tmp_path / "home"),
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_ENDPOINT": hub.endpoint,
            "MODELCACHE_ROOT": str(self.root),
            "MODELCACHE_CLAIM_BYTES": str(10 << 30),
            "MODELCACHE_EPOCH": "1.0",
            "MODELCACHE_JOB": "hydrate-qwen-gpu-east-1",
            "MODELCACHE_POD": "hydrate-qwen-gpu-east-1-abcde",
            "MODELCACHE_REPORT_FILE": str(self.report_file),
            "MODELCACHE_TEST_RETRY_BASE_SECONDS": "0.05",
            "MODELCACHE_TEST_LEASE_POLL_SECONDS": "0.1",
        }

    def env(self, **overrides) -> dict:
        env = dict(self.base)
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def start(self, **overrides) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "modelcache_hydrator"],
            env=self.env(**overrides),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, timeout: float = 120, **overrides) -> Run:
        """Runs the program to its end; one still running after `timeout` seconds is killed and fails the test."""
        p = self.start(**overrides)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise AssertionError(f"the program was still running after {timeout:.0f} s") from None
        return self.finished(p, out, err)

    def finished(self, p, out, err) -> Run:
        raw = self.report_file.read_bytes() if self.report_file.exists() else b""
        return Run(p.returncode, out, err, json.loads(raw) if raw else None, raw)

    def rev(self, name: str):
        return self.root / name


@pytest.fixture
def env(tmp_path, hub):
    return Env(tmp_path, hub)
