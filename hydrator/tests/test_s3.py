"""The S3 source (sources.md §1, §3) against moto in server mode on 127.0.0.1, the real boto3 client in the
program, and the byte-flipping proxy between them (its request log proves what was or was not fetched)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import time
import zlib

import boto3
import pytest
from botocore.config import Config

from conftest import Env
from flipproxy import FlipProxy
from helpers import MiB, data
from motoserver import MotoServer

BUCKET = "models-bucket"
PREFIX = "models/tiny"
SOURCE = f"s3://{BUCKET}/{PREFIX}"
ACCESS_KEY = "AKIAMODELCACHETEST01"
SECRET = "SECRETaccessKEYvalue/abcdefghijklmnop1234"
SESSION_TOKEN = "SESSIONtokenVALUE-zyxwvutsrq9876543210"
CHANGED = "the bucket changed since it was pinned: set `modelplane.ai/refresh-revision` to stage the new content"
PART = 5 * MiB  # moto, like S3, wants parts of at least 5 MiB but the last


class _NoHub:
    endpoint = "http://127.0.0.1:9"  # never used by an S3 run


@pytest.fixture(scope="session")
def moto():
    server = MotoServer()
    yield server
    server.close()


class S3:
    """The test's own view of the store: a client straight to moto (not through the proxy)."""

    def __init__(self, moto: MotoServer, proxy: FlipProxy):
        self.moto, self.proxy = moto, proxy
        common = dict(endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        self.client = boto3.client("s3", **common)  # CRC32 on every upload, boto3's default
        self.plain = boto3.client("s3", config=Config(request_checksum_calculation="when_required"), **common)
        self.client.create_bucket(Bucket=BUCKET)

    def put(self, key: str, body: bytes, algorithm: str | None = "CRC32") -> None:
        if algorithm is None:
            self.plain.put_object(Bucket=BUCKET, Key=key, Body=body)
        else:
            self.client.put_object(Bucket=BUCKET, Key=key, Body=body, ChecksumAlgorithm=algorithm)

    def multipart(self, key: str, parts: list[bytes], algorithm: str | None = "CRC32") -> None:
        c = self.client if algorithm else self.plain
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        upload = c.create_multipart_upload(Bucket=BUCKET, Key=key, **extra)["UploadId"]
        done = []
        for n, body in enumerate(parts, 1):
            r = c.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=n, Body=body, **extra)
            entry = {"PartNumber": n, "ETag": r["ETag"]}
            if algorithm:
                entry["Checksum" + algorithm] = r["Checksum" + algorithm]
            done.append(entry)
        c.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": done})

    def digest(self, prefix: str = PREFIX) -> str:
        """The listing digest, computed here from the rule (not from the program's code)."""
        base = prefix + "/" if prefix else ""
        lines = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=base):
            for o in page.get("Contents", []):
                lines.append((o["Key"][len(base):].encode(), o["Size"], o["ETag"].strip('"')))
        lines.sort()
        return hashlib.sha256(b"".join(b"%s\t%d\t%s\n" % (k, s, e.encode()) for k, s, e in lines)).hexdigest()

    def gets(self, key: str, full_only: bool = True) -> list[dict]:
        """The proxy's GETs of one object (without the one-byte probe when `full_only`)."""
        target = f"/{BUCKET}/{key}"
        return [r for r in self.proxy.requests if r["method"] == "GET" and r["target"] == target
                and not (full_only and r["range"] == "bytes=0-0")]


@pytest.fixture
def s3(moto):
    moto.reset()
    proxy = FlipProxy(moto.url)
    yield S3(moto, proxy)
    proxy.close()


def aws_env(url: str) -> dict:
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def env(tmp_path, s3):
    e = Env(tmp_path, _NoHub())
    e.base.pop("HF_ENDPOINT")
    e.base.update(aws_env(s3.proxy.url), MODELCACHE_SOURCE=SOURCE)
    return e


