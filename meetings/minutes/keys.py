"""Signing keys: the organization CA (with its OCSP responder and timestamp unit), PKCS#12 files per
signer, PKCS#11 tokens.

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
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from meetings.core.errors import Conflict, Invalid, NotFound

CA_CERT = "root.pem"
CA_KEY = "root.key"
# The OCSP responder's key is kept unencrypted (0600): it answers OCSP requests with no one at the keyboard.
# Its certificate says id-pkix-ocsp-nocheck, so its own revocation is never asked for.
RESPONDER_CERT = "ocsp.pem"
RESPONDER_KEY = "ocsp.key"
RESPONDER_YEARS = 5
# The organization's own timestamp unit (RFC 3161), for signature timestamps when no TSA_URL is configured.
# Its key is kept unencrypted (0600) for the same reason: the signing child stamps with no CA passphrase typed.
TIMESTAMP_CERT = "tsa.pem"
TIMESTAMP_KEY = "tsa.key"
TIMESTAMP_YEARS = 5
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


def init_ca(instance_path: str | Path, organization: str, passphrase: str, *, years: int = 20,
            pki_base_url: str | None = None) -> x509.Certificate:
    """Create the organization's root CA, its OCSP responder and its timestamp unit; never overwrites a CA."""
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
    _write_responder(folder, key, cert, organization)
    _write_timestamp_unit(folder, key, cert, organization, pki_base_url)
    return cert


def _write_service_cert(folder: Path, ca_key, ca_cert: x509.Certificate, *, label: str, organization: str | None,
                        years: int, eku, files: tuple[str, str], pki_base_url: str | None = None,
                        commitment: bool = False, extra=()) -> x509.Certificate:
    """A certificate for one of the CA's unattended services (the OCSP responder, the timestamp unit), with
    its own key kept unencrypted 0600 beside it: the service signs without anyone typing a passphrase."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder().subject_name(_name(f"{organization or common_name(ca_cert)} - {label}", organization))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=365 * years), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=commitment, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        # One purpose each, marked critical (RFC 6960 4.2.2.2 for OCSP, RFC 3161 2.3 for a TSA).
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    for extension in extra:
        builder = builder.add_extension(extension(key), critical=False)
    cert = _revocation_pointers(builder, pki_base_url).sign(ca_key, hashes.SHA256())
    key_file, cert_file = files
    for name in files:
        (folder / name).unlink(missing_ok=True)  # a renewed service certificate replaces the old one
    _private_write(folder / key_file, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    _private_write(folder / cert_file, cert.public_bytes(serialization.Encoding.PEM))
    return cert


def _write_responder(folder: Path, ca_key, ca_cert: x509.Certificate, organization: str | None) -> x509.Certificate:
    # No revocation pointers: the responder's own certificate is not checked (id-pkix-ocsp-nocheck).
    return _write_service_cert(folder, ca_key, ca_cert, label="OCSP", organization=organization,
                               years=RESPONDER_YEARS, eku=ExtendedKeyUsageOID.OCSP_SIGNING,
                               files=(RESPONDER_KEY, RESPONDER_CERT), extra=(lambda _key: x509.OCSPNoCheck(),))


def _revocation_pointers(builder: x509.CertificateBuilder, pki_base_url: str | None) -> x509.CertificateBuilder:
    """Where the CA publishes the revocation status of what it issues: the CRL and the OCSP responder."""
    if not pki_base_url:
        return builder
    base = pki_base_url.rstrip("/")
    return builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(f"{base}/pki/ca.crl")], relative_name=None, reasons=None,
        crl_issuer=None)]), critical=False).add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier(f"{base}/pki/ocsp"))]), critical=False)


def _write_timestamp_unit(folder: Path, ca_key, ca_cert: x509.Certificate, organization: str | None,
                          pki_base_url: str | None) -> x509.Certificate:
    return _write_service_cert(folder, ca_key, ca_cert, label="Timestamp Unit", organization=organization,
                               years=TIMESTAMP_YEARS, eku=ExtendedKeyUsageOID.TIME_STAMPING,
                               files=(TIMESTAMP_KEY, TIMESTAMP_CERT), pki_base_url=pki_base_url, commitment=True,
                               extra=(lambda key: x509.SubjectKeyIdentifier.from_public_key(key.public_key()),))


def issue_responder(instance_path: str | Path, ca_passphrase: str, *,
                    pki_base_url: str | None = None) -> tuple[x509.Certificate, x509.Certificate]:
    """A (new) OCSP responder and timestamp unit, certificates and keys, for an existing CA under
    INSTANCE_PATH/ca/: (responder certificate, timestamp unit certificate)."""
    ca_key = load_ca_key(instance_path, ca_passphrase)
    ca_cert = load_ca_cert(instance_path)
    orgs = ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    organization = str(orgs[0].value) if orgs else None
    folder = ca_dir(instance_path)
    return (_write_responder(folder, ca_key, ca_cert, organization),
            _write_timestamp_unit(folder, ca_key, ca_cert, organization, pki_base_url))


def timestamp_unit_files(instance_path: str | Path) -> dict[str, str] | None:
    """{"cert", "key", "ca"}: PEM paths of the organization's timestamp unit and of the CA that issued it,
    or None when the CA has no unit."""
    folder = ca_dir(instance_path)
    cert, key = folder / TIMESTAMP_CERT, folder / TIMESTAMP_KEY
    if not cert.exists() or not key.exists():
        return None
    return {"cert": str(cert), "key": str(key), "ca": str(folder / CA_CERT)}


def load_timestamp_unit(instance_path: str | Path):
    """(certificate, private key) of the organization's timestamp unit, or None when the CA has none yet."""
    found = timestamp_unit_files(instance_path)
    if found is None:
        return None
    return (x509.load_pem_x509_certificate(Path(found["cert"]).read_bytes()),
            serialization.load_pem_private_key(Path(found["key"]).read_bytes(), None))


