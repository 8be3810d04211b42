"""What the hall shows: the presenter state (item, document, page, zoom, presenter)
and the opening and closing of agenda items.

Page turns are the hottest path of the whole server (bench/fanout.py measures
them): :func:`turn_page` asks no permission query while the socket's remembered
role is fresh.
"""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem, Meeting
from meetings.bodies.permissions import can_run, can_view
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.documents.models import Document
from meetings.live import policy, presence
from meetings.live.models import LiveState
from meetings.live.presence import SocketRole
from meetings.live.rows import insert_ignore, participant_row
from meetings.platform.audit.service import record
from meetings.platform.realtime import eventlog

PRESENTER_FIELDS = ("agenda_item_id", "document_id", "page", "zoom", "presenter_id")


def live_state(session: Session, meeting_id: int) -> LiveState:
    """The meeting's state row, created on first use."""
    state = session.get(LiveState, meeting_id)
    if state is None:
        insert_ignore(session, LiveState, meeting_id=meeting_id, page=1, zoom=1.0, updated_at=utcnow())
        state = session.get(LiveState, meeting_id)
    return state


def presenter_dict(state: LiveState | None) -> dict[str, Any]:
    """The presenter part of the snapshot (defaults while the meeting has no state row)."""
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
    policy.require_live(meeting)
    current = presenter_dict(session.get(LiveState, meeting.id))
    policy.require_move_viewers(meeting, actor, current["presenter_id"], set(changes))
    delta = {k: v for k, v in changes.items() if k in PRESENTER_FIELDS and current[k] != v}
    if "agenda_item_id" in delta and delta["agenda_item_id"] is not None:
        _item_of(session, meeting.id, delta["agenda_item_id"])
    if delta.get("document_id") is not None:
        _check_document(session, meeting.id, delta["document_id"])
        if "page" not in changes and current["page"] != 1:
            delta["page"] = 1  # another document opens at its first page
    if delta.get("presenter_id") is not None and participant_row(session, meeting.id, delta["presenter_id"]) is None:
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


def move_viewers(session: Session, meeting_id: int, actor: User, changes: dict[str, Any], *, sid: str
                 ) -> dict[str, Any]:
    """A "presenter.set" from socket ``sid``: a page turn (or zoom) from a socket that
    joined the meeting takes the fast path (:func:`turn_page`) with the role remembered
    at join; anything else, or whatever the fast path cannot decide, the full path
    (:func:`set_presenter`). Returns the delta broadcast as "presenter.changed".

    Takes the meeting's id, not the meeting: the fast path must not load it.
    """
    role = presence.cached_role(sid, meeting_id)
    if role is not None and len(changes) == 1:
        delta = turn_page(session, meeting_id, actor, role, changes)
        if delta is not None:
            return delta
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    return set_presenter(session, meeting, actor, changes)


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
    policy.require_live_status(status)
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
        # The two checks above are memoised for this transaction: this asks no more queries.
        policy.require_move_viewers(meeting, actor, presenter)


def _item_of(session: Session, meeting_id: int, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise NotFound("No such agenda item in this meeting.")
    return item


def _check_document(session: Session, meeting_id: int, document_id: int) -> None:
    doc = session.get(Document, document_id)
    if doc is None or doc.meeting_id != meeting_id:
        raise NotFound("No such document in this meeting.")
    if not doc.published:
        # Delegates could not open it: showing it would leave their viewers blank.
        raise Conflict("The document is not published.", code="document_unpublished")


def open_item(session: Session, meeting: Meeting, actor: User, item_id: int) -> dict[str, Any]:
    """Open an agenda item: the item that was open becomes "done"; the viewers
    go to the item and its presenter becomes the designated presenter."""
    policy.require_run(meeting, actor)
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
    policy.require_run(meeting, actor)
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
