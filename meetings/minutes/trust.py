"""The trust anchors: the certificates a signature of the minutes is validated against.

They are the organization CA (INSTANCE_PATH/ca/root.pem) and the extra roots
in ``MINUTES_TRUST_ROOTS`` (e.g. a national CA that issued an imported key),
the same list verification uses (``verification.trust_root_files``). They are
published so that nobody needs this server to check a signature: over REST
(``GET /api/v1/ca/chain``), by ``flask --app wsgi ca export`` and inside every
archival bag (``data/trust/ca-chain.pem``).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from meetings.core.errors import NotFound
from meetings.minutes.keys import CA_CERT, common_name, fingerprint
from meetings.minutes.verification import trust_root_files

PEM_NAME = "ca-chain.pem"
DER_NAME = "ca-chain.p7c"  # PKCS#7 certs-only, DER: what Windows and most tools open as "a chain"


def trust_anchors(config: Mapping[str, Any]) -> list[x509.Certificate]:
    """Every trusted root, the organization CA first, each once (by fingerprint)."""
    seen: set[str] = set()
    out = []
    for path in trust_root_files(config):
        for cert in x509.load_pem_x509_certificates(Path(path).read_bytes()):
            if fingerprint(cert) not in seen:
                seen.add(fingerprint(cert))
                out.append(cert)
    return out


def _required(config: Mapping[str, Any]) -> list[x509.Certificate]:
    certs = trust_anchors(config)
    if not certs:
        raise NotFound("There is no organization CA yet: run `flask --app wsgi ca init`.", code="no_ca")
    return certs


def chain_pem(config: Mapping[str, Any]) -> bytes:
    """The trust anchors as concatenated PEM (NotFound ``no_ca`` when there are none)."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in _required(config))


def chain_der(config: Mapping[str, Any]) -> bytes:
    """The trust anchors as one DER PKCS#7 certs-only bundle (NotFound ``no_ca`` when there are none)."""
    return pkcs7.serialize_certificates(_required(config), serialization.Encoding.DER)


def describe(cert: x509.Certificate, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Who a root is and how to recognise it: subject, sha256 fingerprint, validity (ISO 8601, UTC)."""
    source = None
    if config is not None:
        org = Path(config["INSTANCE_PATH"]) / "ca" / CA_CERT
        is_org = org.exists() and fingerprint(x509.load_pem_x509_certificate(org.read_bytes())) == fingerprint(cert)
        source = "organization_ca" if is_org else "MINUTES_TRUST_ROOTS"
    return {
        "subject": cert.subject.rfc4514_string(), "common_name": common_name(cert),
        "sha256_fingerprint": fingerprint(cert), "serial_number": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.astimezone(UTC).isoformat(),
        "not_after": cert.not_valid_after_utc.astimezone(UTC).isoformat(),
        "source": source,
    }
