"""Process handling: flags refused with a clear message, signals, certificate files, --version."""

import datetime
import json
import signal
import subprocess
import time

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import BINARY, ROOT, free_port, model_cache_request, stub_for


def run(*args, timeout=20):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=timeout)


def test_version_prints_the_one_version_and_the_hydrator_image_and_the_startup_line_carries_it(server):
    proc = run("--version")
    assert proc.returncode == 0
    # The version alone on the first line, then the default hydrator image tagged with it (hydrator.md §1).
    version, image = proc.stdout.strip().splitlines()
    assert image == f"default hydrator image: xpkg.crossplane.io/modelplane/function-modelcache-hydrator:v{version}"
    # The Function package names the same image.
    assert image.split(": ", 1)[1] in (ROOT / "package" / "crossplane.yaml").read_text()
    # The same number the install docs and examples use.
    assert f"function-modelcache:v{version}" in (ROOT / "examples" / "functions.yaml").read_text()
    serving = [json.loads(l) for l in server.log().splitlines() if '"msg":"Serving"' in l]
    assert serving[0]["version"] == version


@pytest.mark.parametrize("address,rule", [
    ("0.0.0.0:99999", 'port "99999" must be a number from 1 to 65535'),
    ("localhost", "a port is required"),
    ("127.0.0.1:", "a port is required"),
    (":9443", "a host is required"),
    ("0.0.0.0:0", 'port "0" must be a number from 1 to 65535'),
])
def test_invalid_address_is_refused_before_serving(address, rule):
    proc = run("--insecure", "--address", address)
    assert proc.returncode != 0
    assert f'--address "{address}" is not a valid listen address: {rule}' in proc.stderr
    assert '"msg":"Serving"' not in proc.stderr


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e300", "3601"])
def test_absurd_grace_period_is_refused(value):
    proc = run("--insecure", "--address", f"127.0.0.1:{free_port()}", f"--grace-period={value}")
    assert proc.returncode != 0
    assert "--grace-period" in proc.stderr and "must be a number of seconds from 0 to 3600" in proc.stderr


@pytest.mark.parametrize("value", ["0", "2048", "-5"])
def test_max_recv_message_size_out_of_range_is_refused(value):
    proc = run("--insecure", "--address", f"127.0.0.1:{free_port()}", f"--max-recv-message-size={value}")
    assert proc.returncode != 0
    assert f"--max-recv-message-size {value} must be between 1 and 2047 (MB)" in proc.stderr


def test_closed_stderr_does_not_kill_the_server():
    """SIGPIPE: the reader of stderr goes away; every call still gets answered."""
    port = free_port()
    proc = subprocess.Popen([str(BINARY), "--insecure", "--address", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        line = proc.stderr.readline()
        assert b'"msg":"Serving"' in line
        proc.stderr.close()  # the log reader is gone; each call now writes into a broken pipe
        _, stub = stub_for(f"127.0.0.1:{port}")
        for i in range(20):
            assert stub.RunFunction(model_cache_request(tag=f"after-{i}"), timeout=10).meta.tag == f"after-{i}"
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sighup_is_logged_and_ignored(server):
    _, stub = stub_for(server.address)
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "Ignoring SIGHUP" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Ignoring SIGHUP" in server.log()
    assert server.proc.poll() is None
    assert stub.RunFunction(model_cache_request(tag="after-hup"), timeout=10).meta.tag == "after-hup"


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_pki(directory, not_before, not_after, key_of_other_cert=False):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("function-modelcache")).issuer_name(_name("function-modelcache"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if key_of_other_cert:
        key = ec.generate_private_key(ec.SECP256R1())
    directory.mkdir()
    (directory / "tls.crt").write_bytes(pem)
    (directory / "ca.crt").write_bytes(pem)
    (directory / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return directory


NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize("name,not_before,not_after,warning", [
    ("expired", NOW - 10 * DAY, NOW - DAY, "expired on"),
    ("future", NOW + DAY, NOW + 10 * DAY, "is not valid before"),
])
def test_certificate_outside_its_validity_gives_a_warning_at_start(start_server, tmp_path, name, not_before, not_after,
                                                                   warning):
    certs = _write_pki(tmp_path / name, not_before, not_after)
    server = start_server("--tls-certs-dir", str(certs))
    lines = [json.loads(l) for l in server.log().splitlines() if l.startswith("{")]
    warnings = [l for l in lines if l["level"] == "warn" and "server certificate" in l["msg"]]
    assert len(warnings) == 1
    assert f"{certs}/tls.crt {warning}" in warnings[0]["msg"]


def test_valid_certificate_gives_no_warning(start_server, tmp_path):
    certs = _write_pki(tmp_path / "valid", NOW - DAY, NOW + DAY)
    server = start_server("--tls-certs-dir", str(certs))
    assert "server certificate" not in server.log()


def test_key_of_another_certificate_is_reported_as_tls_problem_not_address(tmp_path):
    certs = _write_pki(tmp_path / "mismatch", NOW - DAY, NOW + DAY, key_of_other_cert=True)
    proc = run("--tls-certs-dir", str(certs), "--address", f"127.0.0.1:{free_port()}")
    assert proc.returncode != 0
    assert "tls.key must be the private key of tls.crt" in proc.stderr
    assert "address is invalid or already in use" not in proc.stderr


@pytest.mark.parametrize("file,content,message", [
    ("tls.crt", b"not a certificate\n", "tls.crt holds no PEM CERTIFICATE block"),
    ("tls.crt", b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n",
     "tls.crt: certificate 1 is not a DER-encoded X.509 certificate"),
    ("tls.key", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "tls.key holds no PEM PRIVATE KEY block"),
    ("ca.crt", b"", "ca.crt holds no PEM CERTIFICATE block"),
])
def test_bad_certificate_files_are_reported_as_such(tmp_path, file, content, message):
    certs = _write_pki(tmp_path / "bad", NOW - DAY, NOW + DAY)
    (certs / file).write_bytes(content)
    proc = run("--tls-certs-dir", str(certs), "--address", f"127.0.0.1:{free_port()}")
    assert proc.returncode != 0
    assert f"{certs}/{message}" in proc.stderr
    assert "address is invalid" not in proc.stderr


def test_unreadable_certificate_file_is_reported_as_unreadable(tmp_path):
    certs = _write_pki(tmp_path / "unreadable", NOW - DAY, NOW + DAY)
    # A directory where the key should be: unreadable as a file even for root (chmod is not).
    (certs / "tls.key").unlink()
    (certs / "tls.key").mkdir()
    proc = run("--tls-certs-dir", str(certs), "--address", f"127.0.0.1:{free_port()}")
    assert proc.returncode != 0
    assert f"cannot read {certs}/tls.key" in proc.stderr
