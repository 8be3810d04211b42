"""The roll call for many at once: a group (a list, a unit, everyone) in one call.

Marking 1,000 delegates one ``PUT …/attendance/<user_id>`` at a time took 76–84 s: each
answer carried the whole roll. Here one transaction reads the participants and their
rows with two SELECTs, writes with one bulk INSERT and one bulk UPDATE, records one
audit entry and appends ONE event, ``attendance.bulk_changed``, with the changed rows
and the quorum. The same rules as :func:`meetings.live.attendance.mark_attendance`:
an excused absence needs a reason; ``arrived_at`` is set the first time someone is
marked present or remote, ``left_at`` when a present person is marked absent.
A participant whose status and reason would not change is left alone (not in the event),
so the same call twice changes nothing the second time.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.db import utcnow
from meetings.core.errors import Invalid, NotFound
from meetings.live import policy
from meetings.live.attendance import PRESENT_STATUSES, as_json, attendance_dict, quorum
from meetings.live.models import ATTENDANCE_STATUSES, Attendance
from meetings.platform.audit.service import record
from meetings.platform.realtime import eventlog

Mark = tuple[str, str | None]  # (status, reason)


def chosen_user_ids(session: Session, meeting: Meeting, *, user_ids: list[int] | None = None,
                    everyone: bool = False, unit_id: int | None = None) -> list[int]:
    """The participants named by exactly one of: a list of user ids, ``everyone``, or a unit of the
    meeting's body (its members who take part). A listed id that is not a participant is a 404."""
    if sum((user_ids is not None, everyone, unit_id is not None)) != 1:
        raise Invalid("Name the group with exactly one of user_ids, all or unit_id.")
    taking_part = select(Participant.user_id).where(Participant.meeting_id == meeting.id)
    if everyone:
        return list(session.scalars(taking_part.order_by(Participant.id)))
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.body_id != meeting.body_id:
            raise Invalid("That unit is not one of the meeting's body.", code="unknown_unit")
        return list(session.scalars(taking_part.where(Participant.user_id.in_(
            select(UnitMember.user_id).where(UnitMember.unit_id == unit_id))).order_by(Participant.id)))
    wanted = list(dict.fromkeys(user_ids or []))
    found = set(session.scalars(taking_part.where(Participant.user_id.in_(wanted)))) if wanted else set()
    missing = [uid for uid in wanted if uid not in found]
    if missing:
        raise NotFound("Some of these users do not take part in the meeting.", code="not_participant",
                       details={"user_ids": missing[:50]})
    return wanted


def mark_group(session: Session, meeting: Meeting, actor: User, status: str, *, reason: str | None = None,
               user_ids: list[int] | None = None, everyone: bool = False, unit_id: int | None = None,
               ) -> dict[str, Any]:
    """The secretariat marks a group with one status (chair or secretariat): one event, one audit entry."""
    policy.require_run(meeting, actor)
    if status not in ATTENDANCE_STATUSES:
        raise Invalid(f"status must be one of {', '.join(ATTENDANCE_STATUSES)}.")
    reason = (reason or "").strip() or None
    if status == "excused" and not reason:
        raise Invalid("An excused absence needs a reason.", code="reason_required")
    ids = chosen_user_ids(session, meeting, user_ids=user_ids, everyone=everyone, unit_id=unit_id)
    return mark_many(session, meeting, actor, dict.fromkeys(ids, (status, reason)),
                     audit_action="attendance.marked_group", audit_details={"status": status, "unit_id": unit_id,
                                                                             "all": everyone})


def mark_many(session: Session, meeting: Meeting, actor: User, marks: Mapping[int, Mark], *,
              audit_action: str | None = "attendance.marked_group", audit_details: dict[str, Any] | None = None,
              ) -> dict[str, Any]:
    """Write ``marks`` (user id → (status, reason), all participants, checked by the caller) in bulk;
    returns ``{"marked": [user ids changed], "quorum": …}``. ``audit_action=None``: the caller
    records its own audit entry."""
    policy.require_run(meeting, actor)
    now = utcnow()
    existing = {a.user_id: a for a in session.scalars(select(Attendance).where(
        Attendance.meeting_id == meeting.id, Attendance.user_id.in_(list(marks))))} if marks else {}
    inserts, updates, changed = [], [], []
    for uid, (status, reason) in marks.items():
        row = existing.get(uid)
        before = row.status if row else None
        if row is not None and row.status == status and row.reason == reason:
            continue
        values = {"status": status, "reason": reason, "marked_by_id": actor.id, "updated_at": now}
        if status in PRESENT_STATUSES:
            values["arrived_at"], values["left_at"] = (row.arrived_at if row else None) or now, None
        else:
            values["left_at"] = now if before in PRESENT_STATUSES else (row.left_at if row else None)
            if before not in PRESENT_STATUSES:
                values["arrived_at"] = None
        if row is None:
            inserts.append({"meeting_id": meeting.id, "user_id": uid, "arrived_at": None, "left_at": None, **values})
        else:
            updates.append({"id": row.id, **values})
        changed.append(uid)
    if inserts:
        session.execute(insert(Attendance), inserts)
    if updates:
        session.execute(update(Attendance), updates)
        for row in existing.values():
            session.expire(row)  # a bulk UPDATE does not refresh loaded rows
    figures = quorum(session, meeting.id)
    if changed and audit_action:
        record(session, audit_action, actor_id=actor.id, object_type="meeting", object_id=meeting.id,
               meeting_id=meeting.id, details={**(audit_details or {}), "count": len(changed), "user_ids": changed})
    if changed:
        eventlog.append(session, meeting.id, "attendance.bulk_changed",
                        {"attendance": _rows(session, meeting.id, changed), "quorum": figures}, actor_id=actor.id)
    return {"marked": changed, "quorum": figures}


def _rows(session: Session, meeting_id: int, user_ids: list[int]) -> list[dict[str, Any]]:
    """The changed participants' roll-call rows, as JSON (one SELECT)."""
    rows = session.execute(
        select(Participant, User, Attendance)
        .join(User, User.id == Participant.user_id)
        .join(Attendance, (Attendance.meeting_id == Participant.meeting_id)
              & (Attendance.user_id == Participant.user_id))
        .where(Participant.meeting_id == meeting_id, Participant.user_id.in_(user_ids))
        .order_by(Participant.id)).all()
    return [as_json(attendance_dict(p, u, a)) for p, u, a in rows]
