"""Signing any composed paper (a conclusion notice, an opinion report, a signed answer) with one field.

The minutes have two fixed fields (THƯ KÝ, CHỦ TỌA, ``meetings.minutes.signatures``);
other papers of the domains above compose their own PDF, put ONE empty
signature field where they drew the signature block (``add_signature_field``),
and have it signed by a user's registered key (``sign_paper``). Signing runs
in the same child process as the minutes' (``meetings.minutes.jobs``), with the
same timestamps (the TSA of ``TSA_URL``, else the organization's own timestamp
unit) and the same revocation data; the passphrase or PIN is never stored or
logged. The caller stores the returned bytes and records its own signature row.
"""
from __future__ import annotations

import hashlib
import io
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.db import utcnow
from meetings.core.errors import Invalid
from meetings.minutes import keys
from meetings.minutes.revocation import signing_revinfo
from meetings.minutes.runner import job_seconds, run_job
from meetings.minutes.signatures import font_cache, signer_key_for
from meetings.minutes.signers import csc_access_token
from meetings.minutes.verification import trust_root_files

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass
class SignedPaper:
    """The signed file and who signed it with which key (for the caller's own signature row)."""

    data: bytes
    sha256: str
    size: int
    signed_at: datetime
    key_id: int
    signer_name: str
    certificate_subject: str


def _check_field(field: str) -> str:
    if not isinstance(field, str) or not FIELD_NAME.match(field):
        raise Invalid("A signature field name is letters, digits and underscores.", code="invalid_field")
    return field


def add_signature_field(pdf: bytes, field: str, spot: Mapping[str, Any]) -> bytes:
    """Add one empty signature field ``field`` at ``spot`` ({"page": index from 0, "box": [x1, y1, x2, y2]}).

    ``spot`` is what ``meetings.minutes.layout.SignatureBlock`` records when it is drawn.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    if not spot or "page" not in spot or "box" not in spot:
        raise Invalid("The composed paper has no signature block.", code="no_signature_block")
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    append_signature_field(w, SigFieldSpec(_check_field(field), on_page=int(spot["page"]),
                                           box=tuple(float(v) for v in spot["box"])))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def sign_paper(session: Session, config: Mapping[str, Any], actor: User, pdf: bytes, *, secret: str, field: str,
               role_title: str, reason: str, key_id: int | None = None, language: str = "vi",
               certify: bool = False, location: str | None = None, archival: bool = False) -> SignedPaper:
    """Sign ``pdf`` in its empty field ``field`` with ``actor``'s newest unrevoked key (or ``key_id``).

    ``role_title`` is the stamp's role line (e.g. "Chủ tịch", "TL. Chủ tịch - Chánh Văn phòng"); ``reason``
    goes into the signature (e.g. "Ký thông báo kết luận"). ``certify`` makes it a certifying (DocMDP,
    form filling) signature: for the first of several signatures only. ``archival`` adds a document
    timestamp (B-LTA) when a TSA is configured: for the last one. The caller has checked that ``actor``
    may sign (its own policy); ``secret`` (passphrase, PIN or OTP) is never stored or logged.
    Raises Invalid (no key, wrong passphrase, no such field), Conflict (revoked key), Unavailable (worker).
    """
    if not isinstance(secret, str) or not secret:
        raise Invalid("Enter your passphrase or PIN.", code="secret_required")
    _check_field(field)
    key = signer_key_for(session, actor, key_id)
    signed_at = utcnow()
    spec = {"kind": key.kind, "path": key.path, "module": key.module, "token_label": key.token_label,
            "key_label": key.key_label, "service_url": key.service_url, "credential_id": key.credential_id,
            "fingerprint": key.fingerprint}
    if key.kind == "csc":
        spec["access_token"] = csc_access_token(config)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "paper.pdf", Path(tmp) / "signed.pdf"
        src.write_bytes(pdf)
        result = run_job({"op": "sign", "pdf": str(src), "out": str(out), "role": "paper", "field_name": field,
                          "role_title": role_title, "reason": reason, "certify": certify, "spec": spec,
                          "secret": secret, "signer_name": actor.full_name, "font_cache": font_cache(config),
                          "signed_at": signed_at.isoformat(), "language": language, "tz": config.get("TIMEZONE"),
                          "tsa_url": config.get("TSA_URL"), "location": location,
                          "timestamp_unit": None if config.get("TSA_URL")
                          else keys.timestamp_unit_files(config["INSTANCE_PATH"]),
                          "validation": signing_revinfo(session, config, key, trust_root_files(config)),
                          "archival": archival and bool(config.get("TSA_URL"))},
                         seconds=job_seconds(config))
        data = out.read_bytes()
    if hashlib.sha256(data).hexdigest() != result["sha256"]:
        raise Invalid("The signed file changed on its way back from the worker.", code="job_failed")
    return SignedPaper(data=data, sha256=result["sha256"], size=result["size"], signed_at=signed_at, key_id=key.id,
                       signer_name=actor.full_name, certificate_subject=key.subject)
