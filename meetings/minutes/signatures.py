"""Signing minutes: the secretary first (certifying), then the chair, each with their own key.

The signature is applied as an incremental update in a child process
(``meetings.minutes.jobs``); the passphrase or PIN travels to it once and is
never stored or logged.
"""
from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid
from meetings.minutes import files, keys, notices, policy
from meetings.minutes.models import Minutes, MinutesSignature, SignerKey
from meetings.minutes.revocation import signing_revinfo
from meetings.minutes.runner import job_seconds, run_job
from meetings.minutes.signers import csc_access_token
from meetings.minutes.verification import trust_root_files
from meetings.platform.audit import service as audit

NEXT_SIGNER = {"finalized": "secretary", "secretary_signed": "chair"}
AFTER_SIGNATURE = {"secretary": "secretary_signed", "chair": "signed"}


def signing_role(session: Session, m: Minutes, actor: User) -> str:
    """The role the actor signs in now, or a clear refusal."""
    meeting = session.get(Meeting, m.meeting_id)
    role = policy.require_signer(meeting, actor)
    needed = NEXT_SIGNER.get(m.status)
    if needed is None:
        if m.status == "draft":
            raise Conflict("A draft cannot be signed: finalize it first.", code="not_finalized")
        raise Conflict("These minutes carry both signatures already.", code="already_signed")
    if meeting.status != "closed":  # a signature is dated: never before the sitting it records has ended
        raise Conflict("The meeting must be closed before its minutes are signed.", code="meeting_not_finished")
    if role != needed:
        raise Conflict(f"The {needed} signs first." if needed == "secretary" else "Waiting for the chair.",
                       code="wrong_signing_order")
    return needed


def signer_key_for(session: Session, user: User, key_id: int | None = None) -> SignerKey:
    """The user's newest key that is not revoked (or the one named ``key_id``); a revoked key is refused."""
    q = select(SignerKey).where(SignerKey.user_id == user.id)
    if key_id is not None:
        q = q.where(SignerKey.id == key_id)
    found = list(session.execute(q.order_by(SignerKey.id.desc())).scalars())
    key = next((k for k in found if k.revoked_at is None), None)
    if key is None and found:
        raise Conflict("This signing key is revoked: ask an administrator for a new one.", code="key_revoked")
    if key is None:
        raise Invalid("You have no signing key: ask an administrator to issue or register one.", code="no_key")
    return key


def font_cache(config: Mapping[str, Any]) -> str:
    """Where the signature stamp's rescaled font is cached (``MINUTES_FONT_CACHE``, else instance/fonts)."""
    return str(config.get("MINUTES_FONT_CACHE") or Path(config["INSTANCE_PATH"]) / "fonts")


def sign(session: Session, m: Minutes, actor: User, config: Mapping[str, Any], *, secret: str,
         key_id: int | None = None) -> MinutesSignature:
    """Apply the actor's signature as an incremental update. ``secret`` is never stored or logged."""
    role = signing_role(session, m, actor)
    if not isinstance(secret, str) or not secret:
        raise Invalid("Enter your passphrase or PIN.", code="secret_required")
    key = signer_key_for(session, actor, key_id)
    before = m.status
    notices.progress(actor.id, m.id, "signing", 10)
    signed_at = utcnow()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "signed.pdf"
        spec = {"kind": key.kind, "path": key.path, "module": key.module, "token_label": key.token_label,
                "key_label": key.key_label, "service_url": key.service_url, "credential_id": key.credential_id,
                "fingerprint": key.fingerprint}
        if key.kind == "csc":
            spec["access_token"] = csc_access_token(config)
        result = run_job({"op": "sign", "pdf": str(files.minutes_file(config["STORAGE_PATH"], m.sha256)),
                          "out": str(out), "role": role, "spec": spec, "secret": secret,
                          "signer_name": actor.full_name, "font_cache": font_cache(config),
                          "signed_at": signed_at.isoformat(), "language": m.language, "tz": config.get("TIMEZONE"),
                          "tsa_url": config.get("TSA_URL"),
                          # Without a TSA, the organization's own timestamp unit (its PEM paths; the child
                          # reads the key itself: no key bytes in the job) stamps the signature.
                          "timestamp_unit": None if config.get("TSA_URL")
                          else keys.timestamp_unit_files(config["INSTANCE_PATH"]),
                          # B-LT: the chain's revocation data goes into the DSS; B-LTA: a document timestamp
                          # after the last signature (needs a TSA).
                          "validation": signing_revinfo(session, config, key, trust_root_files(config)),
                          "archival": role == "chair" and bool(config.get("TSA_URL"))},
                         seconds=job_seconds(config))
        notices.progress(actor.id, m.id, "storing", 80)
        files.store_file(config["STORAGE_PATH"], result["sha256"], src=out)
    # Whoever signed meanwhile wins; this one is refused rather than forking the file.
    changed = session.execute(update(Minutes).where(Minutes.id == m.id, Minutes.status == before)
                              .values(status=AFTER_SIGNATURE[role], sha256=result["sha256"], size=result["size"],
                                      updated_at=utcnow()),
                              execution_options={"synchronize_session": False}).rowcount
    if changed != 1:
        raise Conflict("The minutes changed while you were signing; reload and try again.", code="conflict")
    session.refresh(m)
    sig = MinutesSignature(minutes_id=m.id, role=role, signer_id=actor.id, key_id=key.id,
                           signer_name=actor.full_name, certificate_subject=key.subject, signed_at=signed_at,
                           sha256=result["sha256"])
    session.add(sig)
    session.flush()
    audit.record(session, "minutes.signed", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id, details={"role": role, "sha256": result["sha256"], "key_id": key.id})
    notices.status_changed(session, m, actor.id)
    notices.progress(actor.id, m.id, "done", 100)
    return sig
