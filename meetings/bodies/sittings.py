"""Meetings of a body: which a user sees, creating them, their details and status.

Every write is ``(session, target, actor, **fields)`` (``(session, actor,
**fields)`` when there is no target yet): it checks the actor's permission
itself (``meetings.bodies.permissions``), validates, writes, records one audit
entry and, when the meeting is visible to its participants (not a draft),
appends a meeting event. The caller's commit point commits; broadcasts go
out after the commit.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.accounts.policy import cleared_levels
from meetings.bodies import permissions
from meetings.bodies.checks import announce, check_open, check_quorum, require_changes, require_prepare
from meetings.bodies.models import (
    CONFIDENTIALITY,
    MEETING_TRANSITIONS,
    Body,
    BodyMember,
    Meeting,
    Participant,
    SittingPeriod,
)
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.signals import meeting_rescheduled, meeting_status_changed

MEETING_FIELDS = ("title", "description", "place", "starts_at", "ends_at", "confidentiality",
                  "quorum_numerator", "quorum_denominator")


# --------------------------------------------------------------------------- reads

def visible_meetings(user: User) -> Select[tuple[Meeting]]:
    """A query of the meetings ``user`` may see: the SQL twin of permissions.can_view.

    tests/test_agenda_api.py checks that both agree for every user of the test world.
    """
    query = select(Meeting)
    if user.is_admin:
        return query
    secretariat_of = select(BodyMember.body_id).where(BodyMember.user_id == user.id, BodyMember.is_secretariat)
    managing = select(Participant.meeting_id).where(Participant.user_id == user.id,
                                                    Participant.role.in_(permissions.MANAGER_ROLES))
    taking_part = select(Participant.meeting_id).where(Participant.user_id == user.id)
    published = Meeting.status != "draft"
    # An archivist reads every published meeting within their clearance (accounts.policy.is_cleared).
    seen = (or_(Meeting.id.in_(taking_part), Meeting.confidentiality.in_(cleared_levels(user)))
            if user.is_archivist else Meeting.id.in_(taking_part))
    seen_when_published = and_(published, seen)
    return query.where(or_(Meeting.body_id.in_(secretariat_of), Meeting.id.in_(managing), seen_when_published))


def meetings_for(session: Session, user: User, *, status: str | None = None, body_id: int | None = None,
                 from_: datetime | None = None, to: datetime | None = None) -> Sequence[Meeting]:
    """The meetings ``user`` may see, by start time; filtered by status, body and start time."""
    query = visible_meetings(user)
    if status is not None:
        query = query.where(Meeting.status == status)
    if body_id is not None:
        query = query.where(Meeting.body_id == body_id)
    if from_ is not None:
        query = query.where(Meeting.starts_at >= from_)
    if to is not None:
        query = query.where(Meeting.starts_at < to)
    return session.execute(query.order_by(Meeting.starts_at, Meeting.id)).scalars().all()


# --------------------------------------------------------------------------- writes

def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is None:
        raise Invalid("A meeting needs a start time.")
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid("A meeting must end after it starts.", code="invalid_times")


def create_meeting(session: Session, actor: User, **fields: Any) -> Meeting:
    """Create a draft meeting of the body ``body_id`` (an administrator or that body's secretariat)."""
    body = session.get(Body, fields.get("body_id") or 0)
    if body is None:
        raise Invalid("There is no such body.", code="unknown_body")
    if not permissions.can_create_meeting(body, actor):
        raise Forbidden("Only an administrator or the body's secretariat can create its meetings.")
    title = (fields.get("title") or "").strip()
    if not title:
        raise Invalid("A meeting needs a title.")
    _check_times(fields.get("starts_at"), fields.get("ends_at"))
    if fields.get("confidentiality", "normal") not in CONFIDENTIALITY:
        raise Invalid(f"Confidentiality must be one of {', '.join(CONFIDENTIALITY)}.")
    check_quorum(fields.get("quorum_numerator"), fields.get("quorum_denominator"))
    meeting = Meeting(body_id=body.id, status="draft", created_by_id=actor.id,
                      **{k: fields[k] for k in MEETING_FIELDS if k in fields})
    meeting.title = title
    session.add(meeting)
    session.flush()
    audit.record(session, "meeting.created", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"title": title, "body_id": body.id})
    return meeting


