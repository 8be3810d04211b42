"""Meeting pages for browsers: "my meetings" and one meeting with its agenda and documents.

Plain server-rendered HTML (Jinja autoescapes every title and name); labels
live in the templates so they can later be wrapped in _() for English.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from meetings.bodies import agenda, participants, permissions, sittings, units
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.documents.models import Document
from meetings.tasks import policy as task_policy

bp = Blueprint("meeting_pages", __name__)

# Meetings happen in Vietnam; times are stored in UTC and shown in the hall's zone.
HALL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Meetings in these states are "now", whatever their planned times say.
_LIVE = ("in_progress", "adjourned")


def hall_time(value: datetime | None) -> str:
    """A stored time as the hall reads it: "14:30, 27/11/2026"."""
    if value is None:
        return ""
    return value.astimezone(HALL_TZ).strftime("%H:%M, %d/%m/%Y")


def iso_utc(value: datetime | None) -> str:
    """A stored time for <time datetime>, with its offset."""
    return value.isoformat() if value is not None else ""


def _is_upcoming(meeting: Meeting, now: datetime) -> bool:
    if meeting.status in _LIVE:
        return True
    if meeting.status == "closed":
        return False
    return (meeting.ends_at or meeting.starts_at) >= now


@bp.route("/")
@login_required
def my_meetings():
    """The meetings the user may see: upcoming and live ones first (soonest first), then past ones."""
    user = current_user._get_current_object()
    meetings = db.session.execute(sittings.visible_meetings(user)).scalars().all()
    now = utcnow()
    upcoming = sorted((m for m in meetings if _is_upcoming(m, now)),
                      key=lambda m: (m.status not in _LIVE, m.starts_at, m.id))
    past = sorted((m for m in meetings if not _is_upcoming(m, now)),
                  key=lambda m: (m.starts_at, m.id), reverse=True)
    # The bodies whose follow-up tasks this user follows (the chair, the office): their dashboards.
    bodies = sorted({m.body for m in meetings}, key=lambda b: b.name)
    boards = [b for b in bodies if task_policy.can_see_dashboard(db.session, b.id, user)]
    # The bodies whose units this user keeps (their office): the units page.
    unit_bodies = [b for b in bodies if units.can_manage_units(db.session, b, user)]
    return render_template("meetings/my_meetings.html", upcoming=upcoming, past=past, hall_time=hall_time,
                           iso_utc=iso_utc, boards=boards, unit_bodies=unit_bodies)


@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting_page(meeting_id: int):
    """One meeting: details, participants, the agenda and each item's documents."""
    user = current_user._get_current_object()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)  # 404 alike for unknown and not yours
    docs = db.session.execute(
        select(Document).where(Document.meeting_id == meeting.id, Document.is_current.is_(True))
        .order_by(Document.title, Document.id)
    ).scalars().all()
    item_ids = {i.id for i in meeting.items}
    by_item: dict[int | None, list[Document]] = defaultdict(list)
    for doc in docs:
        if permissions.can_view_document(meeting, user, doc.published):
            by_item[doc.agenda_item_id if doc.agenda_item_id in item_ids else None].append(doc)
    mine = permissions.participant_of(meeting, user)
    return render_template(
        "meetings/meeting.html",
        meeting=meeting,
        agenda=agenda.agenda_tree(meeting),
        participants=participants.in_role_order(meeting),
        documents=by_item,
        my_role=mine.role if mine else None,
        can_prepare=permissions.can_prepare(meeting, user),
        hall_time=hall_time,
        iso_utc=iso_utc,
    )

