"""REST for the live room's state: the same data the socket gives, for clients
that reconnect, reports, and the secretariat's laptop without a socket.

Thin views: a caller who may not see the meeting gets 404
(:func:`meetings.bodies.permissions.visible_meeting`); the services check the
rest. The request's commit point (meetings.platform.http.commit) commits.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from meetings.bodies.permissions import visible_meeting
from meetings.core.extensions import db
from meetings.live import attendance as roll
from meetings.live import attendance_bulk as bulk
from meetings.live import bulk_schemas, room, schemas, speakers
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("live", __name__, description="Live meeting room: state, attendance, speakers")


@blp.route("/meetings/<int:meeting_id>/live")
@blp.response(200)
@error_responses(blp, 403, 404)
def live_snapshot(meeting_id: int):
    """The full live state with its seq (the same snapshot as the socket's meeting.join)."""
    user = require_user()
    return room.snapshot(db.session, visible_meeting(db.session, meeting_id, user), user)


@blp.route("/meetings/<int:meeting_id>/events")
@blp.arguments(schemas.EventsQuery, location="query")
@blp.response(200, schemas.EventsOut)
@blp.alt_response(409, description="Too far behind: fetch /live instead")
@error_responses(blp, 403, 404)
def events(query, meeting_id: int):
    """The meeting's logged events after ``after``, in order (catch-up over HTTP)."""
    meeting = visible_meeting(db.session, meeting_id, require_user())
    return room.missed_events(db.session, meeting, query["after"], current_app.config["EVENT_CATCHUP_LIMIT"])


@blp.route("/meetings/<int:meeting_id>/attendance")
@blp.response(200, schemas.AttendanceListOut)
@error_responses(blp, 403, 404)
def attendance(meeting_id: int):
    """The roll call of every participant and the quorum figures."""
    return roll.roll_call(db.session, visible_meeting(db.session, meeting_id, require_user()))


@blp.route("/meetings/<int:meeting_id>/attendance/<int:user_id>", methods=["PUT"])
@blp.arguments(schemas.AttendanceMark)
@blp.arguments(bulk_schemas.MarkQuery, location="query")
@blp.response(200, schemas.AttendanceListOut)
@error_responses(blp, 403, 404, 409)
def mark(body, query, meeting_id: int, user_id: int):
    """Mark one participant present, absent, excused (with a reason) or remote (chair or secretariat).
    The answer is the whole roll after the change; ``?roll=false`` answers only this participant's
    row and the quorum (marking many one by one: the whole roll each time is what made it slow)."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    payload = roll.mark_attendance(db.session, meeting, user, user_id, body["status"], reason=body.get("reason"),
                                   arrived_at=body.get("arrived_at"), left_at=body.get("left_at"))
    if not query["roll"]:
        return {"attendance": roll.attendance_list(db.session, meeting.id, user_id), "quorum": payload["quorum"]}
    return roll.roll_call(db.session, meeting)


@blp.route("/meetings/<int:meeting_id>/attendance", methods=["PUT"])
@blp.arguments(bulk_schemas.GroupMark)
@blp.response(200, bulk_schemas.GroupMarkOut)
@error_responses(blp, 403, 404, 409)
def mark_group(body, meeting_id: int):
    """Mark a group with one status in one call (chair or secretariat): ``user_ids``, ``all: true`` or
    ``unit_id``; one transaction, one ``attendance.bulk_changed`` event. Answers the whole roll."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    done = bulk.mark_group(db.session, meeting, user, body["status"], reason=body.get("reason"),
                           user_ids=body.get("user_ids"), everyone=bool(body.get("all")), unit_id=body.get("unit_id"))
    return {"marked": done["marked"], **roll.roll_call(db.session, meeting)}


@blp.route("/meetings/<int:meeting_id>/speakers")
@blp.response(200, schemas.SpeakersOut)
@error_responses(blp, 403, 404)
def speaker_list(meeting_id: int):
    """The current speaker, the waiting queue, and the history so far."""
    return speakers.speakers_overview(db.session, visible_meeting(db.session, meeting_id, require_user()))
