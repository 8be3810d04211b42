"""The minutes workflow: draft → finalized → signed by the secretary → by the chair → published.

Every write checks the actor's permission (``meetings.minutes.policy``),
records an audit entry and, for what the meeting's participants see, a
meeting event; the caller's commit point commits. Composing runs in a child
process (``meetings.minutes.runner``); the requesting user gets
``minutes.progress`` notices while it runs. Signing is in
``meetings.minutes.signatures``, verification in ``meetings.minutes.verification``.
"""
from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.sittings import sitting_periods
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.minutes import files, notices, numbering, policy, report
from meetings.minutes.gather import gather_record
from meetings.minutes.models import Minutes
from meetings.minutes.record import MinutesRecord
from meetings.minutes.runner import job_seconds, run_job
from meetings.minutes.search_text import search_key
from meetings.platform.audit import service as audit
from meetings.platform.signals import minutes_ready_to_sign

EDITABLE = ("number", "opening_text", "closing_text", "recipients", "conclusions", "language")
# The sitting has ended: an adjourned one may still resume, and its minutes would then be wrong.
FINISHED_MEETING = ("closed",)
SIGNED = ("secretary_signed", "signed", "published")


def find_minutes(session: Session, minutes_id: int) -> Minutes:
    """The minutes with this id (NotFound when there are none); who may see them is each function's check."""
    m = session.get(Minutes, minutes_id)
    if m is None:
        raise NotFound("No such minutes.")
    return m


def _meeting(session: Session, m: Minutes) -> Meeting:
    return session.get(Meeting, m.meeting_id)


def readable_minutes(session: Session, m: Minutes, actor: User) -> Minutes:
    """One version of the minutes, for whoever may read it (else 404)."""
    policy.require_read(m, _meeting(session, m), actor)
    return m


def list_minutes(session: Session, meeting_id: int, actor: User) -> list[Minutes]:
    """Every version of a meeting's minutes ``actor`` may see, newest first (404 for a meeting they may not see)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not policy.can_list_minutes(meeting, actor):
        raise NotFound("No such meeting.")
    rows = session.execute(select(Minutes).where(Minutes.meeting_id == meeting_id)
                           .order_by(Minutes.version.desc())).scalars()
    return [m for m in rows if policy.can_read_minutes(m, meeting, actor)]


def create_minutes(session: Session, meeting: Meeting, actor: User, *, language: str = "vi") -> Minutes:
    """Start the first draft of a meeting's minutes; one set of minutes per meeting (then corrections)."""
    policy.require_prepare_meeting(meeting, actor)
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
    notices.status_changed(session, m, actor.id)
    return m


def update_draft(session: Session, m: Minutes, actor: User, **changes: Any) -> Minutes:
    """Edit a draft's free text, number, recipients or conclusions (by agenda item id)."""
    meeting = _meeting(session, m)
    policy.require_prepare(m, meeting, actor)
    if m.status != "draft":
        raise Conflict("Only a draft can be edited; the content of finalized minutes is locked.",
                       code="not_draft")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))}.")
    if "conclusions" in changes:
        item_ids = {str(i.id) for i in meeting.items}
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


def _tz(config: Mapping[str, Any]) -> str:
    return config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"


def _held_at(session: Session, meeting: Meeting):
    periods = sitting_periods(session, meeting.id)
    return periods[0].started_at if periods else None


def _record(session: Session, m: Minutes) -> MinutesRecord:
    note = None
    if m.previous_id:
        prev = session.get(Minutes, m.previous_id)
        note = f"Thay thế phiên bản {prev.version}" + (f": {m.correction_reason}" if m.correction_reason else ".")
    return gather_record(session, m.meeting_id, conclusions=m.conclusions, opening_text=m.opening_text,
                         closing_text=m.closing_text, recipients=m.recipients, number=m.number,
                         language=m.language, version=m.version, previous_note=note)


@dataclass
class MinutesPdf:
    """The PDF to send: a draft rendered now (``data``), or the stored file (``path``, with its sha256)."""

    download_name: str
    data: bytes | None = None
    path: Path | None = None
    sha256: str | None = None