def rev_dir(source: str, digest: str) -> str:
    return "rev-" + hashlib.sha256(f"{source}@{digest}".encode()).hexdigest()[:12]


def assert_no_secret(run) -> None:
    for text in (run.stdout, run.stderr, run.report_raw.decode()):
        assert SECRET not in text and SESSION_TOKEN not in text


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32(body: bytes) -> bytes:
    return zlib.crc32(body).to_bytes(4, "big")


# Objects under the prefix, one per way of verifying, and neighbours that must never be picked up.
A = data(1, 300_000)
SHA = data(2, 200_000)
PLAIN = data(3, 100_000)
MP = [data(5, PART), data(6, PART), data(7, 1000)]
MP_PLAIN = [data(8, PART), data(9, 777)]
CONFIG = b'{"hidden": 64}'


def fill(s3: S3) -> dict[str, bytes]:
    s3.put(f"{PREFIX}/a.bin", A)
    s3.put(f"{PREFIX}/sha.bin", SHA, "SHA256")
    s3.put(f"{PREFIX}/plain.bin", PLAIN, None)
    s3.put(f"{PREFIX}/sub/dir/config.json", CONFIG)
    s3.put(f"{PREFIX}/sub/", b"", None)  # a folder marker, as consoles make
    s3.multipart(f"{PREFIX}/mp.bin", MP)
    s3.multipart(f"{PREFIX}/mp-plain.bin", MP_PLAIN, None)
    s3.put(f"{PREFIX}-v2/a.bin", b"never", None)
    s3.put(f"{PREFIX}v2.bin", b"never", None)
    s3.put("models/other/b.bin", b"never", None)
    return {
        "a.bin": A, "sha.bin": SHA, "plain.bin": PLAIN,
        "sub/dir/config.json": CONFIG, "mp.bin": b"".join(MP), "mp-plain.bin": b"".join(MP_PLAIN),
    }


def test_a_prefix_is_staged_at_the_revision_root_each_object_verified_its_best_way(env, s3):
    files = fill(s3)
    run = env.run()
    assert run.code == 0, run.why
    digest = s3.digest()
    assert run.report["phase"] == "Complete" and run.report["commit"] == digest
    name = rev_dir(SOURCE, digest)
    assert run.report["dir"] == name
    d = env.root / name
    on_disk = {str(p.relative_to(d)): p.read_bytes() for p in d.rglob("*") if p.is_file() and not p.name.startswith(".modelcache-")}
    assert on_disk == files, "exactly the prefix's objects, at the root; never models/tiny-v2/ or models/tinyv2.bin"
    assert (d / ".modelcache-complete").read_text() == f"{SOURCE}@{digest}"
    manifest = json.loads((d / ".modelcache-manifest.json").read_text())
    assert manifest["staged"] == f"{SOURCE}@{digest}" and manifest["commit"] == digest
    entries = {e["path"]: e for e in manifest["files"]}
    assert entries["a.bin"] == {"path": "a.bin", "size": len(A), "crc32": crc32(A).hex()}
    assert entries["sha.bin"] == {"path": "sha.bin", "size": len(SHA), "sha256": hashlib.sha256(SHA).hexdigest()}
    assert entries["plain.bin"] == {"path": "plain.bin", "size": len(PLAIN), "md5": hashlib.md5(PLAIN).hexdigest()}
    composite = crc32(b"".join(crc32(p) for p in MP)).hex() + "-3"
    assert entries["mp.bin"] == {"path": "mp.bin", "size": len(files["mp.bin"]), "crc32Composite": composite,
                                 "parts": [[PART, 2], [1000, 1]]}
    assert entries["mp-plain.bin"] == {"path": "mp-plain.bin", "size": len(files["mp-plain.bin"])}
    assert run.report["warnings"] == ["1 S3 object verified by size only (no checksum to re-derive): mp-plain.bin"]
    assert run.report["files"] == 6 and run.report["totalBytes"] == sum(len(v) for v in files.values())
    assert run.report["doneBytes"] == run.report["totalBytes"] and run.report["verifiedFiles"] == 6
    assert not any("v2" in r["target"] or "other" in r["target"] for r in s3.proxy.requests if r["method"] != "GET" or "?" not in r["target"])
    assert_no_secret(run)


