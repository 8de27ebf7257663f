"""mTLS: only clients whose certificate chains to ca.crt get through."""

import datetime
import ipaddress

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import model_cache_request
from crossplane.function.proto.v1 import run_function_pb2_grpc as pb_grpc


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture
def pki(tmp_path):
    def ca(cn):
        k = ec.generate_private_key(ec.SECP256R1())
        return k, _cert(cn, k, cn, k, ca=True)

    ca_key, ca_cert = ca("test-ca")
    other_key, other_cert = ca("other-ca")
    server_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "tls.crt").write_bytes(_pem(_cert("function-modelcache", server_key, "test-ca", ca_key, server=True)))
    (certs / "tls.key").write_bytes(_pem(server_key))
    (certs / "ca.crt").write_bytes(_pem(ca_cert))
    return {
        "dir": certs,
        "ca": _pem(ca_cert),
        "client": (_pem(client_key), _pem(_cert("crossplane", client_key, "test-ca", ca_key))),
        "rogue": (_pem(rogue_key), _pem(_cert("crossplane", rogue_key, "other-ca", other_key))),
    }


def _call(address, creds):
    channel = grpc.secure_channel(address, creds, options=[("grpc.ssl_target_name_override", "localhost")])
    try:
        return pb_grpc.FunctionRunnerServiceStub(channel).RunFunction(model_cache_request(tag="tls"), timeout=5)
    finally:
        channel.close()


def test_mtls_accepts_only_clients_signed_by_the_ca(start_server, pki):
    # In a cluster the pod gets no flags, only the environment variable.
    server = start_server(env={"TLS_SERVER_CERTS_DIR": str(pki["dir"])})
    good = grpc.ssl_channel_credentials(root_certificates=pki["ca"], private_key=pki["client"][0],
                                        certificate_chain=pki["client"][1])
    assert _call(server.address, good).meta.tag == "tls"

    # Plaintext client.
    with pytest.raises(grpc.RpcError) as err:
        channel = grpc.insecure_channel(server.address)
        pb_grpc.FunctionRunnerServiceStub(channel).RunFunction(model_cache_request(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    # TLS client without a certificate.
    with pytest.raises(grpc.RpcError) as err:
        _call(server.address, grpc.ssl_channel_credentials(root_certificates=pki["ca"]))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    # Client certificate from another CA.
    with pytest.raises(grpc.RpcError) as err:
        _call(server.address, grpc.ssl_channel_credentials(root_certificates=pki["ca"], private_key=pki["rogue"][0],
                                                           certificate_chain=pki["rogue"][1]))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    # And the server keeps serving the good client.
    assert _call(server.address, good).meta.tag == "tls"
    assert server.proc.poll() is None


def test_missing_certificate_files_fail_with_the_path(start_server, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuntimeError) as err:
        start_server("--tls-certs-dir", str(empty))
    assert "tls.crt" in str(err.value)
