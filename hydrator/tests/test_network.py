"""Mirrors, proxies and tokens (hydrator.md §1, §5): the endpoint and proxy are honoured, the token never leaks."""

from __future__ import annotations

import json
import time

import pytest

from conftest import TOKEN
from helpers import assert_staged, model_files
from hubstub import Hub
from proxystub import Proxy

REPO = "org/gated"


@pytest.fixture
def gated(hub):
    repo = hub.add(REPO, gated=True)
    files = model_files(5)
    return repo, files, repo.commit(files)


def test_gated_without_token_fails_with_exit_10_before_any_byte(env, hub, gated):
    run = env.run(MODELCACHE_SOURCE=f"hf://{REPO}")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "Gated"
    assert not [p for p in env.root.rglob("*") if p.is_file()], "nothing written before the access probe"


def test_gated_with_token_stages_and_the_token_appears_nowhere(env, hub, kube, gated):
    repo, files, commit = gated
    hub.tokens.add(TOKEN)
    release = hub.pause("model-00002-of-00002.safetensors", 1 << 20)
    p = env.start(MODELCACHE_SOURCE=f"hf://{REPO}", HF_TOKEN=TOKEN, **kube.env)
    try:
        deadline = time.monotonic() + 30
        while hub.bytes_served("model-00002-of-00002.safetensors") < 1 << 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        cmdline = open(f"/proc/{p.pid}/cmdline", "rb").read()
    finally:
        release.set()
    out, err = p.communicate(timeout=60)
    run = env.finished(p, out, err)
    assert run.code == 0, run.why
    assert_staged(env.root, REPO, commit, files)
    assert TOKEN.encode() not in cmdline
    assert TOKEN not in run.stdout and TOKEN not in run.stderr
    assert TOKEN.encode() not in run.report_raw
    assert all(TOKEN not in json.dumps(r) for r in kube.reports)
    assert not [f for f in env.root.rglob("*") if f.is_file() and TOKEN.encode() in f.read_bytes()]
    # The token goes to the hub only, never to the LFS storage host a redirect leads to.
    assert all(r["authorization"] is None for r in hub.requests if r["host"] == "lfs")
    assert any(r["authorization"] == f"Bearer {TOKEN}" for r in hub.requests if r["host"] == "hub")


def test_mirror_endpoint_with_a_path_prefix_is_honoured(env):
    mirror = Hub(prefix="/artifactory/api/hf")
    try:
        repo = mirror.add("org/model")
        files = model_files(6)
        commit = repo.commit(files)
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=mirror.endpoint)
        assert run.code == 0, run.why
        assert_staged(env.root, "org/model", commit, files)
        hub_paths = [r["path"] for r in mirror.requests if r["host"] == "hub"]
        assert hub_paths and all(p.startswith("/artifactory/api/hf/") for p in hub_paths)
    finally:
        mirror.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_proxy_carries_every_request(env, tls, scheme):
    cert, context = tls
    hub = Hub(ssl_context=context if scheme == "https" else None)
    proxy = Proxy()
    try:
        repo = hub.add("org/model")
        files = model_files(7)
        commit = repo.commit(files)
        extra = {"HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": cert} if scheme == "https" else {"HTTP_PROXY": proxy.url}
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, **extra)
        assert run.code == 0, run.why
        assert_staged(env.root, "org/model", commit, files)
        hub_port, lfs_port = hub.hub.server_address[1], hub.lfs.server_address[1]
        if scheme == "https":
            assert f"CONNECT 127.0.0.1:{hub_port}" in proxy.seen and f"CONNECT 127.0.0.1:{lfs_port}" in proxy.seen
            assert len(proxy.seen) >= 2
        else:
            through = {s.split()[1].split("/")[2] for s in proxy.seen}
            assert through == {f"127.0.0.1:{hub_port}", f"127.0.0.1:{lfs_port}"}
            assert len(proxy.seen) == len(hub.requests), "every request went through the proxy"
    finally:
        proxy.close()
        hub.close()


def test_tls_hub_without_its_ca_fails_as_transient(env, tls):
    hub = Hub(ssl_context=tls[1])
    try:
        hub.add("org/model").commit(model_files(8))
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint)
        assert run.code == 1 and run.report["failure"]["reason"] == "Transient"
    finally:
        hub.close()


def test_platform_ca_bundle_is_appended_and_trusted(env, tls):
    """A mirror behind a private CA works with only MODELCACHE_CA_BUNDLE set (hydrator.md §5)."""
    cert, context = tls
    hub = Hub(ssl_context=context)
    try:
        repo = hub.add("org/model")
        files = model_files(9)
        commit = repo.commit(files)
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, MODELCACHE_CA_BUNDLE=cert)
        assert run.code == 0, run.why
        assert_staged(env.root, "org/model", commit, files)
    finally:
        hub.close()


@pytest.mark.parametrize("content", [None, b"not a certificate\n"])
def test_unusable_ca_bundle_is_bad_input(env, tmp_path, content):
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    run = env.run(MODELCACHE_SOURCE="hf://org/model", MODELCACHE_CA_BUNDLE=str(path))
    assert run.code == 2, run.why
    assert run.report["failure"]["reason"] == "BadInput"
    assert "MODELCACHE_CA_BUNDLE" in run.report["failure"]["message"]


