"""A body's monthly regular sitting ("Phiên họp thường kỳ tháng 1/2027") in two clicks.

First ``plan_next`` (a read: which month, which date and time, which title), then
``create_next`` with the month the plan named: a second click, or a second request
racing the first, finds the sitting of that month already there (409) rather than
making the month after it.

The source is the body's regular template when it has one (its date rule and local
time); otherwise the body's last regular sitting (found by its title), copied with
its weekday of the month and time. "Last" is the latest month named by a title of
the body's meetings made by the template's title pattern, so sittings named by hand
before the template existed count too.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import recurrence, templates
from meetings.bodies.models import Body, Meeting
from meetings.bodies.template_models import MeetingTemplate
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid
from meetings.platform.audit import service as audit


def _regular_template(session: Session, body: Body) -> MeetingTemplate | None:
    return session.execute(select(MeetingTemplate).where(
        MeetingTemplate.body_id == body.id, MeetingTemplate.regular.is_(True))
        .order_by(MeetingTemplate.id)).scalars().first()


def _last_sitting(session: Session, body: Body, pattern: str) -> tuple[tuple[int, int], int] | None:
    """((year, month), meeting id) of the body's latest sitting titled by ``pattern``, or None."""
    best = None
    for meeting_id, title in session.execute(select(Meeting.id, Meeting.title).where(Meeting.body_id == body.id)):
        month = recurrence.month_in_title(pattern, title)
        if month is not None and (best is None or (month, meeting_id) > best):
            best = (month, meeting_id)
    return best


def _source(session: Session, body: Body) -> dict[str, Any]:
    """Where the sitting comes from, its date rule, anchor, local time and length."""
    template = _regular_template(session, body)
    pattern = template.title_pattern if template else recurrence.DEFAULT_TITLE_PATTERN
    last = _last_sitting(session, body, pattern)
    if template is not None:
        return {"template": template, "meeting": None, "pattern": pattern, "last": last and last[0],
                "rule": template.date_rule, "anchor": {"day": template.day, "weekday": template.weekday,
                                                       "week": template.week},
                "start": time.fromisoformat(template.start_time), "minutes": template.duration_minutes}
    if last is None:
        raise Conflict("The body has no regular template and no regular sitting to repeat yet: save a meeting "
                       "as its regular template first.", code="no_regular_template")
    meeting = session.get(Meeting, last[1])
    local = meeting.starts_at.astimezone(templates.hall_zone())
    minutes = int((meeting.ends_at - meeting.starts_at).total_seconds() // 60) if meeting.ends_at else None
    return {"template": None, "meeting": meeting, "pattern": pattern, "last": last[0], "rule": "weekday_of_month",
            "anchor": recurrence.anchor_of(local.date()), "start": local.time().replace(second=0, microsecond=0),
            "minutes": minutes}


def _plan(source: dict[str, Any], year: int, month: int) -> dict[str, Any]:
    zone = templates.hall_zone()
    local = datetime.combine(recurrence.sitting_date(source["rule"], year, month, **source["anchor"]),
                             source["start"])
    starts_at = local.replace(tzinfo=zone).astimezone(UTC)
    ends_at = starts_at + timedelta(minutes=source["minutes"]) if source["minutes"] else None
    template, meeting = source["template"], source["meeting"]
    return {"year": year, "month": month, "title": recurrence.regular_title(source["pattern"], year, month),
            "starts_at": starts_at, "ends_at": ends_at, "date_rule": source["rule"],
            "template_id": template.id if template else None, "source_meeting_id": meeting.id if meeting else None,
            "last": {"year": source["last"][0], "month": source["last"][1]} if source["last"] else None}


def plan_next(session: Session, body: Body, actor: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Next month's regular sitting as it would be made: year, month, title, start (UTC), end, source."""
    templates.require_manage(body, actor)
    source = _source(session, body)
    now_local = (now or utcnow()).astimezone(templates.hall_zone())
    year, month, _ = recurrence.next_sitting(source["rule"], source["anchor"], source["start"],
                                             last=source["last"], now_local=now_local)
    return _plan(source, year, month)


def create_next(session: Session, body: Body, actor: User, *, year: int | None = None, month: int | None = None,
                now: datetime | None = None) -> Meeting:
    """Make the regular sitting of (year, month), by default the one ``plan_next`` names, as a draft."""
    plan = plan_next(session, body, actor, now=now)
    if (year is None) != (month is None):
        raise Invalid("Give both year and month, or neither.")
    if year is not None:
        if not (1 <= month <= 12 and 2000 <= year <= 2200):
            raise Invalid("month must be 1-12 and year 2000-2200.")
        plan = _plan(_source(session, body), year, month)
    if session.execute(select(Meeting.id).where(Meeting.body_id == body.id, Meeting.title == plan["title"])).first():
        raise Conflict(f"“{plan['title']}” already exists.", code="sitting_exists",
                       details={"year": plan["year"], "month": plan["month"]})
    if plan["template_id"] is not None:
        meeting = templates.meeting_from_template(session, session.get(MeetingTemplate, plan["template_id"]), actor,
                                                  starts_at=plan["starts_at"], ends_at=plan["ends_at"],
                                                  title=plan["title"])
    else:
        meeting = templates.copy_meeting(session, session.get(Meeting, plan["source_meeting_id"]), actor,
                                         starts_at=plan["starts_at"], ends_at=plan["ends_at"], title=plan["title"])
    audit.record(session, "meeting.regular_sitting", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"body_id": body.id, "year": plan["year"], "month": plan["month"]})
    return meeting
