"""REST: polls, ballots, results and proxies.

Thin views: find the caller, parse, call one service (which checks the caller's
permission itself, see policy.py), shape the answer; the request's commit point
commits. A caller who may not see a meeting or a poll gets 404; one who sees it
but may not act gets 403.
"""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from meetings.bodies import permissions
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses
from meetings.voting import casting, counting, proxies, reading, service
from meetings.voting.results import poll_view
from meetings.voting.schemas import (
    AnnulIn,
    BallotAck,
    BallotIn,
    PartialAck,
    PartialIn,
    PollCreate,
    PollOut,
    ProxyIn,
    ProxyOut,
)

blp = Blueprint("voting", __name__, description="Polls, ballots, results and proxies")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "You may see this but not do it",
        409: "The poll's state does not allow it (code already_voted, poll_not_open, bad_state, ...)"})


@blp.route("/meetings/<int:meeting_id>/polls", methods=["POST"])
@blp.arguments(PollCreate)
@blp.response(201, PollOut)
@_errors(403, 404)
def create_poll(data, meeting_id: int):
    """Create a draft poll (chair or secretariat)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    poll = service.create_poll(db.session, meeting, user, data)
    return poll_view(db.session, poll, user, meeting)


@blp.route("/meetings/<int:meeting_id>/polls")
@blp.response(200, PollOut(many=True))
@_errors(404)
def list_polls(meeting_id: int):
    """The meeting's polls as the caller may see them (drafts only for those who run it)."""
    return reading.list_polls(db.session, meeting_id, require_user())


@blp.route("/polls/<int:poll_id>")
@blp.response(200, PollOut)
@_errors(404)
def get_poll(poll_id: int):
    """One poll, with its result when the caller may see it and the caller's own ballot status."""
    return reading.read_poll(db.session, poll_id, require_user())


@blp.route("/polls/<int:poll_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_poll(poll_id: int):
    """Throw away a draft poll."""
    user = require_user()
    service.delete_draft(db.session, reading.visible_poll(db.session, poll_id, user), user)


def _transition(poll_id: int, action) -> dict:
    user = require_user()
    poll = action(db.session, reading.visible_poll(db.session, poll_id, user), user)
    return poll_view(db.session, poll, user)


@blp.route("/polls/<int:poll_id>/open", methods=["POST"])
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def open_poll(poll_id: int):
    """draft → open (the meeting must be in progress)."""
    return _transition(poll_id, service.open_poll)


@blp.route("/polls/<int:poll_id>/close", methods=["POST"])
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def close_poll(poll_id: int):
    """open → closed: the outcome is computed and stored with its figures. A secret poll goes to
    ``counting`` instead (its encrypted tally summed) until k committee members decrypt it."""
    return _transition(poll_id, service.close_poll)


@blp.route("/polls/<int:poll_id>/publish", methods=["POST"])
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def publish_poll(poll_id: int):
    """closed → published: everyone in the meeting sees the result."""
    return _transition(poll_id, service.publish_poll)


@blp.route("/polls/<int:poll_id>/annul", methods=["POST"])
@blp.arguments(AnnulIn)
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def annul_poll(data, poll_id: int):
    """closed/published → annulled, with a reason. Nothing else about the poll changes."""
    return _transition(poll_id, lambda s, p, u: service.annul_poll(s, p, u, data["reason"]))


@blp.route("/polls/<int:poll_id>/ballots", methods=["POST"])
@blp.arguments(BallotIn)
@blp.response(201, BallotAck)
@_errors(403, 404, 409)
def cast_ballot(data, poll_id: int):
    """Cast the caller's ballot, or with ``on_behalf_of`` a grantor's (proxy). Once only: 409 already_voted.

    Named polls take ``option_ids``; secret polls an encrypted ``ballot`` (400 encrypted_ballot_required,
    400 invalid_ballot when a proof fails, 409 duplicate_ballot for a copy); the answer then carries
    the ballot's tracking code. Written in the next group commit with the other ballots arriving
    (``meetings.voting.group_commit``); answered once that committed (503 not_stored if it failed)."""
    return casting.cast_ballot(db.session, poll_id, require_user(), data.get("option_ids"),
                               data.get("on_behalf_of"), data.get("ballot"))


@blp.route("/polls/<int:poll_id>/partial-decryption", methods=["POST"])
@blp.arguments(PartialIn)
@blp.response(200, PartialAck)
@_errors(403, 404, 409)
def submit_partial(data, poll_id: int):
    """A counting committee member's partial decryption of a counting secret poll (400 invalid_partial
    unless every proof holds); the k-th valid one produces the result. Once per member: a repeat
    answers the stored one."""
    user = require_user()
    return counting.submit_partial(db.session, reading.visible_poll(db.session, poll_id, user), user,
                                   data["shares"])


@blp.route("/polls/<int:poll_id>/board")
@blp.response(200)
@_errors(404, 409)
def bulletin_board(poll_id: int):
    """A secret poll's bulletin board (format meetings-bulletin-board/1): every encrypted ballot by hash
    with its tracking code, the encrypted tally, the partial decryptions and the counts. 409 not_secret."""
    return reading.read_board(db.session, poll_id, require_user())


@blp.route("/polls/<int:poll_id>/results.json")
@blp.response(200)
@_errors(403, 404)
def results_json(poll_id: int):
    """The result with every figure; a named poll also lists each voter's choice."""
    return reading.results_json(db.session, poll_id, require_user())


@blp.route("/polls/<int:poll_id>/results.csv")
@blp.response(200, content_type="text/csv")
@_errors(403, 404)
def results_csv(poll_id: int):
    """The same as CSV (UTF-8 with BOM)."""
    return Response(reading.results_csv(db.session, poll_id, require_user()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="poll-{poll_id}-results.csv"'})


@blp.route("/meetings/<int:meeting_id>/proxies")
@blp.response(200, ProxyOut(many=True))
@_errors(404)
def list_proxies(meeting_id: int):
    """All proxies for those who run the meeting; one's own (given or held) for others."""
    return [proxies.proxy_dict(p) for p in reading.list_proxies(db.session, meeting_id, require_user())]


@blp.route("/meetings/<int:meeting_id>/proxies", methods=["POST"])
@blp.arguments(ProxyIn)
@blp.response(201, ProxyOut)
@_errors(403, 404, 409)
def create_proxy(data, meeting_id: int):
    """A member authorizes another to vote for them (the secretariat may record it for a member)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    proxy = proxies.create_proxy(db.session, meeting, user, data.get("grantor_id", user.id), data["holder_id"])
    return proxies.proxy_dict(proxy)


@blp.route("/proxies/<int:proxy_id>", methods=["DELETE"])
@blp.response(200, ProxyOut)
@_errors(403, 404, 409)
def revoke_proxy(proxy_id: int):
    """Revoke a proxy (its grantor or the secretariat), only while no poll is open."""
    user = require_user()
    proxy = proxies.revoke_proxy(db.session, reading.visible_proxy(db.session, proxy_id, user), user)
    return proxies.proxy_dict(proxy)
