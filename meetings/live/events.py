"""Socket.IO handlers of the live room (the protocol is docs/realtime.md).

Handlers stay thin: load the meeting the payload names, call one service (it
checks what the caller may do, then writes); the gateway's ``socket_event``
turns errors into acknowledgements and commits, which sends the queued broadcasts.
"""
from __future__ import annotations

import logging

from flask import current_app, request
from flask_socketio import join_room, leave_room

from meetings.core.extensions import db, socketio
from meetings.live import attendance, presence, presenter, room, schemas, speakers
from meetings.platform.realtime import rooms
from meetings.platform.realtime.gateway import socket_event

log = logging.getLogger(__name__)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    """A device went away: it is no longer present in any meeting it joined."""
    try:
        presence.remove(db.session, request.sid)
        # The commit point of the "disconnect" event: it is no socket_event (no user,
        # no acknowledgement), so it commits here, like the gateway does for the others.
        db.session.commit()
    except Exception:  # a disconnect must never raise into the server
        db.session.rollback()
        log.exception("presence cleanup failed for sid %s", request.sid)
    finally:
        db.session.remove()


@socket_event("meeting.join", schemas.Join)
def join(user, data):
    """Enter a meeting's room; answer with the missed events or a full snapshot."""
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return room.join_meeting(db.session, meeting, user, sid=request.sid, last_seq=data.get("last_seq"),
                             catchup_limit=current_app.config["EVENT_CATCHUP_LIMIT"], enter_room=join_room)


@socket_event("meeting.leave", schemas.MeetingRef)
def leave(user, data):
    """Leave a meeting's room (the socket stays connected)."""
    meeting_id = data["meeting_id"]
    leave_room(rooms.meeting_room(meeting_id))
    leave_room(rooms.managers_room(meeting_id))
    presence.remove(db.session, request.sid, meeting_id)


@socket_event("presenter.set", schemas.PresenterSet)
def presenter_set(user, data):
    """Move the hall's viewers: item, document, page, zoom, designated presenter."""
    meeting_id = data.pop("meeting_id")
    return {"changed": presenter.move_viewers(db.session, meeting_id, user, data, sid=request.sid)}


@socket_event("item.open", schemas.ItemRef)
def item_open(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return presenter.open_item(db.session, meeting, user, data["agenda_item_id"])


@socket_event("item.close", schemas.ItemClose)
def item_close(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return presenter.close_item(db.session, meeting, user, data["agenda_item_id"], data["status"])


@socket_event("attendance.mark", schemas.AttendanceMarkEvent)
def attendance_mark(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return attendance.mark_attendance(db.session, meeting, user, data["user_id"], data["status"],
                                      reason=data.get("reason"), arrived_at=data.get("arrived_at"),
                                      left_at=data.get("left_at"))


@socket_event("speaker.request", schemas.SpeakerAsk)
def speaker_request(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return speakers.request_to_speak(db.session, meeting, user, data["kind"], data.get("position"))


@socket_event("speaker.withdraw", schemas.SpeakerRef)
def speaker_withdraw(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return speakers.withdraw(db.session, meeting, user, data["request_id"])


@socket_event("speaker.call", schemas.SpeakerCall)
def speaker_call(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return speakers.call(db.session, meeting, user, data["request_id"], data.get("limit_seconds"))


@socket_event("speaker.end", schemas.MeetingRef)
def speaker_end(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return speakers.end_speech(db.session, meeting, user)


@socket_event("speaker.skip", schemas.SpeakerRef)
def speaker_skip(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return speakers.skip(db.session, meeting, user, data["request_id"])


@socket_event("speaker.reorder", schemas.SpeakerReorder)
def speaker_reorder(user, data):
    meeting = room.meeting_for(db.session, data["meeting_id"])
    return speakers.reorder(db.session, meeting, user, data["order"])