def test_the_whole_bucket_when_the_uri_names_no_prefix(env, s3):
    s3.put("top.bin", b"top")
    s3.put("models/x/y.bin", b"nested")
    run = env.run(MODELCACHE_SOURCE=f"s3://{BUCKET}")
    assert run.code == 0, run.why
    d = env.root / rev_dir(f"s3://{BUCKET}", s3.digest(""))
    assert (d / "top.bin").read_bytes() == b"top" and (d / "models/x/y.bin").read_bytes() == b"nested"


def test_listing_digest_is_stable_across_runs_and_changed_by_an_overwrite(env, s3):
    fill(s3)
    first = env.run()
    assert first.code == 0, first.why
    s3.proxy.clear()
    again = env.run()
    assert again.code == 0 and again.report["commit"] == first.report["commit"] == s3.digest()
    assert "already staged" in again.stderr
    assert not [r for r in s3.proxy.requests if r["method"] == "GET" and "?" not in r["target"] and r["range"] != "bytes=0-0"]
    s3.put(f"{PREFIX}/a.bin", data(99, 300_000))  # same key and size, other bytes
    third = env.run(MODELCACHE_KEEP=first.report["dir"])
    assert third.code == 0, third.why
    assert third.report["commit"] != first.report["commit"] and third.report["commit"] == s3.digest()
    assert third.report["dir"] != first.report["dir"]
    assert (env.root / first.report["dir"] / ".modelcache-complete").exists(), "a new listing never rewrites the old directory"


def test_a_pin_the_bucket_no_longer_matches_is_source_changed_before_any_object_is_read(env, s3):
    fill(s3)
    pin = s3.digest()
    pinned = env.run(MODELCACHE_COMMIT=pin)
    assert pinned.code == 0 and pinned.report["commit"] == pin
    s3.put(f"{PREFIX}/added.bin", b"new object")
    s3.proxy.clear()
    run = env.run(MODELCACHE_COMMIT=pin)
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "SourceChanged"
    assert CHANGED in run.report["failure"]["message"]
    assert all(r["target"].startswith(f"/{BUCKET}?") for r in s3.proxy.requests), "only the listing was read"


def test_an_object_replaced_after_the_listing_is_never_mixed_in(env, s3):
    """Every GET carries If-Match with the listed ETag: an object replaced while the run reads others is refused
    (412), which is SourceChanged when pinned."""
    fill(s3)
    pin = s3.digest()
    release, reached = s3.proxy.pause(lambda m, t: m == "GET" and t == f"/{BUCKET}/{PREFIX}/a.bin", after=1000)
    p = env.start(MODELCACHE_COMMIT=pin)
    try:
        assert reached.wait(60)
        s3.put(f"{PREFIX}/sha.bin", data(77, 200_000), "SHA256")  # read after a.bin (files go in path order)
    finally:
        release.set()
    out, err = p.communicate(timeout=120)
    run = env.finished(p, out, err)
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "SourceChanged" and CHANGED in run.report["failure"]["message"]
    assert [r["status"] for r in s3.gets(f"{PREFIX}/sha.bin")] == [412]
    assert not (env.root / rev_dir(SOURCE, pin) / "sha.bin").exists()


