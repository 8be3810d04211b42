"""REST: polls, ballots, results and proxies.

Thin views: find the caller, load the object, check permission with
meetings.bodies.permissions (and present.py for what a poll shows), call the
service, commit, shape the answer. A caller who may not see a meeting or a
poll gets 404; one who sees it but may not act gets 403.
"""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.errors import Forbidden, NotFound
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses
from meetings.voting import export, proxies, service
from meetings.voting.models import Poll
from meetings.voting.present import can_see_poll, poll_view, result_visible
from meetings.voting.schemas import AnnulIn, BallotAck, BallotIn, PollCreate, PollOut, ProxyIn, ProxyOut

blp = Blueprint("voting", __name__, description="Polls, ballots, results and proxies")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "You may see this but not do it",
        409: "The poll's state does not allow it (code already_voted, poll_not_open, bad_state, ...)"})

def _poll(poll_id: int, user: User) -> tuple[Poll, Meeting]:
    poll = db.session.get(Poll, poll_id)
    meeting = db.session.get(Meeting, poll.meeting_id) if poll is not None else None
    if poll is None or not can_see_poll(meeting, user, poll):
        raise NotFound("No such poll.")
    if service.close_if_expired(db.session, poll):
        db.session.commit()
    return poll, meeting


def _require_run(meeting: Meeting, user: User) -> None:
    if not permissions.can_run(meeting, user):
        raise Forbidden("Only the chair or the secretariat runs polls.")


@blp.route("/meetings/<int:meeting_id>/polls", methods=["POST"])
@blp.arguments(PollCreate)
@blp.response(201, PollOut)
@_errors(403, 404)
def create_poll(data, meeting_id: int):
    """Create a draft poll (chair or secretariat)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    _require_run(meeting, user)
    poll = service.create_poll(db.session, meeting, user, data)
    db.session.commit()
    return poll_view(db.session, poll, user, meeting)


@blp.route("/meetings/<int:meeting_id>/polls")
@blp.response(200, PollOut(many=True))
@_errors(404)
def list_polls(meeting_id: int):
    """The meeting's polls as the caller may see them (drafts only for those who run it)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    polls = db.session.execute(select(Poll).where(Poll.meeting_id == meeting.id).order_by(Poll.id)).scalars().all()
    if any(service.close_if_expired(db.session, p) for p in polls):
        db.session.commit()
    return [poll_view(db.session, p, user, meeting) for p in polls if can_see_poll(meeting, user, p)]


@blp.route("/polls/<int:poll_id>")
@blp.response(200, PollOut)
@_errors(404)
def get_poll(poll_id: int):
    """One poll, with its result when the caller may see it and the caller's own ballot status."""
    user = require_user()
    poll, meeting = _poll(poll_id, user)
    return poll_view(db.session, poll, user, meeting)


