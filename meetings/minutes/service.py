"""The minutes workflow: draft → finalized → signed by the secretary → by the chair → published.

Every write records an audit entry and, for what the meeting's participants
see, a meeting event; the caller commits. Composing and signing run in a
child process (meetings.minutes.worker); the requesting user gets
``minutes.progress`` notices while they run.
"""
from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.archive.search import search_key
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import participant_of
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.minutes import files
from meetings.minutes.models import Minutes, MinutesSignature, SignerKey
from meetings.minutes.record import gather_record
from meetings.minutes.worker import run_job
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog

EDITABLE = ("number", "opening_text", "closing_text", "recipients", "conclusions", "language")
NEXT_SIGNER = {"finalized": "secretary", "secretary_signed": "chair"}
AFTER_SIGNATURE = {"secretary": "secretary_signed", "chair": "signed"}
FINISHED_MEETING = ("adjourned", "closed")


def _progress(session: Session, user_id: int, minutes_id: int, stage: str, percent: int) -> None:
    """Tell the requesting user how far a long job is, now: a separate, empty transaction
    carries the notice, since the caller's own commit comes only at the end."""
    with Session(bind=session.get_bind()) as side:
        side.connection()  # begin, so that commit runs the after-commit hook that sends the notice
        eventlog.notify(side, user_id, "minutes.progress", {"minutes_id": minutes_id, "stage": stage,
                                                             "percent": percent})
        side.commit()


def _status_event(session: Session, m: Minutes, actor_id: int) -> None:
    eventlog.append(session, m.meeting_id, "minutes.status",
                    {"minutes_id": m.id, "version": m.version, "status": m.status}, actor_id=actor_id)


def _font_cache(config: Mapping[str, Any]) -> str:
    return str(config.get("MINUTES_FONT_CACHE") or Path(config["INSTANCE_PATH"]) / "fonts")


def get_minutes(session: Session, minutes_id: int) -> Minutes:
    m = session.get(Minutes, minutes_id)
    if m is None:
        raise NotFound("No such minutes.")
    return m


def create_minutes(session: Session, meeting: Meeting, actor: User, *, language: str = "vi") -> Minutes:
    """Start the first draft of a meeting's minutes; one set of minutes per meeting (then corrections)."""
    if language not in ("vi", "en"):
        raise Invalid("Language must be 'vi' or 'en'.")
    if meeting.status == "draft":
        raise Conflict("A meeting still in preparation has no minutes.", code="meeting_not_held")
    if session.execute(select(Minutes.id).where(Minutes.meeting_id == meeting.id)).first():
        raise Conflict("This meeting already has minutes; correct them with a new version instead.",
                       code="minutes_exist")
    conclusions = {str(i.id): i.conclusion for i in meeting.items if i.conclusion}
    m = Minutes(meeting_id=meeting.id, version=1, status="draft", language=language, recipients=[],
                conclusions=conclusions, boxes={}, created_by_id=actor.id)
    session.add(m)
    session.flush()
    audit.record(session, "minutes.created", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=meeting.id, details={"version": 1, "language": language})
    _status_event(session, m, actor.id)
    return m


def update_draft(session: Session, m: Minutes, actor: User, changes: Mapping[str, Any]) -> Minutes:
    """Edit a draft's free text, number, recipients or conclusions (by agenda item id)."""
    if m.status != "draft":
        raise Conflict("Only a draft can be edited; the content of finalized minutes is locked.",
                       code="not_draft")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))}.")
    if "conclusions" in changes:
        item_ids = {str(i.id) for i in session.get(Meeting, m.meeting_id).items}
        bad = set(changes["conclusions"]) - item_ids
        if bad:
            raise Invalid("Conclusions name agenda items of another meeting.", details={"items": sorted(bad)})
        merged = dict(m.conclusions or {})
        for k, v in changes["conclusions"].items():
            if v is None or not str(v).strip():
                merged.pop(k, None)
            else:
                merged[k] = v
        m.conclusions = merged
    for field in ("number", "opening_text", "closing_text", "recipients", "language"):
        if field in changes:
            setattr(m, field, changes[field])
    m.updated_at = utcnow()
    audit.record(session, "minutes.updated", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id, details={"fields": sorted(changes)})
    return m


