"""The speaker queue: requests to speak, the floor, the timer, and the history for the minutes.

The server never ticks: "speaker.called" carries ``started_at`` and
``limit_seconds`` and every screen counts down by itself.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.live import policy
from meetings.live.models import SPEECH_KINDS, SPEECH_POSITIONS, LiveState, SpeakerRequest
from meetings.platform.audit.service import record
from meetings.platform.realtime import eventlog

DEFAULT_LIMIT_SECONDS = 180
OPEN_STATUSES = ("waiting", "speaking")


def request_dict(r: SpeakerRequest, full_name: str, *, as_json: bool = True) -> dict[str, Any]:
    """One request to speak; its times as ISO 8601 strings, or as aware ``datetime`` objects."""
    started, ended = r.started_at, r.ended_at
    times: dict[str, Any] = {"requested_at": r.requested_at, "started_at": started, "ended_at": ended}
    if as_json:
        times = {k: at.isoformat() if at else None for k, at in times.items()}
    return {
        "id": r.id,
        "user_id": r.user_id,
        "full_name": full_name,
        "kind": r.kind,
        "position": r.position,
        "status": r.status,
        "agenda_item_id": r.agenda_item_id,
        **times,
        "limit_seconds": r.limit_seconds,
        "duration_seconds": round((ended - started).total_seconds()) if started and ended else None,
    }


def _name(session: Session, user_id: int) -> str:
    return session.execute(select(User.full_name).where(User.id == user_id)).scalar_one()


def _get(session: Session, meeting: Meeting, request_id: int) -> SpeakerRequest:
    r = session.get(SpeakerRequest, request_id)
    if r is None or r.meeting_id != meeting.id:
        raise NotFound("No such request to speak in this meeting.")
    return r


def _emit(session: Session, meeting: Meeting, actor: User, type_: str, data: dict[str, Any], r: SpeakerRequest) -> None:
    record(session, type_, actor_id=actor.id, object_type="speaker_request", object_id=r.id,
           meeting_id=meeting.id, details={"user_id": r.user_id, "status": r.status})
    eventlog.append(session, meeting.id, type_, data, actor_id=actor.id)


def request_to_speak(session: Session, meeting: Meeting, user: User, kind: str = "speech",
                     position: str | None = None) -> dict[str, Any]:
    """A participant (not an observer) asks for the floor; a point of order goes to the front."""
    policy.require_speaker(meeting, user)
    if kind not in SPEECH_KINDS:
        raise Invalid(f"kind must be one of {', '.join(SPEECH_KINDS)}.")
    if position is not None and position not in SPEECH_POSITIONS:
        raise Invalid("position must be for, against or null.")
    dup = session.execute(select(SpeakerRequest.id).where(
        SpeakerRequest.meeting_id == meeting.id, SpeakerRequest.user_id == user.id,
        SpeakerRequest.kind == kind, SpeakerRequest.status.in_(OPEN_STATUSES))).first()
    if dup is not None:
        raise Conflict("You have already asked for this.", code="already_requested")
    waiting = select(SpeakerRequest.sort_key).where(SpeakerRequest.meeting_id == meeting.id,
                                                    SpeakerRequest.status == "waiting")
    if kind == "point_of_order":
        key = (session.execute(select(func.min(waiting.subquery().c.sort_key))).scalar() or 0) - 1
    else:
        key = (session.execute(select(func.max(waiting.subquery().c.sort_key))).scalar() or 0) + 1
    state = session.get(LiveState, meeting.id)
    r = SpeakerRequest(meeting_id=meeting.id, user_id=user.id, kind=kind, position=position, status="waiting",
                       sort_key=key, requested_at=utcnow(), agenda_item_id=state.agenda_item_id if state else None)
    session.add(r)
    session.flush()
    data = {"request": request_dict(r, user.full_name)}
    _emit(session, meeting, user, "speaker.requested", data, r)
    return data


def withdraw(session: Session, meeting: Meeting, user: User, request_id: int) -> dict[str, Any]:
    """The requester (or the chair/secretariat) withdraws a waiting request."""
    r = _get(session, meeting, request_id)
    policy.require_own_or_run(meeting, user, r.user_id)
    if r.status != "waiting":
        raise Conflict("Only a waiting request can be withdrawn.", code="not_waiting")
    r.status, r.ended_at = "withdrawn", utcnow()
    data = {"request_id": r.id, "status": r.status}
    _emit(session, meeting, user, "speaker.withdrawn", data, r)
    return data


def _finish_current(session: Session, meeting: Meeting) -> SpeakerRequest | None:
    current = session.execute(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting.id, SpeakerRequest.status == "speaking")).scalars().first()
    if current is not None:
        current.status, current.ended_at = "done", utcnow()
    return current


def call(session: Session, meeting: Meeting, actor: User, request_id: int,
         limit_seconds: int | None = None) -> dict[str, Any]:
    """Give the floor: whoever was speaking is done; the timer starts now."""
    policy.require_run(meeting, actor)
    r = _get(session, meeting, request_id)
    if r.status != "waiting":
        raise Conflict("Only a waiting request can be called.", code="not_waiting")
    ended = _finish_current(session, meeting)
    r.status, r.started_at, r.called_by_id = "speaking", utcnow(), actor.id
    r.limit_seconds = limit_seconds or DEFAULT_LIMIT_SECONDS
    session.flush()
    data = {"request": request_dict(r, _name(session, r.user_id)),
            "ended": request_dict(ended, _name(session, ended.user_id)) if ended else None}
    _emit(session, meeting, actor, "speaker.called", data, r)
    return data


def end_speech(session: Session, meeting: Meeting, actor: User) -> dict[str, Any]:
    """Stop the current speaker (the chair, the secretariat or the speaker)."""
    current = session.execute(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting.id, SpeakerRequest.status == "speaking")).scalars().first()
    if current is None:
        raise Conflict("Nobody has the floor.", code="nobody_speaking")
    policy.require_own_or_run(meeting, actor, current.user_id)
    current.status, current.ended_at = "done", utcnow()
    session.flush()
    data = {"request": request_dict(current, _name(session, current.user_id))}
    _emit(session, meeting, actor, "speaker.ended", data, current)
    return data


def skip(session: Session, meeting: Meeting, actor: User, request_id: int) -> dict[str, Any]:
    """Pass over a waiting request; it stays in the history as "skipped"."""
    policy.require_run(meeting, actor)
    r = _get(session, meeting, request_id)
    if r.status != "waiting":
        raise Conflict("Only a waiting request can be skipped.", code="not_waiting")
    r.status, r.ended_at = "skipped", utcnow()
    data = {"request_id": r.id, "status": r.status}
    _emit(session, meeting, actor, "speaker.skipped", data, r)
    return data


def reorder(session: Session, meeting: Meeting, actor: User, order: list[int]) -> dict[str, Any]:
    """Set the waiting queue's order; ``order`` must name every waiting request exactly once."""
    policy.require_run(meeting, actor)
    waiting = session.execute(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting.id, SpeakerRequest.status == "waiting")).scalars().all()
    by_id = {r.id: r for r in waiting}
    if len(order) != len(set(order)) or set(order) != by_id.keys():
        raise Conflict("The order must list every waiting request exactly once.", code="stale_queue",
                       details={"waiting": sorted(by_id)})
    for key, rid in enumerate(order, start=1):
        by_id[rid].sort_key = key
    session.flush()
    data = {"order": list(order)}
    record(session, "speaker.reordered", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
           meeting_id=meeting.id, details=data)
    eventlog.append(session, meeting.id, "speaker.reordered", data, actor_id=actor.id)
    return data


