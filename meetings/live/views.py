"""REST for the live room's state: the same data the socket gives, for clients
that reconnect, reports, and the secretariat's laptop without a socket."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from meetings.bodies.permissions import can_view
from meetings.core.errors import Conflict, NotFound
from meetings.core.extensions import db
from meetings.live import schemas, service, speakers
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses
from meetings.platform.realtime import eventlog

blp = Blueprint("live", __name__, description="Live meeting room: state, attendance, speakers")


def _visible_meeting(meeting_id: int):
    user = require_user()
    meeting = service.meeting_for(db.session, meeting_id, user)
    if not can_view(meeting, user):
        # 404, as everywhere: a stranger must not learn which meeting ids exist.
        raise NotFound("No such meeting.")
    return user, meeting


@blp.route("/meetings/<int:meeting_id>/live")
@blp.response(200)
@error_responses(blp, 403, 404)
def live_snapshot(meeting_id: int):
    """The full live state with its seq (the same snapshot as the socket's meeting.join)."""
    user, meeting = _visible_meeting(meeting_id)
    return service.snapshot(db.session, meeting, user)


@blp.route("/meetings/<int:meeting_id>/events")
@blp.arguments(schemas.EventsQuery, location="query")
@blp.response(200, schemas.EventsOut)
@blp.alt_response(409, description="Too far behind: fetch /live instead")
@error_responses(blp, 403, 404)
def events(query, meeting_id: int):
    """The meeting's logged events after ``after``, in order (catch-up over HTTP)."""
    _, meeting = _visible_meeting(meeting_id)
    evs = eventlog.events_after(db.session, meeting.id, query["after"], current_app.config["EVENT_CATCHUP_LIMIT"])
    if evs is None:
        raise Conflict("Too many events missed; fetch the snapshot.", code="snapshot_required")
    return {"events": [eventlog.envelope(e) for e in evs], "seq": evs[-1].seq if evs else query["after"]}


@blp.route("/meetings/<int:meeting_id>/attendance")
@blp.response(200, schemas.AttendanceListOut)
@error_responses(blp, 403, 404)
def attendance(meeting_id: int):
    """The roll call of every participant and the quorum figures."""
    _, meeting = _visible_meeting(meeting_id)
    return {"attendance": service.attendance_list(db.session, meeting.id),
            "quorum": service.quorum(db.session, meeting.id)}


@blp.route("/meetings/<int:meeting_id>/attendance/<int:user_id>", methods=["PUT"])
@blp.arguments(schemas.AttendanceMark)
@blp.response(200, schemas.AttendanceListOut)
@error_responses(blp, 403, 404, 409)
def mark(body, meeting_id: int, user_id: int):
    """Mark one participant present, absent, excused (with a reason) or remote (chair or secretariat)."""
    user, meeting = _visible_meeting(meeting_id)
    service.mark_attendance(db.session, meeting, user, user_id, body["status"], reason=body.get("reason"),
                            arrived_at=body.get("arrived_at"), left_at=body.get("left_at"))
    db.session.commit()
    return {"attendance": service.attendance_list(db.session, meeting.id),
            "quorum": service.quorum(db.session, meeting.id)}


@blp.route("/meetings/<int:meeting_id>/speakers")
@blp.response(200, schemas.SpeakersOut)
@error_responses(blp, 403, 404)
def speaker_list(meeting_id: int):
    """The current speaker, the waiting queue, and the history so far."""
    _, meeting = _visible_meeting(meeting_id)
    queue = speakers.speaker_queue(db.session, meeting.id)
    history = [{k: service.iso(v) if hasattr(v, "isoformat") else v for k, v in h.items()}
               for h in speakers.speaker_history(db.session, meeting.id)]
    return {**queue, "history": history}
