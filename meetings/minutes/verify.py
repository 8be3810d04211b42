"""Verify every signature of a PDF with pyHanko, and say so plainly.

For each signature: who signed, in which role, when; whether the signed bytes
are intact, the cryptography valid, the certificate trusted (organization CA
plus configured extra roots); which revision it covers; and whether anything
changed after it, and whether that change was allowed. Also the PAdES level each
signature reaches (B-B, B-T, B-LT, B-LTA; see ``meetings.minutes.ltv``), the
document timestamps, and with ``validation_time`` whether each signature
validates as of that moment from the data embedded in the file alone.
"""
from __future__ import annotations

import io
import subprocess
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization

from meetings.minutes import ltv
from meetings.minutes.loopsafe import outside_running_loop
from meetings.minutes.signing import FIELD_NAMES

ROLE_BY_FIELD = {v: k for k, v in FIELD_NAMES.items()}


def _validation_context(roots):
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    trust = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in roots]
    # No network here, so revocation is soft-fail: the status now; `validation_time` checks the embedded data.
    return ValidationContext(trust_roots=trust, allow_fetching=False, revocation_mode="soft-fail")


def _name(cert) -> str:
    try:
        return cert.subject.native.get("common_name") or cert.subject.human_friendly
    except Exception:  # an odd subject must not stop the report
        return cert.subject.human_friendly


@outside_running_loop
def verify_pdf(data: bytes, roots: list, validation_time: datetime | None = None) -> dict[str, Any]:
    """A report on every signature in ``data``; never raises on a broken or hostile file.

    With ``validation_time``, each signature is also validated as of that moment (``valid_at``) using only
    the validation data embedded in the file (no network).
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    report: dict[str, Any] = {"signatures": [], "signed": False, "intact": False, "valid": False,
                              "trusted": False, "tampered": False, "error": None, "level": None,
                              "document_timestamps": [], "validation_time": None, "valid_at": None}
    if not data.startswith(b"%PDF-"):
        report["error"] = "not a PDF file"
        return report
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        # Document timestamps are reported apart, below; anything else is checked as a signature.
        stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
        sigs = [s for s in reader.embedded_signatures if s.sig_object_type != "/DocTimeStamp"]
        total_revisions = reader.xrefs.total_revisions
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        report["error"] = f"the PDF cannot be read: {type(err).__name__}"
        report["tampered"] = True
        return report
    vc = _validation_context(roots)
    for sig in sigs:
        entry: dict[str, Any] = {"field": sig.field_name, "role": ROLE_BY_FIELD.get(sig.field_name)}
        try:
            status = validate_pdf_signature(sig, signer_validation_context=vc)
        except Exception as err:  # a forged or malformed signature is reported, not raised
            entry.update(intact=False, valid=False, trusted=False, error=f"{type(err).__name__}: {err}"[:300])
            report["signatures"].append(entry)
            continue
        level = status.modification_level
        entry.update(
            signer=_name(status.signing_cert),
            signer_dn=status.signing_cert.subject.human_friendly,
            issuer=status.signing_cert.issuer.human_friendly,
            signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
            timestamp=(status.timestamp_validity.timestamp.isoformat()
                       if status.timestamp_validity is not None else None),
            intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
            certifying=sig.docmdp_level is not None,
            docmdp=sig.docmdp_level.name if sig.docmdp_level is not None else None,
            coverage=status.coverage.name if status.coverage else None,
            covers_revision=sig.signed_revision + 1, revisions=total_revisions,
            byte_range=list(sig.byte_range) if hasattr(sig, "byte_range") else None,
            modified_after=level is not None and level.name != "NONE",
            modification_level=level.name if level is not None else None,
            changes_allowed=bool(status.docmdp_ok) if status.docmdp_ok is not None else True,
            summary=status.summary(),
        )
        _long_term(entry, sig, reader, roots, validation_time)
        report["signatures"].append(entry)
    report["document_timestamps"] = [_document_timestamp(ts, reader, vc) for ts in stamps]
    s = report["signatures"]
    report["signed"] = bool(s)
    report["intact"] = bool(s) and all(e.get("intact") for e in s)
    report["valid"] = bool(s) and all(e.get("intact") and e.get("valid") and e.get("changes_allowed", False)
                                      for e in s)
    report["trusted"] = report["valid"] and all(e.get("trusted") for e in s)
    # Tampered: a signed byte changed, a signature is broken, or a change the certification forbids.
    report["tampered"] = any(not e.get("intact") or not e.get("valid") or not e.get("changes_allowed", False)
                             for e in s) or any(not t.get("intact") for t in report["document_timestamps"])
    report["level"] = ltv.document_level([e for e in s if e.get("level")]) if s and all(
        e.get("level") for e in s) else None
    if validation_time is not None:
        report["validation_time"] = validation_time.isoformat()
        report["valid_at"] = bool(s) and all((e.get("at") or {}).get("passed") for e in s)
    return report


def _long_term(entry: dict[str, Any], sig, reader, roots: list, validation_time: datetime | None) -> None:
    """The signature's PAdES level, and its validity as of ``validation_time`` from embedded data."""
    try:
        entry.update(ltv.signature_level(sig, reader, *ltv.dss_contents(reader)))
    except Exception as err:  # odd DSS contents must not stop the report
        entry.update(level=None, level_error=f"{type(err).__name__}"[:100])
    if validation_time is not None:
        entry["at"] = ltv.validate_at(sig, roots, validation_time)


def _document_timestamp(ts, reader, vc) -> dict[str, Any]:
    from pyhanko.sign.validation import validate_pdf_timestamp

    entry: dict[str, Any] = {"field": ts.field_name, "covers_revision": ts.signed_revision + 1}
    try:
        entry.update(ltv.timestamp_facts(ts))
        status = validate_pdf_timestamp(ts, validation_context=vc)
        entry.update(intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted))
    except Exception as err:  # a forged timestamp is reported, not raised
        entry.update(intact=False, valid=False, trusted=False, error=f"{type(err).__name__}: {err}"[:300])
    return entry


def pdfsig(path: str, nss_dir: str | None = None, timeout: int = 60) -> str:
    """Poppler's independent opinion (used by tests and the CLI); returns its text output."""
    cmd = ["pdfsig"] + (["-nssdir", nss_dir] if nss_dir else []) + [path]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    return done.stdout + done.stderr