def _record(session: Session, m: Minutes):
    note = None
    if m.previous_id:
        prev = session.get(Minutes, m.previous_id)
        note = f"Thay thế phiên bản {prev.version}" + (f": {m.correction_reason}" if m.correction_reason else ".")
    return gather_record(session, m.meeting_id, conclusions=m.conclusions, opening_text=m.opening_text,
                         closing_text=m.closing_text, recipients=m.recipients, number=m.number,
                         language=m.language, version=m.version, previous_note=note)


def render_draft(session: Session, m: Minutes, config: Mapping[str, Any], actor_id: int | None = None) -> bytes:
    """The draft as a PDF watermarked DỰ THẢO / DRAFT (made fresh, never stored)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "draft.pdf"
        run_job({"op": "compose", "record": _record(session, m).to_json(), "draft": True, "out": str(out),
                 "tz": config.get("TIMEZONE")}, seconds=config.get("MINUTES_JOB_SECONDS", 120))
        return out.read_bytes()


def finalize(session: Session, m: Minutes, actor: User, config: Mapping[str, Any]) -> Minutes:
    """Lock the content: compose the final PDF with empty signature fields, store it and its text."""
    if m.status != "draft":
        raise Conflict("Only a draft can be finalized.", code="not_draft")
    meeting = session.get(Meeting, m.meeting_id)
    if meeting.status not in FINISHED_MEETING:
        raise Conflict("The meeting must be adjourned or closed before its minutes are finalized.",
                       code="meeting_not_finished")
    _progress(session, actor.id, m.id, "composing", 10)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "final.pdf"
        result = run_job({"op": "compose", "record": _record(session, m).to_json(), "draft": False,
                          "fields": True, "extract_text": True, "out": str(out), "tz": config.get("TIMEZONE")},
                         seconds=config.get("MINUTES_JOB_SECONDS", 120))
        _progress(session, actor.id, m.id, "storing", 80)
        files.store_file(config["STORAGE_PATH"], result["sha256"], src=out)
    m.sha256 = m.final_sha256 = result["sha256"]
    m.size, m.page_count, m.boxes = result["size"], result["pages"], result["boxes"]
    m.full_text = unicodedata.normalize("NFC", result["text"] or "")  # pdftotext may decompose marks
    m.search_text = search_key(meeting.title, m.full_text)
    m.search_title = search_key(meeting.title)
    m.status, m.finalized_at = "finalized", utcnow()
    audit.record(session, "minutes.finalized", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id, details={"sha256": m.sha256, "pages": m.page_count})
    _status_event(session, m, actor.id)
    _progress(session, actor.id, m.id, "done", 100)
    return m


def signing_role(session: Session, m: Minutes, actor: User) -> str:
    """The role the actor signs in now, or a clear refusal."""
    meeting = session.get(Meeting, m.meeting_id)
    p = participant_of(meeting, actor)
    if p is None or p.role not in ("secretary", "chair"):
        raise Forbidden("Only the meeting's secretary and chair sign its minutes.", code="not_a_signer")
    needed = NEXT_SIGNER.get(m.status)
    if needed is None:
        if m.status == "draft":
            raise Conflict("A draft cannot be signed: finalize it first.", code="not_finalized")
        raise Conflict("These minutes carry both signatures already.", code="already_signed")
    if p.role != needed:
        raise Conflict(f"The {needed} signs first." if needed == "secretary" else "Waiting for the chair.",
                       code="wrong_signing_order")
    return needed


def signer_key_for(session: Session, user: User, key_id: int | None = None) -> SignerKey:
    q = select(SignerKey).where(SignerKey.user_id == user.id, SignerKey.revoked_at.is_(None))
    if key_id is not None:
        q = q.where(SignerKey.id == key_id)
    key = session.execute(q.order_by(SignerKey.id.desc()).limit(1)).scalar_one_or_none()
    if key is None:
        raise Invalid("You have no signing key: ask an administrator to issue or register one.", code="no_key")
    return key


def sign(session: Session, m: Minutes, actor: User, secret: str, config: Mapping[str, Any],
         *, key_id: int | None = None) -> MinutesSignature:
    """Apply the actor's signature as an incremental update. ``secret`` is never stored or logged."""
    role = signing_role(session, m, actor)
    if not isinstance(secret, str) or not secret:
        raise Invalid("Enter your passphrase or PIN.", code="secret_required")
    key = signer_key_for(session, actor, key_id)
    before = m.status
    _progress(session, actor.id, m.id, "signing", 10)
    signed_at = utcnow()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "signed.pdf"
        spec = {"kind": key.kind, "path": key.path, "module": key.module, "token_label": key.token_label,
                "key_label": key.key_label}
        result = run_job({"op": "sign", "pdf": str(files.minutes_file(config["STORAGE_PATH"], m.sha256)),
                          "out": str(out), "role": role, "spec": spec, "secret": secret,
                          "signer_name": actor.full_name, "font_cache": _font_cache(config),
                          "signed_at": signed_at.isoformat(), "language": m.language, "tz": config.get("TIMEZONE"),
                          "tsa_url": config.get("TSA_URL")}, seconds=config.get("MINUTES_JOB_SECONDS", 120))
        _progress(session, actor.id, m.id, "storing", 80)
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
    _status_event(session, m, actor.id)
    _progress(session, actor.id, m.id, "done", 100)
    return sig