@pytest.mark.parametrize("key,times,code", [
    ("a.bin", 1, 0), ("a.bin", 2, 12), ("sha.bin", 2, 12), ("plain.bin", 2, 12), ("mp.bin", 1, 0), ("mp.bin", 2, 12),
])
def test_a_corrupted_object_is_fetched_again_once_then_fails_with_exit_12(env, s3, key, times, code):
    files = fill(s3)
    target = f"/{BUCKET}/{PREFIX}/{key}"
    s3.proxy.flip(lambda method, t: method == "GET" and t == target, times=times, at=len(files[key]) // 2)
    run = env.run()
    assert run.code == code, run.why
    assert s3.proxy.flipped == times
    assert len(s3.gets(f"{PREFIX}/{key}")) == 2, "fetched exactly twice"
    d = env.root / rev_dir(SOURCE, s3.digest())
    if code == 0:
        assert (d / key).read_bytes() == files[key]
        assert any(key in w and "once" in w for w in run.report["warnings"])
    else:
        assert run.report["failure"]["reason"] == "ChecksumMismatch" and key in run.report["failure"]["message"]
        assert not (d / key).exists() and not (d / ".modelcache-complete").exists()


def test_resume_after_sigkill_mid_object_fetches_only_the_rest(env, s3):
    big = data(11, 24 * MiB)
    s3.put(f"{PREFIX}/big.bin", big)
    s3.put(f"{PREFIX}/small.json", b"{}")
    target = f"/{BUCKET}/{PREFIX}/big.bin"
    half = 12 * MiB
    release, reached = s3.proxy.pause(lambda method, t: method == "GET" and t == target, after=half)
    digest = s3.digest()
    partial = env.root / rev_dir(SOURCE, digest) / ".modelcache-partial" / "big.bin"
    p = env.start()
    try:
        assert reached.wait(60), "the proxy never sent half the object"
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size == half) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert partial.stat().st_size == half
        argv = open(f"/proc/{p.pid}/cmdline", "rb").read().decode(errors="replace")
        assert SECRET not in argv and SESSION_TOKEN not in argv
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    finally:
        release.set()
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGKILL
    first = s3.proxy.bytes_sent(lambda m, t: m == "GET" and t == target)
    s3.proxy.clear()
    run = env.run(MODELCACHE_POD="hydrate-qwen-gpu-east-1-fghij", MODELCACHE_TEST_LEASE_STALE_SECONDS="1")
    assert run.code == 0, run.why
    assert (env.root / rev_dir(SOURCE, digest) / "big.bin").read_bytes() == big
    assert [r["range"] for r in s3.gets(f"{PREFIX}/big.bin")] == [f"bytes={half}-"]
    refetched = first + s3.proxy.bytes_sent(lambda m, t: m == "GET" and t == target) - len(big)
    assert refetched <= 0.10 * len(big), f"re-fetched {refetched} bytes"
    assert run.report["doneBytes"] == run.report["totalBytes"]
    assert_no_secret(run)


def test_not_enough_space_fails_before_any_byte(env, s3):
    files = fill(s3)
    total = sum(len(v) for v in files.values())
    run = env.run(MODELCACHE_CLAIM_BYTES=total - 1)
    assert run.code == 11, run.why
    assert run.report["failure"]["reason"] == "DoesNotFit"
    gets = [r for r in s3.proxy.requests if r["method"] == "GET" and "?" not in r["target"]]
    assert [r["range"] for r in gets] == ["bytes=0-0"], "only the one-byte access probe"
    assert not [p for p in env.root.rglob("*") if p.is_file() and not p.name.startswith(".modelcache-")]


def test_a_missing_bucket_is_not_found(env, s3):
    run = env.run(MODELCACHE_SOURCE="s3://no-such-bucket/models")
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound" and "no-such-bucket" in run.report["failure"]["message"]


def test_an_empty_prefix_is_not_found(env, s3):
    s3.put(f"{PREFIX}-v2/a.bin", b"not under models/tiny/")
    run = env.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "NotFound" and "no objects under" in run.report["failure"]["message"]


