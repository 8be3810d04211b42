"""What a caller reads of the voting domain: polls, their results, proxies (the GET paths).

Every function checks the caller with ``policy`` (404 for who may not see the
thing, 403 for who sees it but may not read this part) and never writes in the
caller's transaction: a poll past its time limit is first closed in its own unit
of work (``expiry.settle``), so it reads as closed, with its result.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.errors import Conflict, Forbidden, NotFound
from meetings.voting import board, expiry, export, proxies
from meetings.voting.models import Poll, Proxy
from meetings.voting.policy import can_see_all_proxies, can_see_poll, can_see_proxy, can_see_result
from meetings.voting.results import poll_view


def visible_poll(session: Session, poll_id: int, user: User) -> Poll:
    """The poll if ``user`` may see it (else NotFound), closed first when its time limit passed."""
    poll = session.get(Poll, poll_id)
    meeting = session.get(Meeting, poll.meeting_id) if poll is not None else None
    if poll is None or not can_see_poll(meeting, user, poll):
        raise NotFound("No such poll.")
    expiry.settle(session, [poll])
    return poll


def read_poll(session: Session, poll_id: int, user: User) -> dict[str, Any]:
    """One poll as ``user`` may see it, with its result when visible and their own ballot status."""
    poll = visible_poll(session, poll_id, user)
    return poll_view(session, poll, user)


def list_polls(session: Session, meeting_id: int, user: User) -> list[dict[str, Any]]:
    """The meeting's polls as ``user`` may see them (drafts only for those who run it)."""
    meeting = permissions.visible_meeting(session, meeting_id, user)
    polls = session.execute(select(Poll).where(Poll.meeting_id == meeting.id).order_by(Poll.id)).scalars().all()
    if expiry.settle(session, polls):
        meeting = permissions.visible_meeting(session, meeting_id, user)
    return [poll_view(session, p, user, meeting) for p in polls if can_see_poll(meeting, user, p)]


def _result_poll(session: Session, poll_id: int, user: User) -> Poll:
    poll = visible_poll(session, poll_id, user)
    if not can_see_result(session.get(Meeting, poll.meeting_id), user, poll):
        raise Forbidden("The result is not available to you yet.", code="result_hidden")
    return poll


def results_json(session: Session, poll_id: int, user: User) -> dict[str, Any]:
    """The result with every figure (and each voter's choice on a named poll), if ``user`` may see it."""
    return export.results_json(session, _result_poll(session, poll_id, user))


def results_csv(session: Session, poll_id: int, user: User) -> str:
    """The same as CSV, if ``user`` may see it."""
    return export.results_csv(session, _result_poll(session, poll_id, user))


def read_board(session: Session, poll_id: int, user: User) -> dict[str, Any]:
    """A secret poll's bulletin board, for whoever may see the poll (its counts once they may see the result)."""
    poll = visible_poll(session, poll_id, user)
    if not poll.secret:
        raise Conflict("A named poll has no bulletin board: its ballots are listed with its result.",
                       code="not_secret")
    return board.bulletin_board(session, poll, with_result=can_see_result(session.get(Meeting, poll.meeting_id),
                                                                          user, poll))


def list_proxies(session: Session, meeting_id: int, user: User) -> list[Proxy]:
    """All proxies for those who run the meeting; one's own (given or held) for others."""
    meeting = permissions.visible_meeting(session, meeting_id, user)
    only = None if can_see_all_proxies(meeting, user) else user.id
    return proxies.list_proxies(session, meeting.id, only_for_user=only)


def visible_proxy(session: Session, proxy_id: int, user: User) -> Proxy:
    """The proxy if ``user`` may see it (its grantor, its holder, those who run the meeting), else NotFound."""
    proxy = session.get(Proxy, proxy_id)
    meeting = session.get(Meeting, proxy.meeting_id) if proxy is not None else None
    if proxy is None or not can_see_proxy(meeting, user, proxy):
        raise NotFound("No such proxy.")
    return proxy
