"""Writes and reads of the live room: roll call, quorum, presenter, agenda items, snapshot.

Every write follows the project's one path: validate → change rows → audit
entry → ``eventlog.append`` (broadcast after the caller commits). The speaker
queue lives in :mod:`meetings.live.speakers`; its public reads are re-exported here.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import rules
from meetings.bodies.models import AgendaItem, Meeting, Participant
from meetings.bodies.permissions import can_run, can_view
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.live.models import ATTENDANCE_STATUSES, Attendance, LiveState
from meetings.live.presence import SocketRole
from meetings.live.speakers import speaker_history, speaker_queue  # noqa: F401  (public API)
from meetings.platform.audit.service import record
from meetings.platform.realtime import eventlog
from meetings.platform.realtime import snapshot as snapshot_parts

# Live changes are refused while a meeting is still a draft or already closed.
LIVE_STATUSES = ("scheduled", "in_progress", "adjourned")
PRESENT_STATUSES = ("present", "remote")


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite returns naive datetimes, which are UTC here."""
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def aware(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at


def meeting_for(session: Session, meeting_id: Any, user: User) -> Meeting:
    """Load a meeting for a permission check by ``user``.

    ``user`` is kept for the callers' sake: meetings.bodies.permissions finds the
    caller's own rows with one indexed query each, so nothing is preloaded here.
    """
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool):
        raise Invalid("meeting_id must be an integer.")
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting


def require_live(meeting: Meeting) -> None:
    if meeting.status not in LIVE_STATUSES:
        raise Conflict(f"The meeting is {meeting.status}; its live room is not open.", code="meeting_not_live")


def require_run(meeting: Meeting, user: User) -> None:
    if not can_run(meeting, user):
        raise Forbidden("Only the chair or the secretariat can do this.")
    require_live(meeting)


def participant(session: Session, meeting_id: int, user_id: int) -> Participant | None:
    return session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
    ).scalar_one_or_none()


# ----------------------------------------------------------------------------- roll call and quorum

def attendance_dict(p: Participant, user: User, a: Attendance | None) -> dict[str, Any]:
    return {
        "user_id": p.user_id,
        "full_name": user.full_name,
        "role": p.role,
        "can_vote": p.can_vote,
        # Not yet marked: shown as not present, never counted for quorum.
        "status": a.status if a else "unknown",
        "reason": a.reason if a else None,
        "arrived_at": aware(a.arrived_at) if a else None,
        "left_at": aware(a.left_at) if a else None,
    }


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
    require_run(meeting, actor)
    if status not in ATTENDANCE_STATUSES:
        raise Invalid(f"status must be one of {', '.join(ATTENDANCE_STATUSES)}.")
    reason = (reason or "").strip() or None
    if status == "excused" and not reason:
        raise Invalid("An excused absence needs a reason.", code="reason_required")
    p = participant(session, meeting.id, user_id)
    if p is None:
        raise NotFound("This user does not take part in the meeting.", code="not_participant")
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
    payload = {"attendance": _jsonable(attendance_dict(p, session.get(User, user_id), row)),
               "quorum": quorum(session, meeting.id)}
    eventlog.append(session, meeting.id, "attendance.changed", payload, actor_id=actor.id)
    return payload


def _attendance_row(session: Session, meeting_id: int, user_id: int) -> Attendance:
    # Two secretaries marking the same newcomer at once: the second finds the first's row.
    insert_ignore(session, Attendance, meeting_id=meeting_id, user_id=user_id, status="absent", updated_at=utcnow())
    return session.execute(
        select(Attendance).where(Attendance.meeting_id == meeting_id, Attendance.user_id == user_id)
    ).scalar_one()