PROXY_USER, PROXY_PASSWORD = "cache-bot", "p@ss:w/rd"
PROXY_URL_CREDENTIALS = "cache-bot:p%40ss%3Aw%2Frd@"  # percent-encoded in the URL, as a user must write it


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_proxy_credentials_are_sent_to_the_proxy_only(env, tls, scheme):
    """HTTPS_PROXY/HTTP_PROXY with user:pass@: every request (CONNECT or absolute URI) carries them, the hub never does."""
    cert, context = tls
    hub = Hub(ssl_context=context if scheme == "https" else None)
    proxy = Proxy(credentials=(PROXY_USER, PROXY_PASSWORD))
    try:
        repo = hub.add("org/model")
        files = model_files(10)
        commit = repo.commit(files)
        url = proxy.url.replace("http://", "http://" + PROXY_URL_CREDENTIALS)
        extra = {"HTTPS_PROXY": url, "SSL_CERT_FILE": cert} if scheme == "https" else {"HTTP_PROXY": url}
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, **extra)
        assert run.code == 0, run.why
        assert_staged(env.root, "org/model", commit, files)
        assert proxy.refused == 0 and proxy.authorizations and all(a == proxy.expected for a in proxy.authorizations)
        lfs_port = hub.lfs.server_address[1]
        assert any(f"127.0.0.1:{lfs_port}" in s for s in proxy.seen), "the LFS host was reached through the proxy"
        assert all(r["proxy_authorization"] is None for r in hub.requests)
        for text in (run.stdout, run.stderr, run.report_raw.decode()):
            assert PROXY_PASSWORD not in text and "p%40ss" not in text
    finally:
        proxy.close()
        hub.close()


def test_wrong_proxy_credentials_are_transient_exit_1(env):
    hub = Hub()
    proxy = Proxy(credentials=(PROXY_USER, PROXY_PASSWORD))
    try:
        hub.add("org/model").commit(model_files(11))
        url = proxy.url.replace("http://", "http://cache-bot:wrong@")
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, HTTP_PROXY=url)
        assert run.code == 1 and run.report["failure"]["reason"] == "Transient", run.why
        assert proxy.refused and not hub.requests
    finally:
        proxy.close()
        hub.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_https_proxy_url_carries_every_request(env, tls, scheme):
    """A proxy reached over TLS (https:// in HTTPS_PROXY/HTTP_PROXY), trusted through SSL_CERT_FILE."""
    cert, context = tls
    hub = Hub(ssl_context=context if scheme == "https" else None)
    proxy = Proxy(ssl_context=context, credentials=(PROXY_USER, PROXY_PASSWORD))
    try:
        repo = hub.add("org/model")
        files = model_files(12)
        commit = repo.commit(files)
        url = proxy.url.replace("https://", "https://" + PROXY_URL_CREDENTIALS)
        variable = "HTTPS_PROXY" if scheme == "https" else "HTTP_PROXY"
        run = env.run(MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, SSL_CERT_FILE=cert, **{variable: url})
        assert run.code == 0, run.why
        assert_staged(env.root, "org/model", commit, files)
        hub_port, lfs_port = hub.hub.server_address[1], hub.lfs.server_address[1]
        through = " ".join(proxy.seen)
        assert f"127.0.0.1:{hub_port}" in through and f"127.0.0.1:{lfs_port}" in through
        assert proxy.refused == 0 and all(a == proxy.expected for a in proxy.authorizations)
    finally:
        proxy.close()
        hub.close()


def test_a_file_trickling_through_the_sessions_route_is_stalled_and_resumed(env, tls):
    """An `https://` proxy for an `https` hub (TLS inside TLS) downloads through huggingface_hub's session: the stall
    rule holds there too (shortened: under 64 KiB a second), and the file resumes with a Range from the byte reached."""
    cert, context = tls
    hub = Hub(ssl_context=context)
    proxy = Proxy(ssl_context=context)
    try:
        repo = hub.add("org/model")
        files = model_files(14, big=3 << 20)
        commit = repo.commit(files)
        hub.trickles["model-00002-of-00002.safetensors"] = [10_000, 0.2, 1]
        stall = {"MODELCACHE_TEST_STALL_SECONDS": "1", "MODELCACHE_TEST_STALL_BYTES": str(64 << 10)}
        run = env.run(
            timeout=60, MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, SSL_CERT_FILE=cert,
            HTTPS_PROXY=proxy.url, **stall
        )
        assert run.code == 0, run.why
        assert "the download stalled" in run.stderr
        assert_staged(env.root, "org/model", commit, files)
        ranges = [r["range"] for r in hub.requests if r["host"] == "lfs" and r["range"] != "bytes=0-0"]
        assert len(ranges) == 3 and ranges[1] is None and int(ranges[2][6:-1]) >= 10_000, ranges
    finally:
        proxy.close()
        hub.close()


def test_no_proxy_sends_the_listed_hosts_direct(env):
    hub = Hub()
    proxy = Proxy()
    try:
        repo = hub.add("org/model")
        files = model_files(13)
        commit = repo.commit(files)
        run = env.run(
            MODELCACHE_SOURCE="hf://org/model", HF_ENDPOINT=hub.endpoint, HTTP_PROXY=proxy.url, NO_PROXY="localhost,127.0.0.1"
        )
        assert run.code == 0, run.why
        assert_staged(env.root, "org/model", commit, files)
        assert proxy.seen == [] and any(r["host"] == "lfs" for r in hub.requests)
    finally:
        proxy.close()
        hub.close()
