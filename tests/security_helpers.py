"""Certificates made at test time with ``cryptography`` (no openssl CLI, nothing on disk
beyond ``tmp_path``): a self-signed server certificate for localhost / 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN = "test-token-0123456789-abcdefghij"


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def make_cert(
    folder: Path,
    name: str = "server",
    *,
    valid_from: dt.datetime | None = None,
    valid_for: dt.timedelta = dt.timedelta(days=365),
    encrypt_key: bool = False,
) -> CertFiles:
    """A self-signed EC certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = valid_from or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(b"pass phrase")
        if encrypt_key
        else serialization.NoEncryption()
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = CertFiles(cert=folder / f"{name}.crt", key=folder / f"{name}.key")
    files.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    files.key.chmod(0o600)
    return files
