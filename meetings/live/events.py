"""Socket.IO handlers of the live room (the protocol is docs/realtime.md).

Handlers stay thin: load the meeting for the caller, let the service check
and write; the gateway's ``socket_event`` turns errors into acknowledgements
and commits, which sends the queued broadcasts.
"""
from __future__ import annotations

import logging

from flask import current_app, request
from flask_socketio import join_room, leave_room

from meetings.bodies.permissions import can_run, can_view
from meetings.core.errors import Forbidden
from meetings.core.extensions import db, socketio
from meetings.live import presence, schemas, service, speakers
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.gateway import socket_event

log = logging.getLogger(__name__)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    """A device went away: it is no longer present in any meeting it joined."""
    try:
        presence.remove(db.session, request.sid)
        db.session.commit()
    except Exception:  # a disconnect must never raise into the server
        db.session.rollback()
        log.exception("presence cleanup failed for sid %s", request.sid)
    finally:
        db.session.remove()


@socket_event("meeting.join", schemas.Join)
def join(user, data):
    """Enter a meeting's room; answer with the missed events or a full snapshot."""
    session = db.session
    meeting = service.meeting_for(session, data["meeting_id"], user)
    if not can_view(meeting, user):
        raise Forbidden("You do not take part in this meeting.")
    # Join first, read second: an event committed meanwhile arrives twice at
    # worst (the client drops seq <= its last), never zero times.
    join_room(eventlog.meeting_room(meeting.id))
    manager = can_run(meeting, user)
    if manager:
        join_room(presence.managers_room(meeting.id))
    # The role as of the seq read with the meeting (before the answer): page turns use it.
    presence.remember_role(request.sid, meeting.id, manager=manager, viewer=True, seq=meeting.last_seq)
    answer = _catch_up(meeting, user, data.get("last_seq"))
    presence.add(session, meeting.id, user.id, request.sid)
    return answer


def _catch_up(meeting, user, last_seq):
    session = db.session
    if last_seq is not None and last_seq <= meeting.last_seq:
        limit = current_app.config["EVENT_CATCHUP_LIMIT"]
        events = eventlog.events_after(session, meeting.id, last_seq, limit)
        if events is not None:
            return {"events": [eventlog.envelope(e) for e in events],
                    "seq": events[-1].seq if events else last_seq}
    snap = service.snapshot(session, meeting, user)
    return {"snapshot": snap, "seq": snap["seq"]}


@socket_event("meeting.leave", schemas.MeetingRef)
def leave(user, data):
    """Leave a meeting's room (the socket stays connected)."""
    meeting_id = data["meeting_id"]
    leave_room(eventlog.meeting_room(meeting_id))
    leave_room(presence.managers_room(meeting_id))
    presence.remove(db.session, request.sid, meeting_id)


@socket_event("presenter.set", schemas.PresenterSet)
def presenter_set(user, data):
    """Move the hall's viewers: item, document, page, zoom, designated presenter.

    A page turn (or zoom) from a socket that joined the meeting takes the fast
    path with the role remembered at join; anything else, or whatever the fast
    path cannot decide, the full path."""
    meeting_id = data.pop("meeting_id")
    role = presence.cached_role(request.sid, meeting_id)
    if role is not None and len(data) == 1:
        delta = service.turn_page(db.session, meeting_id, user, role, data)
        if delta is not None:
            return {"changed": delta}
    meeting = service.meeting_for(db.session, meeting_id, user)
    return {"changed": service.set_presenter(db.session, meeting, user, data)}


@socket_event("item.open", schemas.ItemRef)
def item_open(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return service.open_item(db.session, meeting, user, data["agenda_item_id"])


@socket_event("item.close", schemas.ItemClose)
def item_close(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return service.close_item(db.session, meeting, user, data["agenda_item_id"], data["status"])


@socket_event("attendance.mark", schemas.AttendanceMarkEvent)
def attendance_mark(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return service.mark_attendance(db.session, meeting, user, data["user_id"], data["status"],
                                   reason=data.get("reason"), arrived_at=data.get("arrived_at"),
                                   left_at=data.get("left_at"))


@socket_event("speaker.request", schemas.SpeakerAsk)
def speaker_request(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return speakers.request_to_speak(db.session, meeting, user, data["kind"], data.get("position"))


@socket_event("speaker.withdraw", schemas.SpeakerRef)
def speaker_withdraw(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return speakers.withdraw(db.session, meeting, user, data["request_id"])


@socket_event("speaker.call", schemas.SpeakerCall)
def speaker_call(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return speakers.call(db.session, meeting, user, data["request_id"], data.get("limit_seconds"))


@socket_event("speaker.end", schemas.MeetingRef)
def speaker_end(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return speakers.end_speech(db.session, meeting, user)


@socket_event("speaker.skip", schemas.SpeakerRef)
def speaker_skip(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return speakers.skip(db.session, meeting, user, data["request_id"])


@socket_event("speaker.reorder", schemas.SpeakerReorder)
def speaker_reorder(user, data):
    meeting = service.meeting_for(db.session, data["meeting_id"], user)
    return speakers.reorder(db.session, meeting, user, data["order"])