def publish(session: Session, m: Minutes, actor: User) -> Minutes:
    """Send signed minutes to the archive."""
    if m.status != "signed":
        raise Conflict("Only minutes signed by the secretary and the chair can be published.", code="not_signed")
    m.status, m.published_at = "published", utcnow()
    audit.record(session, "minutes.published", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id, details={"sha256": m.sha256, "version": m.version})
    _status_event(session, m, actor.id)
    return m


def correct(session: Session, m: Minutes, actor: User, reason: str) -> Minutes:
    """Start a corrected version of signed minutes; the signed file stays as it is."""
    if m.status not in ("secretary_signed", "signed", "published"):
        raise Conflict("Only signed minutes are corrected by a new version; edit the draft instead.",
                       code="not_signed")
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("Say what the correction is for.")
    latest = session.execute(select(Minutes).where(Minutes.meeting_id == m.meeting_id)
                             .order_by(Minutes.version.desc()).limit(1)).scalar_one()
    if latest.id != m.id:
        raise Conflict(f"Version {latest.version} already follows this one.", code="not_latest")
    new = Minutes(meeting_id=m.meeting_id, version=m.version + 1, previous_id=m.id, status="draft",
                  language=m.language, number=m.number, opening_text=m.opening_text, closing_text=m.closing_text,
                  recipients=list(m.recipients or []), conclusions=dict(m.conclusions or {}), boxes={},
                  correction_reason=reason.strip(), created_by_id=actor.id)
    session.add(new)
    session.flush()
    audit.record(session, "minutes.corrected", actor_id=actor.id, object_type="minutes", object_id=new.id,
                 meeting_id=m.meeting_id, details={"previous_id": m.id, "version": new.version})
    _status_event(session, new, actor.id)
    return new


def trust_root_files(config: Mapping[str, Any]) -> list[str]:
    """PEM files of the roots verification trusts: the organization CA, then MINUTES_TRUST_ROOTS."""
    from meetings.minutes.keys import CA_CERT, ca_dir

    paths = []
    ca = ca_dir(config["INSTANCE_PATH"]) / CA_CERT
    if ca.exists():
        paths.append(str(ca))
    extra = config.get("MINUTES_TRUST_ROOTS") or os.environ.get("MINUTES_TRUST_ROOTS") or []
    if isinstance(extra, str):
        extra = [p for p in extra.split(":") if p]
    return paths + list(extra)


def verify_file(path: str | Path, config: Mapping[str, Any]) -> dict[str, Any]:
    """Verify any PDF's signatures in a child process (the file may be hostile)."""
    return run_job({"op": "verify", "pdf": str(path), "roots": trust_root_files(config)},
                   seconds=config.get("MINUTES_JOB_SECONDS", 120))["report"]


def verify_minutes(m: Minutes, config: Mapping[str, Any]) -> dict[str, Any]:
    if not m.sha256:
        raise Conflict("A draft has no signatures to verify.", code="not_finalized")
    return verify_file(files.minutes_file(config["STORAGE_PATH"], m.sha256), config)