def minutes_pdf(session: Session, m: Minutes, actor: User, config: Mapping[str, Any]) -> MinutesPdf:
    """The minutes as a PDF: a draft watermarked DỰ THẢO / DRAFT (made fresh, never stored), else the stored file."""
    meeting = _meeting(session, m)
    policy.require_read(m, meeting, actor)
    name = f"bien-ban-{meeting.id}-v{m.version}.pdf"
    if m.status != "draft":
        return MinutesPdf(name, path=files.minutes_file(config["STORAGE_PATH"], m.sha256), sha256=m.sha256)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "draft.pdf"
        run_job({"op": "compose", "record": _record(session, m).to_json(), "draft": True, "out": str(out),
                 "tz": config.get("TIMEZONE")}, seconds=job_seconds(config))
        return MinutesPdf(name, data=out.read_bytes())


def finalize(session: Session, m: Minutes, actor: User, config: Mapping[str, Any]) -> Minutes:
    """Lock the content: compose the final PDF with empty signature fields, store it and its text."""
    meeting = _meeting(session, m)
    policy.require_prepare(m, meeting, actor)
    if m.status != "draft":
        raise Conflict("Only a draft can be finalized.", code="not_draft")
    if meeting.status not in FINISHED_MEETING:
        raise Conflict("The meeting must be closed before its minutes are finalized.",
                       code="meeting_not_finished")
    if not meeting.body.place_name:
        raise Conflict("Set the body's place name (the locality of the date line) before finalizing.",
                       code="incomplete_settings", details={"missing": ["place_name"]})
    if not (m.number or "").strip():
        m.number = numbering.take_number(session, meeting.body,
                                         numbering.register_year(_held_at(session, meeting), _tz(config)))
    notices.progress(actor.id, m.id, "composing", 10)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "final.pdf"
        result = run_job({"op": "compose", "record": _record(session, m).to_json(), "draft": False,
                          "fields": True, "extract_text": True, "out": str(out), "tz": config.get("TIMEZONE")},
                         seconds=job_seconds(config))
        notices.progress(actor.id, m.id, "storing", 80)
        files.store_file(config["STORAGE_PATH"], result["sha256"], src=out)
    m.sha256 = m.final_sha256 = result["sha256"]
    m.size, m.page_count, m.boxes = result["size"], result["pages"], result["boxes"]
    m.full_text = unicodedata.normalize("NFC", result["text"] or "")  # pdftotext may decompose marks
    m.search_text = search_key(meeting.title, m.full_text)
    m.search_title = search_key(meeting.title)
    m.status, m.finalized_at = "finalized", utcnow()
    audit.record(session, "minutes.finalized", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id, details={"sha256": m.sha256, "pages": m.page_count})
    notices.status_changed(session, m, actor.id)
    minutes_ready_to_sign.send(None, session=session, minutes=m, actor=actor)  # the signers are told (notifications)
    notices.progress(actor.id, m.id, "done", 100)
    return m


def publish(session: Session, m: Minutes, actor: User, config: Mapping[str, Any]) -> Minutes:
    """Send signed minutes to the archive, with the validation report of their file."""
    policy.require_prepare(m, _meeting(session, m), actor)
    if m.status != "signed":
        raise Conflict("Only minutes signed by the secretary and the chair can be published.", code="not_signed")
    m.status, m.published_at = "published", utcnow()
    audit.record(session, "minutes.published", actor_id=actor.id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id, details={"sha256": m.sha256, "version": m.version})
    report.validate_published(session, m, actor.id, config)
    notices.status_changed(session, m, actor.id)
    return m


def correct(session: Session, m: Minutes, actor: User, *, reason: str) -> Minutes:
    """Start a corrected version of signed minutes; the signed file stays as it is."""
    policy.require_prepare(m, _meeting(session, m), actor)
    if m.status not in SIGNED:
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
    notices.status_changed(session, new, actor.id)
    return new
