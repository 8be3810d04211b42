"""Entering the live room and reading its whole state: the snapshot, catch-up, joining.

The snapshot's core (meeting, agenda, presenter, quorum, speakers, roll call)
is built here; domains above live (voting, …) contribute their parts through
:mod:`meetings.platform.realtime.snapshot`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem, Meeting
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.live import policy, presence
from meetings.live.attendance import as_json, attendance_list, quorum
from meetings.live.models import LiveState
from meetings.live.presenter import presenter_dict
from meetings.live.speakers import speaker_queue
from meetings.platform.realtime import eventlog, rooms
from meetings.platform.realtime import snapshot as snapshot_parts


def meeting_for(session: Session, meeting_id: Any) -> Meeting:
    """The meeting a socket event names, or NotFound; the services check what the caller may do."""
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool):
        raise Invalid("meeting_id must be an integer.")
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting


def join_meeting(session: Session, meeting: Meeting, user: User, *, sid: str, last_seq: int | None,
                 catchup_limit: int, enter_room: Callable[[str], None]) -> dict[str, Any]:
    """Let socket ``sid`` of ``user`` into the meeting's room; answer with the events it
    missed after ``last_seq`` or a full snapshot.

    ``enter_room`` is the transport's room join (Socket.IO's ``join_room``): the
    rooms are entered before anything is read, so an event committed meanwhile
    arrives twice at worst (the client drops seq <= its last), never zero times.
    """
    manager = policy.require_join(meeting, user)
    enter_room(rooms.meeting_room(meeting.id))
    if manager:
        enter_room(rooms.managers_room(meeting.id))
    # The role as of the seq read with the meeting (before the answer): page turns use it.
    presence.remember_role(sid, meeting.id, manager=manager, viewer=True, seq=meeting.last_seq)
    answer = _catch_up(session, meeting, user, last_seq, catchup_limit)
    presence.add(session, meeting.id, user.id, sid)
    return answer


def _catch_up(session: Session, meeting: Meeting, user: User, last_seq: int | None, limit: int) -> dict[str, Any]:
    if last_seq is not None and last_seq <= meeting.last_seq:
        events = eventlog.events_after(session, meeting.id, last_seq, limit)
        if events is not None:
            return _events_answer(events, last_seq)
    snap = snapshot(session, meeting, user)
    return {"snapshot": snap, "seq": snap["seq"]}


def missed_events(session: Session, meeting: Meeting, after: int, limit: int) -> dict[str, Any]:
    """The meeting's logged events after ``after`` (catch-up over HTTP), or Conflict
    "snapshot_required" when more than ``limit`` were missed."""
    evs = eventlog.events_after(session, meeting.id, after, limit)
    if evs is None:
        raise Conflict("Too many events missed; fetch the snapshot.", code="snapshot_required")
    return _events_answer(evs, after)


def _events_answer(events: list, after: int) -> dict[str, Any]:
    """The missed events in their wire form, with the seq the client is at afterwards."""
    return {"events": [eventlog.envelope(e) for e in events], "seq": events[-1].seq if events else after}


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
                    "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None},
        "agenda": [{"id": i.id, "parent_id": i.parent_id, "position": i.position, "title": i.title,
                    "status": i.status, "presenter_id": i.presenter_id} for i in items],
        "presenter": presenter_dict(session.get(LiveState, meeting.id)),
        "quorum": quorum(session, meeting.id),
        "speakers": speaker_queue(session, meeting.id),
    }
    body.update(snapshot_parts.contributed(session, meeting, user))  # polls, … (domains above live)
    manager = policy.sees_whole_roll(meeting, user)
    # The full roll is O(members) per join: a thousand tablets joining would build a
    # million rows. Delegates get their own row; the whole roll is on REST.
    body["attendance"] = [as_json(a) for a in attendance_list(session, meeting.id, None if manager else user.id)]
    if manager:
        body["online"] = presence.online_users(session, meeting.id)
    return body