def load_responder(instance_path: str | Path):
    """(certificate, private key) of the OCSP responder, or None when the CA has none yet."""
    folder = ca_dir(instance_path)
    if not (folder / RESPONDER_CERT).exists() or not (folder / RESPONDER_KEY).exists():
        return None
    return (x509.load_pem_x509_certificate((folder / RESPONDER_CERT).read_bytes()),
            serialization.load_pem_private_key((folder / RESPONDER_KEY).read_bytes(), None))


def load_ca_cert(instance_path: str | Path) -> x509.Certificate | None:
    path = ca_dir(instance_path) / CA_CERT
    return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None


def load_ca_key(instance_path: str | Path, passphrase: str):
    """The CA's private key, opened with the CA passphrase (a wrong one is a clear Invalid error)."""
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
                      organization: str | None, years: int = 3, days: int | None = None,
                      pki_base_url: str | None = None) -> x509.Certificate:
    """A signing certificate from the organization CA for ``public_key`` (e.g. a key made on a token).

    With ``pki_base_url`` it names where its revocation status is published: the CRL
    (``/pki/ca.crl``) and the OCSP responder (``/pki/ocsp``) the application serves.
    ``days`` (instead of ``years``) makes a short-lived certificate.
    """
    ca_key = load_ca_key(instance_path, ca_passphrase)
    ca_cert = load_ca_cert(instance_path)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder().subject_name(_name(full_name, organization)).issuer_name(ca_cert.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days if days is not None else 365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    return _revocation_pointers(builder, pki_base_url).sign(ca_key, hashes.SHA256())


def issue_pkcs12(instance_path: str | Path, ca_passphrase: str, *, user_id: int, full_name: str,
                 organization: str | None, passphrase: str, years: int = 3, days: int | None = None,
                 pki_base_url: str | None = None) -> IssuedKey:
    """Issue a signing key and certificate for one person, as a passphrase-protected PKCS#12."""
    secret = _check_passphrase(passphrase, "signing passphrase")
    load_ca_key(instance_path, ca_passphrase)  # a wrong CA passphrase fails before any key is made
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = issue_certificate(instance_path, ca_passphrase, key.public_key(), full_name=full_name,
                             organization=organization, years=years, days=days, pki_base_url=pki_base_url)
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
