"""The S3 source's rules without a server: the verification order (sources.md §1) for answers moto cannot
give (CRC64NVME, CRC32C, SSE-KMS, SSE-C, typed full-object checksums of multipart objects, GetObjectAttributes
listing parts), the composite hasher, the listing digest, and the classification by code and status."""

from __future__ import annotations

import base64
import hashlib
import zlib

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber

from modelcache_hydrator.inputs import read_inputs
from modelcache_hydrator.s3 import SIZE_ONLY, Composite, Listed, S3Source, listing_digest, run_lengths

ETAG1 = hashlib.md5(b"x").hexdigest()


def source() -> S3Source:
    return S3Source(read_inputs({"MODELCACHE_SOURCE": "s3://bkt/models", "MODELCACHE_CLAIM_BYTES": "1"}))


def crc(body: bytes) -> bytes:
    return zlib.crc32(body).to_bytes(4, "big")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def choose(head: dict, etag: str = ETAG1, size: int = 1):
    check, parts = source()._choose(Listed("models/f", "f", size, etag), head)
    return check.manifest_key, check.expected, parts


def test_sha256_is_preferred_over_crc32_and_crc32_is_used_alone():
    sha, c = hashlib.sha256(b"x").digest(), crc(b"x")
    assert choose({"ChecksumSHA256": b64(sha), "ChecksumCRC32": b64(c)})[:2] == ("sha256", sha.hex())
    assert choose({"ChecksumCRC32": b64(c), "ChecksumType": "FULL_OBJECT"})[:2] == ("crc32", c.hex())


def test_crc64nvme_and_crc32c_are_computed_with_awscrt_and_checked():
    # The standard check values of both CRCs over b"123456789".
    from modelcache_hydrator.s3 import COMPUTABLE

    for algorithm, value in (("CRC64NVME", "ae8b14860a799888"), ("CRC32C", "e3069283")):
        hasher = COMPUTABLE[algorithm]()
        hasher.update(b"1234")
        hasher.update(memoryview(b"__56789")[2:])
        assert hasher.hexdigest() == value
        head = {f"Checksum{algorithm}": b64(bytes.fromhex(value)), "ChecksumType": "FULL_OBJECT"}
        key, expected, _ = choose(head, etag=ETAG1 + "-3")  # multipart: the full-object CRC still applies
        assert (key, expected) == (algorithm.lower(), value)
        check, _ = source()._choose(Listed("models/f", "f", 9, ETAG1), head)
        good, bad = check.new(), check.new()
        good.update(b"123456789")
        bad.update(b"123456780")
        assert good.hexdigest() == check.expected != bad.hexdigest()


def test_the_etag_is_an_md5_only_for_single_part_objects_without_sse_kms_or_sse_c():
    assert choose({})[:2] == ("md5", ETAG1)
    assert choose({"ServerSideEncryption": "AES256"})[:2] == ("md5", ETAG1)
    for head in ({"ServerSideEncryption": "aws:kms"}, {"ServerSideEncryption": "aws:kms:dsse"},
                 {"SSECustomerAlgorithm": "AES256"}):
        check, _ = source()._choose(Listed("models/f", "f", 1, ETAG1), head)
        assert check is SIZE_ONLY
    assert choose({}, etag=ETAG1 + "-2")[0] == ""


def test_a_typed_full_object_crc32_of_a_multipart_object_is_checked_whole():
    c = crc(b"whole")
    assert choose({"ChecksumCRC32": b64(c), "ChecksumType": "FULL_OBJECT"}, etag=ETAG1 + "-2")[:2] == ("crc32", c.hex())


