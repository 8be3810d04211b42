"""Revocation of the organization CA's certificates: `ca revoke`, its CRL and its OCSP responder.

The CA key is encrypted by a passphrase typed at each use, so the two ways of
publishing revocation differ: the CRL is signed by the CA key and written by
`flask ca crl` (INSTANCE_PATH/ca/ca.crl, served at ``GET /pki/ca.crl``); OCSP
answers are signed at any time by the responder's own key (INSTANCE_PATH/ca/
ocsp.key, unencrypted, 0600), from ``SignerKey.revoked_at``. A revocation is
therefore visible over OCSP at once, and in the CRL from the next `ca crl`.
The signing job embeds a fresh OCSP answer for the signer's certificate (and
the CRL while it is current), made here without any HTTP request.
"""
from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.minutes import keys
from meetings.minutes.models import SignerKey
from meetings.platform.audit import service as audit

CRL_FILE = "ca.crl"
CRL_DAYS = 30
OCSP_HOURS = 24  # nextUpdate of an OCSP answer: a day, so a revocation is never hidden long by a cache
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
# RFC 5280 reason codes a signer's certificate may be revoked for (certificate_hold is reversible: not offered).
REASONS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
    "privilege_withdrawn": x509.ReasonFlags.privilege_withdrawn,
}


def pki_base_url(config: Mapping[str, Any]) -> str:
    """Where the application publishes the CRL and answers OCSP (``PKI_BASE_URL``; else SERVER_NAME)."""
    if config.get("PKI_BASE_URL"):
        return str(config["PKI_BASE_URL"]).rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return DEFAULT_BASE_URL


@dataclass
class Status:
    """What the CA says of one certificate it issued: good, or revoked since when and why."""

    revoked_at: datetime | None = None
    reason: str | None = None


def revoke_key(session: Session, key_id: int, *, reason: str = "unspecified",
               actor_id: int | None = None) -> SignerKey:
    """Revoke a signer's key: no new signature with it; the ones made before keep their validity."""
    if reason not in REASONS:
        raise Invalid(f"Unknown revocation reason {reason!r}; one of {', '.join(REASONS)}.", code="invalid_reason")
    key = session.get(SignerKey, key_id)
    if key is None:
        raise NotFound("No such signing key.")
    if key.revoked_at is not None:
        raise Conflict("This key is already revoked.", code="already_revoked")
    key.revoked_at, key.revocation_reason = utcnow(), reason
    audit.record(session, "signer_key.revoked", actor_id=actor_id, object_type="signer_key", object_id=key.id,
                 details={"user_id": key.user_id, "fingerprint": key.fingerprint, "serial": key.serial,
                          "reason": reason})
    return key


def _issued_by(key: SignerKey, ca: x509.Certificate) -> bool:
    if not key.certificate_pem:
        return False
    return x509.load_pem_x509_certificate(key.certificate_pem.encode("ascii")).issuer == ca.subject


def certificate_status(session: Session, ca: x509.Certificate, serial: int) -> Status | None:
    """The status of the certificate with this serial number, or None when this CA never issued it."""
    for key in session.execute(select(SignerKey).where(SignerKey.serial == format(serial, "x"))).scalars():
        if _issued_by(key, ca):
            return Status(key.revoked_at, key.revocation_reason)
    return None


def write_crl(session: Session, config: Mapping[str, Any], ca_passphrase: str, *, days: int = CRL_DAYS) -> Path:
    """Sign a new CRL with the CA key (asked for) listing every revoked certificate; valid for ``days``."""
    instance = config["INSTANCE_PATH"]
    ca_key = keys.load_ca_key(instance, ca_passphrase)
    ca = keys.load_ca_cert(instance)
    now = datetime.now(UTC)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
               .last_update(now - timedelta(minutes=1)).next_update(now + timedelta(days=days))
               # The time in seconds grows with every CRL: a CRL number needs no counter kept anywhere.
               .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False))
    revoked = session.execute(select(SignerKey).where(SignerKey.revoked_at.is_not(None))
                              .order_by(SignerKey.id)).scalars()
    for key in revoked:
        if not _issued_by(key, ca):
            continue  # imported or token certificates of other CAs are that CA's to revoke
        entry = (x509.RevokedCertificateBuilder().serial_number(int(key.serial, 16))
                 .revocation_date(key.revoked_at.astimezone(UTC)))
        if key.revocation_reason and key.revocation_reason != "unspecified":
            entry = entry.add_extension(x509.CRLReason(REASONS[key.revocation_reason]), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    der = builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    target = keys.ca_dir(instance) / CRL_FILE
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(der)
    os.chmod(tmp, 0o644)  # public by nature
    os.replace(tmp, target)  # atomic: the route never serves half a CRL
    return target


def crl_path(instance_path: str | Path) -> Path:
    return keys.ca_dir(instance_path) / CRL_FILE


def current_crl(instance_path: str | Path) -> Path | None:
    """The CRL file while it is current (its next update still ahead), else None."""
    path = crl_path(instance_path)
    if not path.exists():
        return None
    crl = x509.load_der_x509_crl(path.read_bytes())
    return path if crl.next_update_utc is None or crl.next_update_utc > datetime.now(UTC) else None


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    from asn1crypto import x509 as asn1_x509

    bits = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)).public_key["public_key"]
    return hashlib.new(algorithm.name, bytes(bits)).digest()