def insert_ignore(session: Session, model: type, **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING. Not a SAVEPOINT: pysqlite does not begin a
    transaction before SAVEPOINT, so releasing one would commit on its own."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in d.items()}


# ----------------------------------------------------------------------------- presenter and items

PRESENTER_FIELDS = ("agenda_item_id", "document_id", "page", "zoom", "presenter_id")


def live_state(session: Session, meeting_id: int) -> LiveState:
    """The meeting's state row, created on first use."""
    state = session.get(LiveState, meeting_id)
    if state is None:
        insert_ignore(session, LiveState, meeting_id=meeting_id, page=1, zoom=1.0, updated_at=utcnow())
        state = session.get(LiveState, meeting_id)
    return state


def presenter_dict(state: LiveState | None) -> dict[str, Any]:
    if state is None:
        return {"agenda_item_id": None, "document_id": None, "page": 1, "zoom": 1.0, "presenter_id": None}
    return {f: getattr(state, f) for f in PRESENTER_FIELDS}


def set_presenter(session: Session, meeting: Meeting, actor: User, changes: dict[str, Any]) -> dict[str, Any]:
    """Move what the hall shows. Returns the delta broadcast as "presenter.changed".

    The chair and secretariat may change anything; the designated presenter may
    change document, page and zoom. Page and zoom changes are the hottest path:
    one UPDATE of the state row plus the event, and no audit entry (the event
    log is their record); changes of item, document or presenter are audited.
    """
    require_live(meeting)
    current = presenter_dict(session.get(LiveState, meeting.id))
    manager = can_run(meeting, actor)
    if not manager and (current["presenter_id"] != actor.id or not can_view(meeting, actor)):
        raise Forbidden("Only the chair, the secretariat or the designated presenter can move the viewers.")
    if not manager and ({"agenda_item_id", "presenter_id"} & changes.keys()):
        raise Forbidden("Only the chair or the secretariat can change the item or the presenter.")
    delta = {k: v for k, v in changes.items() if k in PRESENTER_FIELDS and current[k] != v}
    if "agenda_item_id" in delta and delta["agenda_item_id"] is not None:
        _item_of(session, meeting.id, delta["agenda_item_id"])
    if delta.get("document_id") is not None:
        _check_document(session, meeting.id, delta["document_id"])
        if "page" not in changes and current["page"] != 1:
            delta["page"] = 1  # another document opens at its first page
    if delta.get("presenter_id") is not None and participant(session, meeting.id, delta["presenter_id"]) is None:
        raise NotFound("The presenter must take part in the meeting.", code="not_participant")
    if not delta:
        return {}
    live_state(session, meeting.id)  # the first change of a meeting creates its row
    session.execute(update(LiveState).where(LiveState.meeting_id == meeting.id).values(**delta, updated_at=utcnow()),
                    execution_options={"synchronize_session": False})
    if delta.keys() - {"page", "zoom"}:
        record(session, "presenter.changed", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
               meeting_id=meeting.id, details=delta)
    eventlog.append(session, meeting.id, "presenter.changed", delta, actor_id=actor.id)
    return delta


def turn_page(session: Session, meeting_id: int, actor: User, role: SocketRole, changes: dict[str, Any]
              ) -> dict[str, Any] | None:
    """The fast path of a page turn (or zoom) by a socket whose role was remembered at join.

    One UPDATE of the presenter state (only when the value changes, and for a
    non-manager only while they are the designated presenter), one UPDATE of
    the meeting's seq, one INSERT of the event; no audit entry and no
    permission query while the role is fresh (``role.fresh_at``). When anything
    else happened in the meeting since the role was checked, it is checked
    again here, under the meeting row's lock, so a participant removed a moment
    ago is refused. Returns the delta, or None when the full path
    (:func:`set_presenter`) must answer: no state row yet, nothing to change,
    or not the presenter.
    """
    (field, value), = changes.items()
    if field not in ("page", "zoom") or not role.viewer:
        return None
    column = getattr(LiveState, field)
    stmt = update(LiveState).where(LiveState.meeting_id == meeting_id, column != value)
    if not role.manager:
        stmt = stmt.where(LiveState.presenter_id == actor.id)
    done = session.execute(stmt.values({field: value, "updated_at": utcnow()}),
                           execution_options={"synchronize_session": False})
    if done.rowcount != 1:
        return None
    seq, status = eventlog.next_seq(session, meeting_id)
    if status not in LIVE_STATUSES:
        raise Conflict(f"The meeting is {status}; its live room is not open.", code="meeting_not_live")
    if role.fresh_at(seq):
        role.seq = seq
    else:
        _recheck_role(session, meeting_id, actor, role, seq)
    delta = {field: value}
    eventlog.append_at(session, meeting_id, seq, "presenter.changed", delta, actor_id=actor.id)
    return delta


def _recheck_role(session: Session, meeting_id: int, actor: User, role: SocketRole, seq: int) -> None:
    """Check the actor's right to move the viewers again and update the remembered ``role``
    in place (it is stale: something else happened in the meeting, or its time ran out)."""
    meeting = session.get(Meeting, meeting_id)
    role.manager, role.viewer = can_run(meeting, actor), can_view(meeting, actor)
    role.seq, role.at = seq, time.monotonic()
    if not role.manager:
        presenter = session.execute(select(LiveState.presenter_id).where(LiveState.meeting_id == meeting_id)
                                    ).scalar_one_or_none()
        if not role.viewer or presenter != actor.id:
            raise Forbidden("Only the chair, the secretariat or the designated presenter can move the viewers.")


def _item_of(session: Session, meeting_id: int, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise NotFound("No such agenda item in this meeting.")
    return item


def _check_document(session: Session, meeting_id: int, document_id: int) -> None:
    from meetings.documents.models import Document

    doc = session.get(Document, document_id)
    if doc is None or doc.meeting_id != meeting_id:
        raise NotFound("No such document in this meeting.")
    if not doc.published:
        # Delegates could not open it: showing it would leave their viewers blank.
        raise Conflict("The document is not published.", code="document_unpublished")


def open_item(session: Session, meeting: Meeting, actor: User, item_id: int) -> dict[str, Any]:
    """Open an agenda item: the item that was open becomes "done"; the viewers
    go to the item and its presenter becomes the designated presenter."""
    require_run(meeting, actor)
    item = _item_of(session, meeting.id, item_id)
    if item.status == "open":
        raise Conflict("The item is already open.", code="already_open")
    closed = session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.status == "open")
    ).scalars().all()
    for other in closed:
        other.status = "done"
    item.status = "open"
    state = live_state(session, meeting.id)
    state.agenda_item_id, state.presenter_id = item.id, item.presenter_id
    state.document_id, state.page, state.zoom = None, 1, 1.0
    session.flush()
    data = {"agenda_item_id": item.id, "done_item_ids": [o.id for o in closed], "presenter": presenter_dict(state)}
    record(session, "item.opened", actor_id=actor.id, object_type="agenda_item", object_id=item.id,
           meeting_id=meeting.id, details={"done_item_ids": data["done_item_ids"]})
    eventlog.append(session, meeting.id, "item.opened", data, actor_id=actor.id)
    return data


