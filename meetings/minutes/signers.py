"""Registering signers' keys: issued by the organization CA, imported PKCS#12, PKCS#11 tokens, remote CSC keys."""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.errors import Conflict, Invalid
from meetings.minutes import keys
from meetings.minutes.models import SignerKey
from meetings.minutes.revocation import pki_base_url
from meetings.platform.audit import service as audit


def _row(session: Session, user: User, cert: x509.Certificate, *, kind: str, source: str,
         actor_id: int | None, **where: Any) -> SignerKey:
    fp = keys.fingerprint(cert)
    if session.execute(select(SignerKey.id).where(SignerKey.fingerprint == fp)).first():
        raise Conflict("This certificate is already registered.")
    row = SignerKey(user_id=user.id, kind=kind, source=source, fingerprint=fp,
                    certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                    subject=cert.subject.rfc4514_string()[:500],
                    not_after=cert.not_valid_after_utc.astimezone(UTC), serial=format(cert.serial_number, "x"),
                    **where)
    session.add(row)
    session.flush()
    audit.record(session, f"signer_key.{source}", actor_id=actor_id, object_type="signer_key", object_id=row.id,
                 details={"user_id": user.id, "kind": kind, "fingerprint": fp, "subject": row.subject})
    return row


def issue_key(session: Session, config: Mapping[str, Any], user: User, *, ca_passphrase: str, passphrase: str,
              organization: str | None = None, actor_id: int | None = None) -> SignerKey:
    """Issue a PKCS#12 from the organization CA for ``user``, encrypted with their chosen passphrase."""
    issued = keys.issue_pkcs12(config["INSTANCE_PATH"], ca_passphrase, user_id=user.id, full_name=user.full_name,
                               organization=organization, passphrase=passphrase, days=config.get("SIGNER_CERT_DAYS"),
                               pki_base_url=pki_base_url(config))
    return _row(session, user, issued.certificate, kind="pkcs12", source="issued", actor_id=actor_id,
                path=str(issued.path))


def import_key(session: Session, config: Mapping[str, Any], user: User, data: bytes, *, passphrase: str,
               actor_id: int | None = None) -> SignerKey:
    """Register an external PKCS#12 (kept encrypted as given)."""
    issued = keys.import_pkcs12(config["INSTANCE_PATH"], data, passphrase, user_id=user.id)
    return _row(session, user, issued.certificate, kind="pkcs12", source="imported", actor_id=actor_id,
                path=str(issued.path))


def register_token(session: Session, user: User, *, module: str, token_label: str, key_label: str,
                   cert_label: str | None = None, actor_id: int | None = None) -> SignerKey:
    """Register a key on a PKCS#11 token; its certificate is read from the token (no PIN needed)."""
    from meetings.minutes.pkcs11 import read_certificate

    cert = read_certificate(module, token_label, cert_label or key_label)
    if cert is None:
        raise Invalid("No certificate with that label on the token.", code="no_certificate")
    return _row(session, user, cert, kind="pkcs11", source="token", actor_id=actor_id, module=module,
                token_label=token_label, key_label=key_label)


def csc_access_token(config: Mapping[str, Any]) -> str | None:
    """The bearer token for the CSC service (``CSC_ACCESS_TOKEN``), if it wants one; kept out of the database."""
    return config.get("CSC_ACCESS_TOKEN") or os.environ.get("CSC_ACCESS_TOKEN") or None


def register_csc(session: Session, config: Mapping[str, Any], user: User, *, url: str, credential_id: str,
                 actor_id: int | None = None) -> SignerKey:
    """Register a key held at a CSC remote signing service; its certificate comes from ``credentials/info``.

    No PIN is needed to read the certificate; the signer's PIN (or OTP) is asked at each signature.
    """
    from meetings.minutes.csc import read_credential

    if not url.startswith(("https://", "http://")):
        raise Invalid("The CSC service URL must be an https:// (or http://) URL.", code="invalid_url")
    credential = read_credential(url, credential_id, csc_access_token(config))
    return _row(session, user, credential.certificate, kind="csc", source="remote", actor_id=actor_id,
                service_url=url.rstrip("/"), credential_id=credential_id)


def keys_of(session: Session, user: User) -> list[SignerKey]:
    return list(session.execute(select(SignerKey).where(SignerKey.user_id == user.id)
                                .order_by(SignerKey.id)).scalars())
