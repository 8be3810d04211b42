"""Signing keys: the organization CA, PKCS#12 files per signer, PKCS#11 tokens.

The CA's private key is stored encrypted with the CA passphrase
(INSTANCE_PATH/ca/root.key); each signer's PKCS#12 is encrypted with the
passphrase the signer chose at issue (INSTANCE_PATH/keys/). Neither
passphrase is stored or logged: it is asked for at each use.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meetings.core.errors import Conflict, Invalid, NotFound

CA_CERT = "root.pem"
CA_KEY = "root.key"
MIN_PASSPHRASE = 8


def ca_dir(instance_path: str | Path) -> Path:
    return Path(instance_path) / "ca"


def keys_dir(instance_path: str | Path) -> Path:
    return Path(instance_path) / "keys"


def _private_write(path: Path, data: bytes) -> None:
    # Created 0600 from the start: no moment where another user could read it.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _check_passphrase(passphrase: str, what: str) -> bytes:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE:
        raise Invalid(f"The {what} must have at least {MIN_PASSPHRASE} characters.", code="weak_passphrase")
    return passphrase.encode("utf-8")


def _name(common_name: str, organization: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]))
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"))
    return x509.Name(attrs)


def init_ca(instance_path: str | Path, organization: str, passphrase: str, *, years: int = 20) -> x509.Certificate:
    """Create the organization's root CA; refuses to overwrite an existing one."""
    folder = ca_dir(instance_path)
    if (folder / CA_CERT).exists():
        raise Conflict(f"An organization CA already exists in {folder}.")
    secret = _check_passphrase(passphrase, "CA passphrase")
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = _name(f"{organization} - Root CA", organization)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _private_write(folder / CA_KEY, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret)))
    _private_write(folder / CA_CERT, cert.public_bytes(serialization.Encoding.PEM))
    return cert


def load_ca_cert(instance_path: str | Path) -> x509.Certificate | None:
    path = ca_dir(instance_path) / CA_CERT
    return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None


def _load_ca_key(instance_path: str | Path, passphrase: str):
    path = ca_dir(instance_path) / CA_KEY
    if not path.exists():
        raise NotFound("There is no organization CA yet: run `flask --app wsgi ca init`.", code="no_ca")
    try:
        return serialization.load_pem_private_key(path.read_bytes(), passphrase.encode("utf-8"))
    except (ValueError, TypeError) as err:
        raise Invalid("Wrong CA passphrase.", code="wrong_passphrase") from err


@dataclass
class IssuedKey:
    path: Path
    certificate: x509.Certificate


def issue_certificate(instance_path: str | Path, ca_passphrase: str, public_key, *, full_name: str,
                      organization: str | None, years: int = 3) -> x509.Certificate:
    """A signing certificate from the organization CA for ``public_key`` (e.g. a key made on a token)."""
    ca_key = _load_ca_key(instance_path, ca_passphrase)
    ca_cert = load_ca_cert(instance_path)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder().subject_name(_name(full_name, organization)).issuer_name(ca_cert.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def issue_pkcs12(instance_path: str | Path, ca_passphrase: str, *, user_id: int, full_name: str,
                 organization: str | None, passphrase: str, years: int = 3) -> IssuedKey:
    """Issue a signing key and certificate for one person, as a passphrase-protected PKCS#12."""
    secret = _check_passphrase(passphrase, "signing passphrase")
    _load_ca_key(instance_path, ca_passphrase)  # a wrong CA passphrase fails before any key is made
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = issue_certificate(instance_path, ca_passphrase, key.public_key(), full_name=full_name,
                             organization=organization, years=years)
    data = pkcs12.serialize_key_and_certificates(
        full_name.encode("utf-8")[:64], key, cert, [load_ca_cert(instance_path)],
        serialization.BestAvailableEncryption(secret))
    path = keys_dir(instance_path) / f"user-{user_id}-{cert.serial_number:x}.p12"
    _private_write(path, data)
    return IssuedKey(path=path, certificate=cert)


def import_pkcs12(instance_path: str | Path, data: bytes, passphrase: str, *, user_id: int) -> IssuedKey:
    """Check an external PKCS#12 opens with ``passphrase`` and keep it (still encrypted) under keys/."""
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, passphrase.encode("utf-8"))
    except ValueError as err:
        raise Invalid("The PKCS#12 file does not open with this passphrase.", code="wrong_passphrase") from err
    if key is None or cert is None:
        raise Invalid("The PKCS#12 file holds no private key with its certificate.", code="invalid_pkcs12")
    path = keys_dir(instance_path) / f"user-{user_id}-{cert.serial_number:x}.p12"
    if path.exists():
        raise Conflict("This certificate is already imported.")
    _private_write(path, data)  # kept as given: encrypted by its own passphrase
    return IssuedKey(path=path, certificate=cert)


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def trust_roots(instance_path: str | Path, extra_paths: list[str] | None = None) -> list[x509.Certificate]:
    """The organization CA plus any configured extra roots (PEM files)."""
    roots = []
    ca = load_ca_cert(instance_path)
    if ca is not None:
        roots.append(ca)
    for p in extra_paths or []:
        roots.extend(x509.load_pem_x509_certificates(Path(p).read_bytes()))
    return roots