@blp.route("/polls/<int:poll_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_poll(poll_id: int):
    """Throw away a draft poll."""
    user = require_user()
    poll, meeting = _poll(poll_id, user)
    _require_run(meeting, user)
    service.delete_draft(db.session, poll, user)
    db.session.commit()


def _transition(poll_id: int, action) -> dict:
    user = require_user()
    poll, meeting = _poll(poll_id, user)
    _require_run(meeting, user)
    action(poll, user)
    db.session.commit()
    return poll_view(db.session, poll, user, meeting)


@blp.route("/polls/<int:poll_id>/open", methods=["POST"])
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def open_poll(poll_id: int):
    """draft → open (the meeting must be in progress)."""
    return _transition(poll_id, lambda p, u: service.open_poll(db.session, p, u))


@blp.route("/polls/<int:poll_id>/close", methods=["POST"])
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def close_poll(poll_id: int):
    """open → closed: the outcome is computed and stored with its figures."""
    return _transition(poll_id, lambda p, u: service.close_poll(db.session, p, u))


@blp.route("/polls/<int:poll_id>/publish", methods=["POST"])
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def publish_poll(poll_id: int):
    """closed → published: everyone in the meeting sees the result."""
    return _transition(poll_id, lambda p, u: service.publish_poll(db.session, p, u))


@blp.route("/polls/<int:poll_id>/annul", methods=["POST"])
@blp.arguments(AnnulIn)
@blp.response(200, PollOut)
@_errors(403, 404, 409)
def annul_poll(data, poll_id: int):
    """closed/published → annulled, with a reason. Nothing else about the poll changes."""
    return _transition(poll_id, lambda p, u: service.annul_poll(db.session, p, u, data["reason"]))


@blp.route("/polls/<int:poll_id>/ballots", methods=["POST"])
@blp.arguments(BallotIn)
@blp.response(201, BallotAck)
@_errors(403, 404, 409)
def cast_ballot(data, poll_id: int):
    """Cast the caller's ballot, or with ``on_behalf_of`` a grantor's (proxy). Once only: 409 already_voted."""
    user = require_user()
    _poll(poll_id, user)
    ack = service.cast_ballot(db.session, poll_id, user, data["option_ids"], data.get("on_behalf_of"))
    db.session.commit()
    return ack


def _results_poll(poll_id: int) -> Poll:
    user = require_user()
    poll, meeting = _poll(poll_id, user)
    if not result_visible(meeting, user, poll):
        raise Forbidden("The result is not available to you yet.", code="result_hidden")
    return poll


@blp.route("/polls/<int:poll_id>/results.json")
@blp.response(200)
@_errors(403, 404)
def results_json(poll_id: int):
    """The result with every figure; a named poll also lists each voter's choice."""
    return export.results_json(db.session, _results_poll(poll_id))


@blp.route("/polls/<int:poll_id>/results.csv")
@blp.response(200, content_type="text/csv")
@_errors(403, 404)
def results_csv(poll_id: int):
    """The same as CSV (UTF-8 with BOM)."""
    poll = _results_poll(poll_id)
    return Response(export.results_csv(db.session, poll), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}-results.csv"'})


@blp.route("/meetings/<int:meeting_id>/proxies")
@blp.response(200, ProxyOut(many=True))
@_errors(404)
def list_proxies(meeting_id: int):
    """All proxies for those who run the meeting; one's own (given or held) for others."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    only = None if permissions.can_run(meeting, user) else user.id
    return [proxies.proxy_dict(p) for p in proxies.list_proxies(db.session, meeting.id, only_for_user=only)]


@blp.route("/meetings/<int:meeting_id>/proxies", methods=["POST"])
@blp.arguments(ProxyIn)
@blp.response(201, ProxyOut)
@_errors(403, 404, 409)
def create_proxy(data, meeting_id: int):
    """A member authorizes another to vote for them (the secretariat may record it for a member)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    grantor = data.get("grantor_id", user.id)
    if grantor != user.id and not permissions.can_run(meeting, user):
        raise Forbidden("Only the member or the secretariat can give a member's proxy.")
    proxy = proxies.create_proxy(db.session, meeting, user, grantor, data["holder_id"])
    db.session.commit()
    return proxies.proxy_dict(proxy)


@blp.route("/proxies/<int:proxy_id>", methods=["DELETE"])
@blp.response(200, ProxyOut)
@_errors(403, 404, 409)
def revoke_proxy(proxy_id: int):
    """Revoke a proxy (its grantor or the secretariat), only while no poll is open."""
    user = require_user()
    proxy = db.session.get(proxies.Proxy, proxy_id)
    meeting = db.session.get(Meeting, proxy.meeting_id) if proxy is not None else None
    if proxy is None or not permissions.can_view(meeting, user) or (
            user.id not in (proxy.grantor_id, proxy.holder_id) and not permissions.can_run(meeting, user)):
        raise NotFound("No such proxy.")
    if user.id != proxy.grantor_id and not permissions.can_run(meeting, user):
        raise Forbidden("Only the grantor or the secretariat can revoke a proxy.")
    proxies.revoke_proxy(db.session, proxy, user)
    db.session.commit()
    return proxies.proxy_dict(proxy)
