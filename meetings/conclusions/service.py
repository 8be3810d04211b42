"""Conclusion notices: compose a draft from a closed sitting's conclusions, edit it, read it.

The workflow beyond the draft (ready → signed → published and sent) is in
``meetings.conclusions.workflow``. Every write checks the actor through
``meetings.conclusions.policy``, records an audit entry and a
``conclusions.status`` meeting event; the caller's commit point commits.

``items_of`` is the read API follow-up tasks use (``meetings.tasks``): each
numbered conclusion with its id, number, text and agenda item.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_view
from meetings.bodies.unit_models import Unit
from meetings.conclusions import policy
from meetings.conclusions.models import ConclusionItem, ConclusionNotice
from meetings.conclusions.settings import settings_of
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog

EDITABLE = ("number", "subject", "opening_text", "recipients", "recipient_unit_ids", "extra_emails",
            "send_to_participants", "items")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 20000


@dataclass(frozen=True)
class Conclusion:
    """One numbered conclusion, as ``meetings.tasks`` reads it."""

    id: int
    number: int
    text: str
    agenda_item_id: int | None


def items_of(notice: ConclusionNotice) -> list[Conclusion]:
    """The notice's numbered conclusions in order (read API for follow-up tasks)."""
    return [Conclusion(i.id, i.number, i.text, i.agenda_item_id) for i in sorted(notice.items, key=lambda i: i.number)]


def conclusion_of(session: Session, conclusion_id: int) -> tuple[ConclusionNotice, Conclusion]:
    """One conclusion by id with its notice (NotFound); who may see it is the caller's check (``policy``)."""
    row = session.get(ConclusionItem, conclusion_id)
    if row is None:
        raise NotFound("No such conclusion.")
    return row.notice, Conclusion(row.id, row.number, row.text, row.agenda_item_id)


def find_notice(session: Session, notice_id: int) -> ConclusionNotice:
    """The notice with this id (NotFound); who may see it is each function's check."""
    notice = session.get(ConclusionNotice, notice_id)
    if notice is None:
        raise NotFound("No such conclusion notice.")
    return notice


def meeting_of(session: Session, notice: ConclusionNotice) -> Meeting:
    return session.get(Meeting, notice.meeting_id)


def readable_notice(session: Session, notice: ConclusionNotice, actor: User | None) -> ConclusionNotice:
    """The notice, for whoever may read it (else 404)."""
    policy.require_read(session, notice, meeting_of(session, notice), actor)
    return notice


def notice_of_meeting(session: Session, meeting_id: int, actor: User | None) -> ConclusionNotice:
    """The meeting's notice if the actor may read it; 404 otherwise (and for a meeting they may not see)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not can_view(meeting, actor):
        raise NotFound("No such meeting.")
    notice = session.execute(select(ConclusionNotice).where(ConclusionNotice.meeting_id == meeting_id)
                             ).scalar_one_or_none()
    if notice is None:
        raise NotFound("This meeting has no conclusion notice.")
    policy.require_read(session, notice, meeting, actor)
    return notice


def status_event(session: Session, notice: ConclusionNotice, actor_id: int | None) -> None:
    """Log ``conclusions.status`` for the meeting's room (broadcast after commit)."""
    eventlog.append(session, notice.meeting_id, "conclusions.status",
                    {"notice_id": notice.id, "status": notice.status, "edited": notice.edited,
                     "number": notice.number}, actor_id=actor_id)


def agenda_conclusions(meeting: Meeting) -> list[tuple[int, str]]:
    """(agenda item id, conclusion) in agenda order (each item, then its sub-items), those with one."""
    out = []
    for item in (i for i in meeting.items if i.parent_id is None):
        for it in [item, *(c for c in meeting.items if c.parent_id == item.id)]:
            if it.conclusion and it.conclusion.strip():
                out.append((it.id, it.conclusion.strip()))
    return out


def _chair_name(meeting: Meeting) -> str | None:
    return next((p.user.full_name for p in meeting.participants if p.role == "chair"), None)


def create_notice(session: Session, meeting: Meeting, actor: User) -> ConclusionNotice:
    """Start the draft notice of a closed sitting, one numbered conclusion per agenda item that has one."""
    policy.require_prepare_meeting(meeting, actor)
    if meeting.status != "closed":
        raise Conflict("The sitting must be closed before its conclusion notice is composed.",
                       code="meeting_not_finished")
    if session.execute(select(ConclusionNotice.id).where(ConclusionNotice.meeting_id == meeting.id)).first():
        raise Conflict("This meeting already has a conclusion notice.", code="notice_exists")
    found = agenda_conclusions(meeting)
    if not found:
        raise Conflict("No agenda item of this sitting has a conclusion yet.", code="no_conclusions")
    s = settings_of(session, meeting.body)
    chair = _chair_name(meeting)
    who = f"{s.chair_title} {chair}" if chair else s.chair_title
    notice = ConclusionNotice(
        meeting_id=meeting.id, body_id=meeting.body_id, status="draft",
        subject=f"Kết luận của {who} tại {meeting.title}"[:1000],
        opening_text=(f"{who} chủ trì {meeting.title}. Sau khi nghe báo cáo và ý kiến của các thành viên "
                      f"dự họp, {s.chair_title} kết luận như sau:"),
        recipients=list(s.recipients or ["- Lưu: VT."]), recipient_unit_ids=[], extra_emails=[],
        send_to_participants=True, signing_mode=s.signing_mode, sign_head=s.sign_head, box={},
        created_by_id=actor.id)
    notice.items = [ConclusionItem(number=n, agenda_item_id=item_id, text=text)
                    for n, (item_id, text) in enumerate(found, start=1)]
    session.add(notice)
    session.flush()
    audit.record(session, "conclusion_notice.created", actor_id=actor.id, object_type="conclusion_notice",
                 object_id=notice.id, meeting_id=meeting.id, details={"conclusions": len(found)})
    status_event(session, notice, actor.id)
    return notice


