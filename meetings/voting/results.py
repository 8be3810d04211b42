"""How a poll and its result read to each caller, and for the minutes.

Who may see what is decided in ``policy.py``; this module shapes what they see,
for REST, sockets, the meeting snapshot and the minutes:

- While open: named polls with live results show their tallies to everyone;
  otherwise only the voted/entitled counts, to those who run the meeting.
- Secret polls: totals only, to everyone, always. Named polls list each
  voter's choice wherever their result may be seen.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.platform.realtime import snapshot
from meetings.voting import tally
from meetings.voting.committee_models import CountingCommittee
from meetings.voting.models import BallotCast, PartialDecryption, Poll, PollTally, Proxy, SecretBallotCast
from meetings.voting.policy import can_see_poll, can_see_progress, can_see_result

RECENT = timedelta(minutes=30)


def _iso(at) -> str | None:
    return at.isoformat() if at is not None else None


def present_poll(poll: Poll) -> dict[str, Any]:
    """The poll's public description (no counts, no result)."""
    return {
        "id": poll.id, "meeting_id": poll.meeting_id, "agenda_item_id": poll.agenda_item_id,
        "title": poll.title, "description": poll.description, "kind": poll.kind, "secret": poll.secret,
        "results_live": poll.results_live, "allow_change": poll.allow_change,
        "presence_required": poll.presence_required, "weighted": poll.weighted,
        "publish_on_close": poll.publish_on_close, "close_when_complete": poll.close_when_complete,
        "min_choices": poll.min_choices, "max_choices": poll.max_choices,
        "rules": {
            "quorum": [poll.quorum_numerator, poll.quorum_denominator] if poll.quorum_denominator else None,
            "majority_base": poll.majority_base,
            "threshold": [poll.threshold_numerator, poll.threshold_denominator],
            "threshold_strict": poll.threshold_strict, "tie_rule": poll.tie_rule,
        },
        "status": poll.status, "time_limit_seconds": poll.time_limit_seconds,
        "opened_at": _iso(poll.opened_at), "closes_at": _iso(poll.closes_at), "closed_at": _iso(poll.closed_at),
        "published_at": _iso(poll.published_at), "annulled_at": _iso(poll.annulled_at),
        "annul_reason": poll.annul_reason,
        "options": [{"id": o.id, "label": o.label, "role": o.role} for o in poll.options],
        # Secret polls: what a device encrypts a ballot with (options in this order; None while a draft).
        "committee_id": poll.committee_id, "board_id": poll.board_id, "public_key": poll.public_key,
    }


def public_result(poll: Poll) -> dict[str, Any] | None:
    """The stored outcome with its figures: totals only, never who chose what."""
    if poll.result is None:
        return None
    return {**poll.result, "outcome": poll.outcome}


def live_tally(poll: Poll, row: PollTally) -> list[dict[str, Any]]:
    """The running counts per option (named polls with live results only)."""
    return [{"id": o.id, "count": (row.counts or {}).get(str(o.id), 0)} for o in poll.options]


def named_votes(session: Session, poll: Poll) -> list[dict[str, Any]] | None:
    """Each voter's choice on a named poll (None for a secret one), by voter name."""
    if poll.secret:
        return None
    labels = {o.id: o.label for o in poll.options}
    rows = session.execute(
        select(BallotCast, User).join(User, User.id == BallotCast.voter_id).where(BallotCast.poll_id == poll.id)
        .order_by(User.full_name, User.id)
    ).all()
    names = {u.id: u.full_name for u in session.execute(
        select(User).where(User.id.in_({b.cast_by_id for b, _ in rows}))).scalars()}
    out = []
    for ballot, voter in rows:
        by_proxy = ballot.cast_by_id != ballot.voter_id
        out.append({
            "voter_id": voter.id, "voter_name": voter.full_name,
            "cast_by_id": ballot.cast_by_id, "cast_by_name": names.get(ballot.cast_by_id),
            # As the minutes print it: "<holder> (by proxy for <voter>)".
            "full_name": names.get(ballot.cast_by_id) if by_proxy else voter.full_name,
            "by_proxy_for": voter.full_name if by_proxy else None,
            "option_ids": list(ballot.choice or []),
            "choice_labels": [labels[i] for i in ballot.choice or [] if i in labels],
            "weight": ballot.weight,
        })
    return out