def _unit_cert(instance_path: str | Path) -> x509.Certificate | None:
    """The organization's timestamp unit certificate (its key is not needed here)."""
    found = keys.timestamp_unit_files(instance_path)
    return x509.load_pem_x509_certificate(Path(found["cert"]).read_bytes()) if found else None


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def answer_ocsp(session: Session, config: Mapping[str, Any], request_der: bytes) -> bytes:
    """The DER OCSP response to a DER OCSP request (RFC 6960), signed by the responder."""
    try:
        req = ocsp.load_der_ocsp_request(request_der)
        serial, algorithm = req.serial_number, req.hash_algorithm
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType):
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    ca = keys.load_ca_cert(config["INSTANCE_PATH"])
    responder = keys.load_responder(config["INSTANCE_PATH"])
    if ca is None or responder is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    if algorithm.name not in ("sha1", "sha256", "sha384", "sha512") or (
            req.issuer_name_hash != hashlib.new(algorithm.name, ca.subject.public_bytes()).digest()
            or req.issuer_key_hash != _key_hash(ca, algorithm)):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)  # not a certificate of our CA
    status = certificate_status(session, ca, serial)
    unit = _unit_cert(config["INSTANCE_PATH"])
    if status is None and unit is not None and unit.serial_number == serial:
        status = Status()  # our own timestamp unit: good while it is the current one (`ca responder` renews it)
    now = datetime.now(UTC)
    if status is None:
        cert_status, when, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
    elif status.revoked_at is None:
        cert_status, when, reason = ocsp.OCSPCertStatus.GOOD, None, None
    else:
        cert_status, when = ocsp.OCSPCertStatus.REVOKED, status.revoked_at.astimezone(UTC)
        reason = REASONS.get(status.reason or "") if status.reason != "unspecified" else None
    responder_cert, responder_key = responder
    builder = (ocsp.OCSPResponseBuilder()
               .add_response_by_hash(issuer_name_hash=req.issuer_name_hash, issuer_key_hash=req.issuer_key_hash,
                                     serial_number=serial, algorithm=algorithm, cert_status=cert_status,
                                     this_update=now - timedelta(minutes=1),
                                     next_update=now + timedelta(hours=OCSP_HOURS),
                                     revocation_time=when, revocation_reason=reason)
               .responder_id(ocsp.OCSPResponderEncoding.HASH, responder_cert).certificates([responder_cert]))
    for ext in req.extensions:
        if isinstance(ext.value, x509.OCSPNonce):
            builder = builder.add_extension(ext.value, critical=False)  # the client checks its nonce comes back
    return builder.sign(responder_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_for(session: Session, config: Mapping[str, Any], cert_pem: str) -> bytes | None:
    """The responder's answer for one of our certificates, as a client would get it (None: not ours)."""
    ca = keys.load_ca_cert(config["INSTANCE_PATH"])
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    if ca is None or cert.issuer != ca.subject or keys.load_responder(config["INSTANCE_PATH"]) is None:
        return None
    req = ocsp.OCSPRequestBuilder().add_certificate(cert, ca, hashes.SHA256()).build()
    return answer_ocsp(session, config, req.public_bytes(serialization.Encoding.DER))


def signing_revinfo(session: Session, config: Mapping[str, Any], key: SignerKey | None,
                    trust_roots: list[str]) -> dict[str, Any]:
    """What the signing job embeds for the signer's chain: our OCSP answer and current CRL, no HTTP needed.

    Without ``TSA_URL`` the organization's timestamp unit stamps the signature, so our answer for its
    certificate goes in too. ``fetch`` lets the job fetch the revocation data of other CAs' certificates
    (an external TSA's) over HTTP, which only a configured TSA needs. Without ``key`` (a document
    timestamp), only the CRL.
    """
    pems = [key.certificate_pem] if key is not None and key.certificate_pem else []
    unit = _unit_cert(config["INSTANCE_PATH"]) if pems and not config.get("TSA_URL") else None
    if unit is not None:
        pems.append(unit.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    answers = [a for a in (ocsp_for(session, config, pem) for pem in pems) if a]
    crl = current_crl(config["INSTANCE_PATH"])
    ca = keys.ca_dir(config["INSTANCE_PATH"]) / keys.CA_CERT
    return {"trust": trust_roots, "ocsp": [base64.b64encode(a).decode("ascii") for a in answers],
            "crl": [str(crl)] if crl else [], "ca": str(ca) if ca.exists() else None,
            "fetch": bool(config.get("TSA_URL"))}
