"""REST: the meeting's counting committee and its key ceremony (the members' devices post the rounds).

Thin views over ``meetings.voting.committee``: find the caller, parse, call one service
(which checks permission itself), shape the answer; the request's commit point commits.
A caller who may not see the meeting gets 404; one who sees it but may not act, 403.
A repeated identical round message answers 200 with nothing new stored.
"""
from __future__ import annotations

from flask_smorest import Blueprint

from meetings.bodies import permissions
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import ErrorSchema, error_responses
from meetings.voting import ceremony, committee
from meetings.voting.committee_schemas import (
    CommitteeIn,
    CommitteeOut,
    ConfirmIn,
    Round1In,
    Round1Out,
    Round2In,
    SharesOut,
)

blp = Blueprint("counting_committee", __name__, description="The counting committee and its key ceremony")

_PATH = "/meetings/<int:meeting_id>/counting-committee"


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "You see the meeting but are not the committee's member (or may not elect it)",
        404: "No such meeting, or it has no committee (code no_committee)",
        409: "Not now: wrong_round, already_published, already_sent, bad_state, committee_in_use"})


def _message(view):
    """A ceremony message: 400 when it does not verify, 200 when the same one was stored before."""
    view = blp.alt_response(400, schema=ErrorSchema, description=(
        "A message that does not verify (code invalid_message): a bad encoding, point, proof or key"))(view)
    return blp.alt_response(200, schema=CommitteeOut, description="The same message was stored before")(view)


def _view(committee_row, user, created: bool = True):
    answer = committee.committee_view(db.session, committee_row, user)
    return answer if created else (answer, 200)


@blp.route(_PATH, methods=["POST"])
@blp.arguments(CommitteeIn)
@blp.response(201, CommitteeOut)
@_errors(403, 404, 409)
def elect(data, meeting_id: int):
    """Elect the committee (those who run the meeting): participants, and the threshold k of n.
    Replaces the committee in force unless a poll under its key is open (409 committee_in_use); its
    polls are still counted by it."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return _view(committee.elect(db.session, meeting, user, data["member_ids"], data["threshold"]), user)


@blp.route(_PATH)
@blp.response(200, CommitteeOut)
@_errors(404)
def get_committee(meeting_id: int):
    """The committee with its members and their round; for a member, their index and next step."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return committee.committee_view(db.session, committee.visible_committee(db.session, meeting, user), user)


@blp.route(f"{_PATH}/round1", methods=["POST"])
@blp.arguments(Round1In)
@blp.response(201, CommitteeOut)
@_message
@_errors(403, 404, 409)
def post_round1(data, meeting_id: int):
    """Round 1 (the member's device): transport key, Feldman commitments and proof of knowledge."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    row, created = ceremony.publish_round1(db.session, meeting, user, data)
    return _view(row, user, created)


@blp.route(f"{_PATH}/round1")
@blp.response(200, Round1Out)
@_errors(403, 404, 409)
def get_round1(meeting_id: int):
    """Every member's round-1 message (members only, once all have published)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return {"round1": committee.round1_messages(db.session, meeting, user)}


@blp.route(f"{_PATH}/round2", methods=["POST"])
@blp.arguments(Round2In)
@blp.response(201, CommitteeOut)
@_message
@_errors(403, 404, 409)
def post_round2(data, meeting_id: int):
    """Round 2 (the member's device): one share per other member, encrypted to its transport key."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    row, created = ceremony.send_shares(db.session, meeting, user, data["shares"])
    return _view(row, user, created)


@blp.route(f"{_PATH}/shares")
@blp.response(200, SharesOut)
@_errors(403, 404, 409)
def get_shares(meeting_id: int):
    """The shares addressed to the caller (members only, once every member has sent theirs)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return {"shares": committee.shares_for(db.session, meeting, user)}


@blp.route(f"{_PATH}/confirm", methods=["POST"])
@blp.arguments(ConfirmIn)
@blp.response(201, CommitteeOut)
@_message
@_errors(403, 404, 409)
def post_confirm(data, meeting_id: int):
    """The member's verification key K_j, or a complaint against a member whose share failed
    (the committee fails). The last confirmation makes the committee ready, its key set."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    row, created = ceremony.confirm(db.session, meeting, user, data.get("verification_key"),
                                     data.get("complaint_against"))
    return _view(row, user, created)