def _clean_text(value: Any, what: str, *, limit: int = MAX_TEXT, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"The {what} cannot be empty.")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"The {what} must be text of at most {limit} characters.")
    return value.strip()


def _check_units(session: Session, notice: ConclusionNotice, ids: Any) -> list[int]:
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Invalid("recipient_unit_ids must be a list of unit ids.")
    ids = sorted(set(ids))
    found = set(session.execute(select(Unit.id).where(Unit.id.in_(ids), Unit.body_id == notice.body_id,
                                                      Unit.active.is_(True))).scalars()) if ids else set()
    bad = [i for i in ids if i not in found]
    if bad:
        raise Invalid("These are not active units of the body.", details={"units": bad})
    return ids


def _check_emails(values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Invalid("extra_emails must be a list of e-mail addresses.")
    cleaned = sorted({v.strip().lower() for v in values if v.strip()})
    bad = [v for v in cleaned if not EMAIL.match(v) or len(v) > 320]
    if bad:
        raise Invalid("These e-mail addresses are not valid.", details={"emails": bad})
    return cleaned


def _replace_items(session: Session, notice: ConclusionNotice, meeting: Meeting, items: Any) -> None:
    """Set the numbered list: kept ids keep their row (tasks may name them), new ones are added, numbered in order."""
    if not isinstance(items, list) or not items:
        raise Invalid("A notice has at least one conclusion.")
    by_id = {i.id: i for i in notice.items}
    agenda_ids = {i.id for i in meeting.items}
    wanted = []
    for entry in items:
        if not isinstance(entry, dict):
            raise Invalid("Each conclusion is an object with its text.")
        text = _clean_text(entry.get("text"), "conclusion")
        cid, aid = entry.get("id"), entry.get("agenda_item_id")
        if cid is not None and cid not in by_id:
            raise Invalid("A conclusion named belongs to another notice.", details={"id": cid})
        if aid is not None and aid not in agenda_ids:
            raise Invalid("A conclusion names an agenda item of another meeting.", details={"agenda_item_id": aid})
        wanted.append((cid, aid, text))
    ids = [w[0] for w in wanted if w[0] is not None]
    if len(ids) != len(set(ids)):
        raise Invalid("A conclusion is listed twice.")
    for row in notice.items:  # free the numbers first: (notice_id, number) is unique
        row.number = -row.id
    session.flush()
    for row in [r for r in notice.items if r.id not in ids]:
        notice.items.remove(row)
    for n, (cid, aid, text) in enumerate(wanted, start=1):
        if cid is None:
            notice.items.append(ConclusionItem(number=n, agenda_item_id=aid, text=text))
        else:
            row = by_id[cid]
            row.number, row.text = n, text
            if "agenda_item_id" in next(e for e in items if e.get("id") == cid):
                row.agenda_item_id = aid
    session.flush()


def update_notice(session: Session, notice: ConclusionNotice, actor: User, **changes: Any) -> ConclusionNotice:
    """Edit a draft: subject, opening text, number, the numbered conclusions, Nơi nhận and who it is sent to."""
    meeting = meeting_of(session, notice)
    policy.require_prepare(session, notice, meeting, actor)
    if notice.status != "draft":
        raise Conflict("Only a draft can be edited: reopen the notice first.", code="not_draft")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))}.")
    if "subject" in changes:
        notice.subject = _clean_text(changes["subject"], "subject", limit=1000)
    if "opening_text" in changes:
        notice.opening_text = _clean_text(changes["opening_text"], "opening text", required=False)
    if "number" in changes:
        notice.number = _clean_text(changes["number"], "number", limit=60, required=False)
    if "recipients" in changes:
        lines = changes["recipients"]
        if not isinstance(lines, list) or not all(isinstance(v, str) and 0 < len(v) <= 300 for v in lines):
            raise Invalid("recipients are lines of text of at most 300 characters.")
        notice.recipients = [v.strip() for v in lines if v.strip()]
    if "recipient_unit_ids" in changes:
        notice.recipient_unit_ids = _check_units(session, notice, changes["recipient_unit_ids"])
    if "extra_emails" in changes:
        notice.extra_emails = _check_emails(changes["extra_emails"])
    if "send_to_participants" in changes:
        if not isinstance(changes["send_to_participants"], bool):
            raise Invalid("send_to_participants is true or false.")
        notice.send_to_participants = changes["send_to_participants"]
    if "items" in changes:
        _replace_items(session, notice, meeting, changes["items"])
    notice.edited, notice.updated_at = True, utcnow()
    audit.record(session, "conclusion_notice.updated", actor_id=actor.id, object_type="conclusion_notice",
                 object_id=notice.id, meeting_id=notice.meeting_id, details={"fields": sorted(changes)})
    status_event(session, notice, actor.id)
    return notice
