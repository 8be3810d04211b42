"""REST for invitations: my answer, the expected attendance, the roll call from the answers,
and my calendar feed's address. Thin views: the services check who may do what."""
from __future__ import annotations

from flask_smorest import Blueprint

from meetings.bodies.permissions import visible_meeting
from meetings.core.extensions import db
from meetings.notifications import calendar, replies
from meetings.notifications import invitation_schemas as schemas
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("invitations", __name__, description="Invitations, answers, expected attendance, calendar feed")


@blp.route("/meetings/<int:meeting_id>/my-invitation")
@blp.response(200, schemas.MyInvitationOut)
@error_responses(blp, 404)
def my_invitation(meeting_id: int):
    """My invitation to the meeting and my answer so far, with whom I may give a proxy."""
    user = require_user()
    return replies.my_answer(db.session, visible_meeting(db.session, meeting_id, user), user)


@blp.route("/meetings/<int:meeting_id>/my-invitation", methods=["PUT"])
@blp.arguments(schemas.ReplyIn)
@blp.response(200, schemas.MyInvitationOut)
@error_responses(blp, 403, 404, 409)
def answer(body, meeting_id: int):
    """Answer: attend, decline (with a reason) or proxy (to another voting member)."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    invitation = replies.my_invitation(db.session, meeting, user)
    replies.answer(db.session, invitation, user, reply=body["reply"], reason=body.get("reason"),
                   proxy_holder_id=body.get("proxy_holder_id"), via="app")
    return replies.my_answer(db.session, meeting, user)


@blp.route("/meetings/<int:meeting_id>/invitations")
@blp.response(200, schemas.ExpectedOut)
@error_responses(blp, 403, 404)
def expected(meeting_id: int):
    """Every participant's answer, the counts and the quorum expected (chair, secretariat)."""
    user = require_user()
    return replies.expected_attendance(db.session, visible_meeting(db.session, meeting_id, user), user)


@blp.route("/meetings/<int:meeting_id>/attendance/from-replies", methods=["POST"])
@blp.response(200, schemas.FromRepliesOut)
@error_responses(blp, 403, 404, 409)
def from_replies(meeting_id: int):
    """Start the roll call from the answers: declined and proxies marked excused (chair, secretariat)."""
    user = require_user()
    return replies.roll_call_from_replies(db.session, visible_meeting(db.session, meeting_id, user), user)


@blp.route("/me/calendar-feed", methods=["POST"])
@blp.response(200, schemas.FeedOut)
def calendar_feed():
    """Create or replace my calendar feed's secret address; it is shown this once (the old one stops)."""
    user = require_user()
    return {"url": calendar.feed_url(calendar.rotate_feed(db.session, user))}