def poll_view(session: Session, poll: Poll, user: User, meeting: Meeting | None = None) -> dict[str, Any]:
    """The poll as ``user`` may see it, with their own ballot status (assumes can_see_poll)."""
    meeting = meeting or session.get(Meeting, poll.meeting_id)
    view = present_poll(poll)
    if poll.status == "open":
        row = session.get(PollTally, poll.id)
        if row is not None and can_see_progress(meeting, user, poll):
            view["voted"] = row.ballots
            view["entitled"] = tally.entitled_count(session, meeting.id)
            if poll.results_live and not poll.secret:
                view["counts"] = live_tally(poll, row)
    if poll.status == "counting":
        view["count"] = count_progress(session, poll)
    if can_see_result(meeting, user, poll):
        view["result"] = public_result(poll)
        view["named_votes"] = named_votes(session, poll)
    view["my_ballot"] = _my_ballot(session, poll, user)
    return view


def count_progress(session: Session, poll: Poll) -> dict[str, Any]:
    """How far a secret poll's count is: which committee members sent their partial decryption,
    and how many (k) are needed. Public: the hall shows it while counting."""
    done = sorted(session.execute(select(PartialDecryption.member_index)
                                  .where(PartialDecryption.poll_id == poll.id)).scalars())
    threshold = session.execute(select(CountingCommittee.threshold)
                                .where(CountingCommittee.id == poll.committee_id)).scalar_one_or_none()
    return {"partials": done, "threshold": threshold}


def _my_ballot(session: Session, poll: Poll, user: User) -> dict[str, Any]:
    cast = SecretBallotCast if poll.secret else BallotCast  # who voted: the table of the poll's kind
    mine = session.execute(select(cast).where(cast.poll_id == poll.id, cast.voter_id == user.id)).scalar_one_or_none()
    out: dict[str, Any] = {"voted": mine is not None}
    if mine is not None:
        out["cast_by_id"] = mine.cast_by_id
        if not poll.secret:
            out["option_ids"] = list(mine.choice or [])
    held = session.execute(select(Proxy.grantor_id).where(
        Proxy.meeting_id == poll.meeting_id, Proxy.holder_id == user.id,
        Proxy.active_grantor_id.is_not(None))).scalars().all()
    if held:
        voted = set(session.execute(select(cast.voter_id).where(
            cast.poll_id == poll.id, cast.voter_id.in_(held))).scalars())
        out["proxies"] = [{"voter_id": g, "voted": g in voted} for g in held]
    return out


def poll_snapshot(session: Session, meeting_id: int, user: User) -> list[dict[str, Any]]:
    """Open and recently closed polls as ``user`` may see them (for the live room's join snapshot)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not permissions.can_view(meeting, user):
        return []
    since = utcnow() - RECENT
    polls = session.execute(select(Poll).where(Poll.meeting_id == meeting_id).order_by(Poll.id)).scalars()
    out = []
    for poll in polls:
        ended = poll.annulled_at or poll.published_at or poll.closed_at
        if poll.status == "open" or (ended is not None and ended >= since):
            if can_see_poll(meeting, user, poll):
                out.append(poll_view(session, poll, user, meeting))
    return out


@snapshot.part("polls")
def _snapshot_polls(session: Session, meeting: Meeting, user: User) -> list[dict[str, Any]]:
    return poll_snapshot(session, meeting.id, user)


def poll_results_for_minutes(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    """Every closed, published or annulled poll of the meeting, in the minutes' shape."""
    polls = session.execute(select(Poll).where(
        Poll.meeting_id == meeting_id, Poll.status.in_(("closed", "published", "annulled"))
    ).order_by(Poll.closed_at, Poll.id)).scalars()
    out = []
    for poll in polls:
        r = poll.result or {}
        out.append({
            "poll_id": poll.id, "title": poll.title, "agenda_item_id": poll.agenda_item_id, "kind": poll.kind,
            "secret": poll.secret, "status": poll.status,
            "options": [{"id": o["id"], "label": o["label"], "count": o["count"]} for o in r.get("options", [])],
            "entitled": r.get("entitled"), "present": r.get("present"), "cast": r.get("cast"),
            "abstained": r.get("abstained"), "base": r.get("base"), "base_count": r.get("base_count"),
            "threshold": r.get("threshold"), "threshold_rule": r.get("threshold_rule"), "required": r.get("required"),
            "outcome": "annulled" if poll.status == "annulled" else poll.outcome,
            "annul_reason": poll.annul_reason, "tie_break_used": bool(poll.tie_break_used),
            "quorum": r.get("quorum"), "opened_at": poll.opened_at, "closed_at": poll.closed_at,
            "named_votes": named_votes(session, poll),
        })
    return out