def close_item(session: Session, meeting: Meeting, actor: User, item_id: int, status: str = "done") -> dict[str, Any]:
    """Close an open item as "done" or "deferred"."""
    require_run(meeting, actor)
    if status not in ("done", "deferred"):
        raise Invalid("status must be done or deferred.")
    item = _item_of(session, meeting.id, item_id)
    if item.status != "open":
        raise Conflict("The item is not open.", code="not_open")
    item.status = status
    session.flush()
    record(session, "item.closed", actor_id=actor.id, object_type="agenda_item", object_id=item.id,
           meeting_id=meeting.id, details={"status": status})
    data = {"agenda_item_id": item.id, "status": status}
    eventlog.append(session, meeting.id, "item.closed", data, actor_id=actor.id)
    return data


# ----------------------------------------------------------------------------- snapshot

def snapshot(session: Session, meeting: Meeting, user: User) -> dict[str, Any]:
    """The full live state a client needs to start (docs/realtime.md, "snapshot").

    Read between two reads of the meeting's seq and retried when they differ, so
    the state matches ``seq`` exactly (SQLite reads outside a write transaction
    are not one snapshot).
    """
    for _ in range(5):
        seq = _current_seq(session, meeting.id)
        body = _snapshot_body(session, meeting, user)
        if _current_seq(session, meeting.id) == seq:
            break
    body["seq"] = seq
    return body


def _current_seq(session: Session, meeting_id: int) -> int:
    return session.execute(select(Meeting.last_seq).where(Meeting.id == meeting_id)).scalar_one()


def _snapshot_body(session: Session, meeting: Meeting, user: User) -> dict[str, Any]:
    items = session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position, AgendaItem.id)
    ).scalars().all()
    body: dict[str, Any] = {
        "meeting": {"id": meeting.id, "title": meeting.title, "status": meeting.status, "place": meeting.place,
                    "starts_at": iso(meeting.starts_at)},
        "agenda": [{"id": i.id, "parent_id": i.parent_id, "position": i.position, "title": i.title,
                    "status": i.status, "presenter_id": i.presenter_id} for i in items],
        "presenter": presenter_dict(session.get(LiveState, meeting.id)),
        "quorum": quorum(session, meeting.id),
        "speakers": speaker_queue(session, meeting.id),
    }
    body.update(snapshot_parts.contributed(session, meeting, user))  # polls, … (domains above live)
    manager = can_run(meeting, user)
    roll = [_jsonable(a) for a in attendance_list(session, meeting.id, None if manager else user.id)]
    if manager:
        from meetings.live.presence import online_users

        body["attendance"] = roll
        body["online"] = online_users(session, meeting.id)
    else:
        # The full roll is O(members) per join: a thousand tablets joining would
        # build a million rows. Delegates get their own row; the roll is on REST.
        body["attendance"] = roll
    return body
