"""The meeting event log and the rule "broadcast only after commit".

``append`` gives an event the meeting's next ``seq`` and stores it in the
caller's transaction; the broadcast is queued on the session and sent by the
``after_commit`` hook below, so nothing is announced that could still roll
back. ``notify`` queues a private notice (to a user's own room) the same way;
notices carry no ``seq`` and are never part of the log.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session, scoped_session

from meetings.core.db import ends_savepoint, utcnow
from meetings.platform.realtime import relay
from meetings.platform.realtime.models import MeetingEvent
from meetings.platform.realtime.rooms import meeting_room, user_room

_PENDING = "pending_broadcasts"
_EVENTS = MeetingEvent.__table__
_INSERT = insert(_EVENTS)
# The UPDATE … RETURNING that takes a meeting's next seq, built once by count_on
# (an event is stored on every page turn, ballot tally and shared stroke).
_NEXT_SEQ: Any = None


def count_on(meeting_id: Any, last_seq: Any, status: Any) -> None:
    """Say where each meeting's counter lives: the meeting row's id, seq and status
    columns. The bodies domain calls it where it maps the meeting; the log itself
    knows no domain model."""
    global _NEXT_SEQ
    _NEXT_SEQ = (update(meeting_id.table).where(meeting_id == bindparam("mid")).values({last_seq: last_seq + 1})
                 .returning(last_seq, status))


def envelope(ev: MeetingEvent) -> dict[str, Any]:
    """The wire form of a logged event (docs/realtime.md, "event")."""
    return {
        "meeting_id": ev.meeting_id,
        "seq": ev.seq,
        "type": ev.type,
        "data": ev.data,
        "actor_id": ev.actor_id,
        "at": ev.at.isoformat(),
    }


def next_seq(session: Session, meeting_id: int) -> tuple[int, str]:
    """Take the meeting's next seq; returns it with the meeting's status.

    The UPDATE takes the meeting row's write lock until commit, so two
    transactions can never hand out the same seq, on SQLite or PostgreSQL.
    Store the event with :func:`append_at` in the same transaction.
    """
    if _NEXT_SEQ is None:
        raise RuntimeError("eventlog.count_on was never called: import meetings.bodies.models first.")
    seq, status = session.execute(_NEXT_SEQ, {"mid": meeting_id},
                                  execution_options={"synchronize_session": False}).one()
    return seq, status


def append_at(
    session: Session,
    meeting_id: int,
    seq: int,
    type_: str,
    data: dict[str, Any],
    *,
    actor_id: int | None = None,
) -> MeetingEvent:
    """Store an event under a seq taken by :func:`next_seq`; broadcast it after commit.

    A plain INSERT (no unit-of-work flush): the returned event is a record of
    what was stored, not attached to the session.
    """
    ev = MeetingEvent(meeting_id=meeting_id, seq=seq, type=type_, data=data, actor_id=actor_id, at=utcnow())
    session.execute(_INSERT, {"meeting_id": meeting_id, "seq": seq, "type": type_, "data": data,
                              "actor_id": actor_id, "at": ev.at})
    _queue(session, "event", envelope(ev), meeting_room(meeting_id))
    return ev


def append(
    session: Session,
    meeting_id: int,
    type_: str,
    data: dict[str, Any],
    *,
    actor_id: int | None = None,
) -> MeetingEvent:
    """Store an event with the meeting's next seq; broadcast it after commit."""
    seq, _ = next_seq(session, meeting_id)
    return append_at(session, meeting_id, seq, type_, data, actor_id=actor_id)


def notify(session: Session, user_id: int, name: str, data: dict[str, Any]) -> None:
    """Queue a private notice to every device of one user, sent after commit."""
    _queue(session, name, data, user_room(user_id))


def notify_now(user_id: int, name: str, data: dict[str, Any]) -> None:
    """Send a private progress notice to one user's devices at once, outside any transaction.

    Only for notices that state no change (how far a long job has come): they
    cannot be rolled back because they claim nothing that a rollback would undo.
    A change of state goes through :func:`notify` or :func:`append`, after commit.
    In a process that serves no sockets it goes through the relay (meetings/platform/realtime/relay.py).
    """
    relay.send([(name, data, user_room(user_id))])


def notify_room(session: Session, room: str, name: str, data: dict[str, Any]) -> None:
    """Queue a notice to any named room (e.g. a meeting's managers), sent after commit."""
    _queue(session, name, data, room)


def events_after(session: Session, meeting_id: int, after_seq: int, limit: int) -> list[MeetingEvent] | None:
    """The events with seq > after_seq in order, or None when more than ``limit``
    are missing (the caller then sends a snapshot instead)."""
    rows = session.execute(
        select(MeetingEvent)
        .where(MeetingEvent.meeting_id == meeting_id, MeetingEvent.seq > after_seq)
        .order_by(MeetingEvent.seq)
        .limit(limit + 1)
    ).scalars().all()
    if len(rows) > limit:
        return None
    return list(rows)


def _queue(session: Session, name: str, data: dict[str, Any], room: str) -> None:
    # Each broadcast remembers the savepoint it was queued in (None: the transaction itself),
    # so a savepoint's rollback drops its own broadcasts and keeps the others.
    real = session() if isinstance(session, scoped_session) else session
    session.info.setdefault(_PENDING, []).append((name, data, room, real.get_nested_transaction()))


@event.listens_for(Session, "after_commit")
def _broadcast_after_commit(session: Session) -> None:
    if ends_savepoint(session):  # released savepoint: the transaction may still roll back
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    # Emitted here, or, in a process that serves no sockets, written for the web server's relay.
    relay.send([(name, data, room) for name, data, room, _savepoint in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:  # the transaction itself: nothing of it happened
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [item for item in pending if not _within(item[3], previous_transaction)]


def _within(savepoint: Any, ended: Any) -> bool:
    """Whether ``savepoint`` is ``ended`` or nested inside it."""
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False