def update_meeting(session: Session, meeting: Meeting, actor: User, **fields: Any) -> Meeting:
    """Change a meeting's details (title, times, place, confidentiality, quorum; its secretariat)."""
    require_prepare(meeting, actor)
    require_changes(fields)
    check_open(meeting)
    changes = {k: v for k, v in fields.items() if k in MEETING_FIELDS}
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            raise Invalid("A meeting needs a title.")
    _check_times(changes.get("starts_at", meeting.starts_at), changes.get("ends_at", meeting.ends_at))
    if changes.get("confidentiality", meeting.confidentiality) not in CONFIDENTIALITY:
        raise Invalid(f"Confidentiality must be one of {', '.join(CONFIDENTIALITY)}.")
    check_quorum(changes.get("quorum_numerator", meeting.quorum_numerator),
                 changes.get("quorum_denominator", meeting.quorum_denominator))
    for key, value in changes.items():
        setattr(meeting, key, value)
    changed = sorted(changes)
    audit.record(session, "meeting.updated", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"fields": changed})
    announce(session, meeting, "meeting.updated", {"fields": changed}, actor)
    if {"starts_at", "ends_at", "place"} & set(changed):  # invitations send an update (notifications)
        meeting_rescheduled.send(None, session=session, meeting=meeting, fields=changed, actor=actor)
    return meeting


def change_status(session: Session, meeting: Meeting, actor: User, *, status: str) -> Meeting:
    """Move a meeting along MEETING_TRANSITIONS (permissions.can_change_status); any other move is a 409."""
    if not permissions.can_change_status(meeting, actor, status):
        raise Forbidden("You may not change this meeting's status.")
    previous = meeting.status
    allowed = MEETING_TRANSITIONS.get(previous, set())
    if status not in allowed:
        raise Conflict(
            f"A meeting cannot go from {previous!r} to {status!r}; allowed: {', '.join(sorted(allowed)) or 'none'}.",
            code="bad_transition", details={"from": previous, "to": status, "allowed": sorted(allowed)},
        )
    meeting.status = status
    _record_sitting(session, meeting, previous, status, actor)
    audit.record(session, "meeting.status", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"from": previous, "to": status})
    # Always logged, even back to draft: tablets must learn the meeting left (or entered) their view.
    eventlog.append(session, meeting.id, "meeting.status", {"status": status, "previous": previous},
                    actor_id=actor.id)
    meeting_status_changed.send(None, session=session, meeting=meeting, previous=previous, status=status, actor=actor)
    return meeting


def _record_sitting(session: Session, meeting: Meeting, previous: str, status: str, actor: User) -> None:
    """Keep what really happened: each stretch from "in progress" to "adjourned", and the closing time.

    One clock reading per change, shared with nothing else, so a period's end is
    never before its start.
    """
    now = utcnow()
    if status == "in_progress":
        session.add(SittingPeriod(meeting_id=meeting.id, started_at=now, started_by_id=actor.id))
    elif previous == "in_progress":
        running = session.execute(select(SittingPeriod).where(
            SittingPeriod.meeting_id == meeting.id, SittingPeriod.ended_at.is_(None))).scalars().all()
        for period in running:
            period.ended_at, period.ended_by_id = now, actor.id
    if status == "closed":
        meeting.closed_at = now


def sitting_periods(session: Session, meeting_id: int) -> list[SittingPeriod]:
    """The stretches a meeting was actually in session, in order (empty before it starts)."""
    return list(session.execute(select(SittingPeriod).where(SittingPeriod.meeting_id == meeting_id)
                                .order_by(SittingPeriod.started_at, SittingPeriod.id)).scalars())