def test_composite_parts_come_from_get_object_attributes_paged():
    s = source()
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    s._client = client
    parts = [b"a" * 10, b"b" * 10, b"c" * 3]
    checks = [crc(p) for p in parts]
    whole = b64(crc(b"".join(checks))) + "-3"
    with Stubber(client) as stub:
        stub.add_response("get_object_attributes", {"ObjectParts": {
            "IsTruncated": True, "NextPartNumberMarker": 2, "Parts": [
                {"PartNumber": 1, "Size": 10, "ChecksumCRC32": b64(checks[0])},
                {"PartNumber": 2, "Size": 10, "ChecksumCRC32": b64(checks[1])}]}})
        stub.add_response("get_object_attributes", {"ObjectParts": {
            "IsTruncated": False, "Parts": [{"PartNumber": 3, "Size": 3, "ChecksumCRC32": b64(checks[2])}]}})
        check, runs = s._choose(Listed("models/f", "f", 23, ETAG1 + "-3"), {"ChecksumCRC32": whole, "ChecksumType": "COMPOSITE"})
        stub.assert_no_pending_responses()
    assert runs == ((10, 2), (3, 1)) and check.manifest_key == "crc32Composite"
    hasher = check.new()
    for byte in b"".join(parts):  # byte by byte: part boundaries inside any chunk
        hasher.update(bytes([byte]))
    assert hasher.hexdigest() == check.expected
    # Part checksums that do not combine into the object's: not trusted, size only.
    with Stubber(client) as stub:
        stub.add_response("get_object_attributes", {"ObjectParts": {"IsTruncated": False, "Parts": [
            {"PartNumber": 1, "Size": 10, "ChecksumCRC32": b64(checks[0])},
            {"PartNumber": 2, "Size": 10, "ChecksumCRC32": b64(checks[0])},
            {"PartNumber": 3, "Size": 3, "ChecksumCRC32": b64(checks[2])}]}})
        check, runs = s._choose(Listed("models/f", "f", 23, ETAG1 + "-3"), {"ChecksumCRC32": whole, "ChecksumType": "COMPOSITE"})
    assert check is SIZE_ONLY


def test_the_composite_hasher_rejects_extra_or_missing_bytes():
    h = Composite("SHA256", (4, 2))
    h.update(b"abcdef")
    expected = hashlib.sha256(hashlib.sha256(b"abcd").digest() + hashlib.sha256(b"ef").digest()).hexdigest() + "-2"
    assert h.hexdigest() == expected
    h.update(b"g")
    assert h.hexdigest() == "incomplete"
    short = Composite("CRC32", (4, 2))
    short.update(b"abcde")
    assert short.hexdigest() == "incomplete"


def test_listing_digest_is_the_documented_rule():
    items = [Listed("p/b", "b", 2, "e2"), Listed("p/a/x", "a/x", 1, "e1"), Listed("p/\u00e9", "\u00e9", 3, "e3")]
    lines = "a/x\t1\te1\nb\t2\te2\n\u00e9\t3\te3\n".encode()
    assert listing_digest(items) == hashlib.sha256(lines).hexdigest()
    assert run_lengths((8, 8, 8, 3)) == ((8, 3), (3, 1))


def error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "text never read"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


@pytest.mark.parametrize("exc,code,reason", [
    (error("NoSuchBucket", 404), 10, "NotFound"),
    (error("404", 404), 10, "NotFound"),
    (error("AccessDenied", 403), 10, "AccessDenied"),
    (error("InvalidAccessKeyId", 403), 10, "AccessDenied"),
    (error("SignatureDoesNotMatch", 403), 10, "AccessDenied"),
    (error("ExpiredToken", 400), 10, "AccessDenied"),
    (error("InvalidRequest", 400), 10, "AccessDenied"),  # an SSE-C object read without its key: never accepted
    (error("InvalidArgument", 400), 10, "AccessDenied"),
    (error("400", 400), 10, "AccessDenied"),  # a HEAD's 400 (no body, no code)
    (error("RequestTimeout", 400), 1, "Transient"),
    (error("SlowDown", 503), 1, "Transient"),
    (error("ServiceUnavailable", 503), 1, "Transient"),
    (error("InternalError", 500), 1, "Transient"),
    (error("PreconditionFailed", 412), 1, "Transient"),  # unpinned: list again
    (NoCredentialsError(), 10, "AccessDenied"),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), 1, "Transient"),
])
def test_failures_are_classified_by_code_and_status(exc, code, reason):
    failure = source().classify(exc, "reading")
    assert (failure.code, failure.reason) == (code, reason)
    assert "text never read" not in failure.message


def test_an_object_changed_under_a_pin_is_source_changed():
    s = S3Source(read_inputs({"MODELCACHE_SOURCE": "s3://bkt/models", "MODELCACHE_CLAIM_BYTES": "1",
                              "MODELCACHE_COMMIT": "0" * 64}))
    for exc in (error("PreconditionFailed", 412), error("NoSuchKey", 404)):
        failure = s.classify(exc, "reading")
        assert (failure.code, failure.reason) == (10, "SourceChanged")