def test_denied_credentials_are_access_denied_and_never_shown(tmp_path):
    """moto enforcing authentication (INITIAL_NO_AUTH_ACTION_COUNT=0): an access key it does not know is refused."""
    server = MotoServer(enforce_auth=True)
    try:
        e = Env(tmp_path, _NoHub())
        e.base.pop("HF_ENDPOINT")
        e.base.update(aws_env(server.url), MODELCACHE_SOURCE=SOURCE)
        run = e.run()
    finally:
        server.close()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "AccessDenied"
    assert "InvalidAccessKeyId" in run.report["failure"]["message"]
    assert_no_secret(run)


def test_no_credentials_at_all_is_access_denied(env, s3):
    fill(s3)
    run = env.run(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_SESSION_TOKEN=None)
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "AccessDenied"


@pytest.mark.parametrize("keys", [
    ["ok.bin", "../escape.bin"],
    ["ok.bin", "/etc/passwd"],
    ["ok.bin", "a/../../b.bin"],
    ["ok.bin", "bad\x01name.bin"],
    ["ok.bin", "a//b.bin"],
    ["ok.bin", "./a.bin"],
    ["a", "a/b"],
    ["ok.bin", ".modelcache-complete"],
    ["ok.bin", "weights/" + "n" * 256 + ".bin"],
], ids=["dotdot", "absolute", "nested-dotdot", "control-char", "empty-segment", "dot", "file-and-directory", "reserved",
        "name-too-long"])
def test_hostile_keys_are_refused_before_any_object_is_read(env, s3, keys):
    for key in keys:
        s3.put(f"{PREFIX}/{key}", b"x" * 10)
    s3.put(f"{PREFIX}/zzz-first-safe.bin", b"y" * 10)
    run = env.run()
    assert run.code == 10, run.why
    assert run.report["failure"]["reason"] == "UnsafePath"
    assert s3.proxy.requests and all(r["target"].startswith(f"/{BUCKET}?") for r in s3.proxy.requests), \
        "only the listing: no HEAD or GET of any object"
    assert not [p for p in env.root.rglob("*") if p.is_file()]


def s3_error(code: str) -> bytes:
    """An S3 error body, as S3 answers it."""
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>The object was stored using a '
            b"form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
            b"</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>" % code.encode())


@pytest.mark.parametrize("method,key,code", [
    ("GET", "sub/dir/config.json", "InvalidRequest"),  # the smallest object: refused at the access probe
    ("GET", "a.bin", "InvalidArgument"),  # refused while fetching
    ("HEAD", "sha.bin", None),  # refused while choosing its check (a HEAD's error has no body, no code)
], ids=["probe", "fetch", "head"])
def test_a_bad_request_is_permanent_and_names_the_key(env, s3, method, key, code):
    """S3 answers 400 to a request it will never accept (an SSE-C object read without its customer key, which moto
    cannot be made to answer, hence the proxy): exit 10 at once, the key and the error code named, never retried."""
    fill(s3)
    target = f"/{BUCKET}/{PREFIX}/{key}"
    s3.proxy.answer(lambda m, t: m == method and t == target, 400, s3_error(code) if code else b"",
                    {"Content-Type": "application/xml", "x-amz-request-id": "4442587FB7D0A2F9"})
    run = env.run()
    assert run.code == 10, run.why
    failure = run.report["failure"]
    assert failure["reason"] == "AccessDenied"
    assert f"{PREFIX}/{key}" in failure["message"] and (f"({code}, HTTP 400)" if code else "(HTTP 400)") in failure["message"]
    # botocore's region redirector repeats a HeadObject's 400 once after asking the bucket's region: its rule, not a retry.
    sent = len([r for r in s3.proxy.requests if r["method"] == method and r["target"] == target])
    assert sent == (2 if method == "HEAD" else 1), "never retried"
    assert not (env.root / rev_dir(SOURCE, s3.digest()) / ".modelcache-complete").exists()
    assert_no_secret(run)