def speaker_queue(session: Session, meeting_id: int) -> dict[str, Any]:
    """The current speaker (or None) and the waiting requests in order."""
    rows = session.execute(
        select(SpeakerRequest, User.full_name).join(User, User.id == SpeakerRequest.user_id)
        .where(SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.status.in_(OPEN_STATUSES))
        .order_by(SpeakerRequest.sort_key, SpeakerRequest.id)
    ).all()
    current = next((request_dict(r, n) for r, n in rows if r.status == "speaking"), None)
    return {"current": current, "waiting": [request_dict(r, n) for r, n in rows if r.status == "waiting"]}


def speaker_history(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    """Every request that is settled or under way, in the order things happened (for the minutes).

    Datetimes are aware ``datetime`` objects here (the minutes format them).
    """
    rows = session.execute(
        select(SpeakerRequest, User.full_name).join(User, User.id == SpeakerRequest.user_id)
        .where(SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.status != "waiting")
        .order_by(func.coalesce(SpeakerRequest.started_at, SpeakerRequest.ended_at), SpeakerRequest.id)
    ).all()
    return [request_dict(r, n, as_json=False) for r, n in rows]


def speakers_overview(session: Session, meeting: Meeting) -> dict[str, Any]:
    """The current speaker, the waiting queue and the history so far (the REST answer)."""
    history = [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in h.items()}
               for h in speaker_history(session, meeting.id)]
    return {**speaker_queue(session, meeting.id), "history": history}