def test_the_endpoint_is_the_s3_clients_only(monkeypatch):
    """AWS_ENDPOINT_URL names the store; it must not send IRSA's STS call there too."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    client = source().client()
    assert client.meta.endpoint_url == "http://127.0.0.1:9" and client.meta.region_name == "eu-west-3"
    assert "AWS_ENDPOINT_URL" not in __import__("os").environ
    sts = boto3.session.Session(region_name="eu-west-3").client("sts")
    assert "127.0.0.1" not in sts.meta.endpoint_url


def stubbed() -> tuple[S3Source, object]:
    s = source()
    s._client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return s, s._client


def test_parts_paging_that_does_not_advance_falls_back_to_part_numbers():
    """A store answering `IsTruncated` with the same `NextPartNumberMarker` again must not be paged forever (each
    page kept in memory): its parts are asked part by part instead."""
    s, client = stubbed()
    parts = [b"a" * 10, b"b" * 10, b"c" * 3]
    checks = [crc(p) for p in parts]
    whole = b64(crc(b"".join(checks))) + "-3"
    page = {"ObjectParts": {"IsTruncated": True, "NextPartNumberMarker": 1, "Parts": [
        {"PartNumber": 1, "Size": 10, "ChecksumCRC32": b64(checks[0])}]}}
    with Stubber(client) as stub:
        stub.add_response("get_object_attributes", page)
        stub.add_response("get_object_attributes", page)
        for n, p in enumerate(parts, 1):
            stub.add_response("head_object", {"ContentLength": len(p), "ChecksumCRC32": b64(checks[n - 1])})
        check, runs = s._choose(Listed("models/f", "f", 23, ETAG1 + "-3"), {"ChecksumCRC32": whole, "ChecksumType": "COMPOSITE"})
        stub.assert_no_pending_responses()
    assert runs == ((10, 2), (3, 1)) and check.manifest_key == "crc32Composite"


def test_a_listing_that_repeats_its_keys_is_not_paged_forever():
    """Fresh continuation tokens over the same keys (a store ignoring the token): a key listed twice ends the
    listing as a transient failure, never an endless loop growing the listing in memory."""
    s, client = stubbed()
    page = {"Contents": [{"Key": "models/a.bin", "Size": 1, "ETag": f'"{ETAG1}"'}], "IsTruncated": True}
    with Stubber(client) as stub:
        stub.add_response("list_objects_v2", {**page, "NextContinuationToken": "t1"})
        stub.add_response("list_objects_v2", {**page, "NextContinuationToken": "t2"})
        with pytest.raises(Exception) as info:
            s.resolve()
        stub.assert_no_pending_responses()
    failure = s.classify(info.value, "listing")
    assert (failure.code, failure.reason) == (1, "Transient")
    assert "models/a.bin" in failure.message or "a.bin" in failure.message


def test_a_body_longer_than_listed_never_passes_a_size_only_check(tmp_path):
    """Size only is the weakest check there is: bytes beyond the listed size (here a whole chunk later, so the file
    on disk has exactly the listed size) mean the body is not the listed object: fetched again, then exit 12."""
    import io

    from botocore.response import StreamingBody

    from modelcache_hydrator.failure import HydrationFailure
    from modelcache_hydrator.s3 import CHUNK, S3File
    from modelcache_hydrator.stage import _fetch_verified

    class Reporter:
        def set_done(self, n):
            pass

        def warn(self, text):
            pass

    s, client = stubbed()
    f = S3File("f.bin", CHUNK, check=SIZE_ONLY, locator="models/f.bin", etag=ETAG1)
    body = b"w" * CHUNK + b"extra"
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)})
        with pytest.raises(HydrationFailure) as info:
            _fetch_verified(s, Reporter(), str(tmp_path), f, 0)
    assert (info.value.code, info.value.reason) == (12, "ChecksumMismatch")
    assert not (tmp_path / "f.bin").exists()


@pytest.mark.parametrize("pinned", [False, True])
def test_an_object_removed_between_the_listing_and_its_head_is_a_changed_bucket(pinned):
    """HeadObject of a listed key answers 404 (no body, so no NoSuchKey code) when it was deleted since the listing
    (a sync with --delete while the Job resolves): the bucket changed, as with a replaced object: list again
    (transient) unpinned, SourceChanged pinned; never NotFound, which the Job does not retry."""
    listing = [Listed("models/a.bin", "a.bin", 1, ETAG1)]
    env = {"MODELCACHE_SOURCE": "s3://bkt/models", "MODELCACHE_CLAIM_BYTES": "1"}
    if pinned:
        env["MODELCACHE_COMMIT"] = listing_digest(listing)
    s = S3Source(read_inputs(env))
    s._client = client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_response("list_objects_v2", {"Contents": [{"Key": "models/a.bin", "Size": 1, "ETag": f'"{ETAG1}"'}],
                                              "IsTruncated": False})
        stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
        with pytest.raises(Exception) as info:
            s.resolve()
    failure = s.classify(info.value, "listing")
    assert (failure.code, failure.reason) == ((10, "SourceChanged") if pinned else (1, "Transient"))