@pytest.mark.parametrize("status,code", [(503, "SlowDown"), (400, "RequestTimeout"), (500, "InternalError")])
def test_throttling_timeouts_and_server_errors_are_retried(env, s3, status, code):
    files = fill(s3)
    target = f"/{BUCKET}/{PREFIX}/a.bin"
    s3.proxy.answer(lambda m, t: m == "GET" and t == target, status, s3_error(code), {"Content-Type": "application/xml"},
                    times=2)
    run = env.run()
    assert run.code == 0, run.why
    assert (env.root / rev_dir(SOURCE, s3.digest()) / "a.bin").read_bytes() == files["a.bin"]
    assert [r["status"] for r in s3.gets(f"{PREFIX}/a.bin")] == [status, status, 200]


def test_a_listing_of_more_objects_than_the_limit_is_refused_page_by_page(s3, monkeypatch):
    """The limit (100,000 objects per source; 5 here, in pages of 2 keys: moto holding 100,001 objects would take
    minutes) is checked as each page arrives: the listing stops at the page that passes it, never kept whole."""
    from modelcache_hydrator import files, s3 as s3_source
    from modelcache_hydrator.failure import HydrationFailure
    from modelcache_hydrator.inputs import read_inputs

    for module in (files, s3_source):
        monkeypatch.setattr(module, "MAX_FILES", 5, raising=False)
    monkeypatch.setattr(s3_source, "LIST_PAGE", 2, raising=False)
    for i in range(9):
        s3.put(f"{PREFIX}/{i}.bin", b"x", None)
    for k, v in aws_env(s3.proxy.url).items():
        monkeypatch.setenv(k, v)
    source = s3_source.S3Source(read_inputs({"MODELCACHE_SOURCE": SOURCE, "MODELCACHE_CLAIM_BYTES": "1"}))
    with pytest.raises(HydrationFailure) as info:
        source.resolve()
    assert (info.value.code, info.value.reason) == (10, "NotAnArtifact")
    assert "more than 5 objects, the hydrator's limit for one source" in info.value.message
    listed = [r["target"] for r in s3.proxy.requests if r["target"].startswith(f"/{BUCKET}?")]
    assert len(listed) == 3 and all("max-keys=2" in t for t in listed), "stopped at the third page (6 keys)"
    assert len(s3.proxy.requests) == 3, "no object read"


# The stall rule shortened: under 64 KiB a second (1 MiB a minute in a Job) is a stall.
STALL = {"MODELCACHE_TEST_STALL_SECONDS": "1", "MODELCACHE_TEST_STALL_BYTES": str(64 << 10)}


@pytest.mark.parametrize("times,code", [(1, 0), (100, 1)], ids=["once-resumed", "always-transient"])
def test_an_object_trickling_in_is_stalled_and_resumed(env, s3, times, code):
    """A store sending a byte every 0.2 s, each well within the read timeout: the stall rule aborts the read and the
    retry loop resumes it with a Range from the byte reached; a store that always trickles ends the run as transient
    after the retry budget (a few KiB per attempt never renews it)."""
    big = data(18, 3 * MiB)
    s3.put(f"{PREFIX}/big.bin", big)
    s3.put(f"{PREFIX}/small.json", b"{}")
    target = f"/{BUCKET}/{PREFIX}/big.bin"
    s3.proxy.trickle(lambda m, t: m == "GET" and t == target, after=10_000, every=0.2, times=times)
    run = env.run(timeout=60, **STALL)
    assert run.code == code, run.why
    ranges = [r["range"] for r in s3.gets(f"{PREFIX}/big.bin")]
    if code == 0:
        assert "the download stalled" in run.stderr
        assert len(ranges) == 2 and ranges[0] is None and int(ranges[1][6:-1]) >= 10_000, ranges
        assert (env.root / rev_dir(SOURCE, s3.digest()) / "big.bin").read_bytes() == big
    else:
        assert run.report["failure"]["reason"] == "Transient" and "stalled" in run.report["failure"]["message"]
        assert len(ranges) == 5, ranges
