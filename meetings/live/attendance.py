"""The roll call and the quorum: who is present, marked by the secretariat.

Presence (a device connected) is :mod:`meetings.live.presence`; this is the
roll call that counts for quorum. The rule itself is :func:`meetings.bodies.rules.quorum`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import rules
from meetings.bodies.models import Meeting, Participant
from meetings.core.db import utcnow
from meetings.core.errors import Invalid, NotFound
from meetings.live import policy
from meetings.live.models import ATTENDANCE_STATUSES, Attendance
from meetings.live.rows import insert_ignore, participant_row
from meetings.platform.audit.service import record
from meetings.platform.realtime import eventlog

PRESENT_STATUSES = ("present", "remote")


def attendance_dict(p: Participant, user: User, a: Attendance | None) -> dict[str, Any]:
    """One participant's roll-call row (datetimes as aware ``datetime`` objects)."""
    return {
        "user_id": p.user_id,
        "full_name": user.full_name,
        "role": p.role,
        "can_vote": p.can_vote,
        # Not yet marked: shown as not present, never counted for quorum.
        "status": a.status if a else "unknown",
        "reason": a.reason if a else None,
        "arrived_at": a.arrived_at if a else None,
        "left_at": a.left_at if a else None,
    }


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """A roll-call row with its datetimes as ISO 8601 strings (for socket payloads)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def attendance_list(session: Session, meeting_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
    """Every participant (or only ``user_id``) with their roll-call status ("unknown" until marked)."""
    stmt = (
        select(Participant, User, Attendance)
        .join(User, User.id == Participant.user_id)
        .outerjoin(Attendance, (Attendance.meeting_id == Participant.meeting_id)
                   & (Attendance.user_id == Participant.user_id))
        .where(Participant.meeting_id == meeting_id)
        .order_by(Participant.id)
    )
    if user_id is not None:
        stmt = stmt.where(Participant.user_id == user_id)
    return [attendance_dict(p, u, a) for p, u, a in session.execute(stmt).all()]


def present_user_ids(session: Session, meeting_id: int) -> set[int]:
    """Participants marked present or remote."""
    return set(session.execute(
        select(Attendance.user_id)
        .join(Participant, (Participant.meeting_id == Attendance.meeting_id)
              & (Participant.user_id == Attendance.user_id))
        .where(Attendance.meeting_id == meeting_id, Attendance.status.in_(PRESENT_STATUSES))
    ).scalars())


def quorum(session: Session, meeting_id: int) -> dict[str, Any]:
    """Quorum figures: members are the voting participants; present counts present or remote."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    members = session.execute(
        select(func.count()).select_from(Participant)
        .where(Participant.meeting_id == meeting_id, Participant.can_vote.is_(True))
    ).scalar_one()
    present = session.execute(
        select(func.count()).select_from(Attendance)
        .join(Participant, (Participant.meeting_id == Attendance.meeting_id)
              & (Participant.user_id == Attendance.user_id))
        .where(Attendance.meeting_id == meeting_id, Participant.can_vote.is_(True),
               Attendance.status.in_(PRESENT_STATUSES))
    ).scalar_one()
    return rules.quorum(members, present, meeting.quorum_rule())


def roll_call(session: Session, meeting: Meeting) -> dict[str, Any]:
    """The whole roll call and the quorum figures (the REST answer)."""
    return {"attendance": attendance_list(session, meeting.id), "quorum": quorum(session, meeting.id)}


def mark_attendance(
    session: Session,
    meeting: Meeting,
    actor: User,
    user_id: int,
    status: str,
    *,
    reason: str | None = None,
    arrived_at: datetime | None = None,
    left_at: datetime | None = None,
) -> dict[str, Any]:
    """The secretariat marks one participant; returns the "attendance.changed" payload."""
    policy.require_run(meeting, actor)
    if status not in ATTENDANCE_STATUSES:
        raise Invalid(f"status must be one of {', '.join(ATTENDANCE_STATUSES)}.")
    reason = (reason or "").strip() or None
    if status == "excused" and not reason:
        raise Invalid("An excused absence needs a reason.", code="reason_required")
    p = participant_row(session, meeting.id, user_id)
    if p is None:
        raise NotFound("This user does not take part in the meeting.", code="not_participant")
    # A client may send any offset; the row keeps UTC so the payload below speaks UTC
    # like every time read back from the database.
    arrived_at = arrived_at.astimezone(UTC) if arrived_at else None
    left_at = left_at.astimezone(UTC) if left_at else None
    now = utcnow()
    row = _attendance_row(session, meeting.id, user_id)
    before = row.status if row.id else None
    row.status, row.reason, row.marked_by_id = status, reason, actor.id
    if status in PRESENT_STATUSES:
        row.arrived_at = arrived_at or row.arrived_at or now
        row.left_at = left_at
    else:
        row.left_at = left_at or (now if before in PRESENT_STATUSES else row.left_at)
        if before not in PRESENT_STATUSES:
            row.arrived_at = arrived_at
    row.updated_at = now
    session.flush()
    record(session, "attendance.marked", actor_id=actor.id, object_type="user", object_id=user_id,
           meeting_id=meeting.id, details={"status": status, "before": before, "reason": reason})
    payload = {"attendance": as_json(attendance_dict(p, session.get(User, user_id), row)),
               "quorum": quorum(session, meeting.id)}
    eventlog.append(session, meeting.id, "attendance.changed", payload, actor_id=actor.id)
    return payload


def _attendance_row(session: Session, meeting_id: int, user_id: int) -> Attendance:
    # Two secretaries marking the same newcomer at once: the second finds the first's row.
    insert_ignore(session, Attendance, meeting_id=meeting_id, user_id=user_id, status="absent", updated_at=utcnow())
    return session.execute(
        select(Attendance).where(Attendance.meeting_id == meeting_id, Attendance.user_id == user_id)
    ).scalar_one()
