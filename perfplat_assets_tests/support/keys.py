"""Key material made fresh for the tests: a self-signed certificate for 127.0.0.1 (the GA4 emulator's gRPC, a
server no client trusts) and a service account key file's content (production's Google credentials)."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def self_signed_for_loopback() -> tuple[bytes, bytes]:
    """A certificate for IP 127.0.0.1, its own authority, valid for a day: (private key PEM, certificate
    PEM). Trusted only by a client given it as its roots."""
    key = private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return private_key_pem(key), certificate.public_bytes(serialization.Encoding.PEM)


SERVICE_ACCOUNT = "perfplat-test@perfplat-test.iam.gserviceaccount.com"


def service_account_info(key: rsa.RSAPrivateKey, token_uri: str) -> dict[str, str]:
    """A service account key file's content for `key`, whose token endpoint is `token_uri` (a loopback
    address: the client signs its own JWT, and a tripwire or a closed port there shows no token is
    fetched)."""
    return {
        "type": "service_account",
        "project_id": "perfplat-test",
        "private_key_id": "test-key-1",
        "private_key": private_key_pem(key).decode(),
        "client_email": SERVICE_ACCOUNT,
        "client_id": "1",
        "token_uri": token_uri,
    }
