"""Closing a poll: the outcome computed from its tally and stored with every figure it used.

No permission check here: these run for whoever may close (``service.close_poll``
checks the actor first), for the time limit (``expiry``) and for the last ballot
of a poll that closes when complete (``casting``). The caller commits.

A secret poll closes in two steps. ``close`` takes no more ballots, adds the
encrypted ballots up into the poll's encrypted tally and leaves it ``counting``,
with what the outcome needs besides the counts (who took part, the quorum rule)
kept aside; the counting committee then decrypts the tally (``counting``) and
``conclude`` computes the outcome from the decrypted counts exactly as a named
poll's close does. A secret poll without a ballot has nothing to decrypt: it
closes at once with every count at zero.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict
from meetings.live.attendance import present_user_ids
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.rooms import managers_room
from meetings.voting import elgamal, rules, tally
from meetings.voting.committee_models import CountingCommittee
from meetings.voting.models import BallotCast, EncryptedBallot, Poll, PollTally
from meetings.voting.results import public_result

# Where a counting poll keeps, in ``Poll.result``, the figures fixed at its close (nobody sees
# ``result`` before the poll is closed: see policy.can_see_result).
AWAITING = "awaiting_count"


def is_expired(poll: Poll) -> bool:
    """An open poll whose time limit has passed (it must read as closed from now on)."""
    return poll.status == "open" and poll.closes_at is not None and poll.closes_at <= utcnow()


def _participation(session: Session, poll: Poll, row: PollTally) -> dict[str, Any]:
    """Who took part, as at the close: everything ``rules.decide`` needs besides the counts."""
    meeting = session.get(Meeting, poll.meeting_id)
    members = tally.voting_members(session, poll.meeting_id)
    member_ids = {p.user_id for p in members}
    # Whoever voted (in person or by proxy) takes part, whatever the roll call says.
    present = (present_user_ids(session, poll.meeting_id) | tally.voter_ids(session, poll)) & member_ids
    weight_of = {p.user_id: (p.vote_weight if poll.weighted else 1) for p in members}
    return {"cast": row.weight, "ballots": row.ballots, "present": sum(weight_of[u] for u in present),
            "entitled": sum(weight_of.values()), "members": len(members), "present_members": len(present),
            "quorum_rule": list(_quorum_rule(poll, meeting))}


def _figures(poll: Poll, taking_part: dict[str, Any], counts: dict[int, int],
             chair_role: str | None = None) -> dict[str, Any]:
    figures = rules.decide(
        kind=poll.kind,
        options=[{"id": o.id, "label": o.label, "role": o.role, "count": counts.get(o.id, 0)} for o in poll.options],
        cast=taking_part["cast"], present=taking_part["present"], entitled=taking_part["entitled"],
        members=taking_part["members"], present_members=taking_part["present_members"],
        quorum_rule=tuple(taking_part["quorum_rule"]), base=poll.majority_base,
        threshold=rules.Threshold(poll.threshold_numerator, poll.threshold_denominator, poll.threshold_strict),
        tie_rule=poll.tie_rule, chair_role=chair_role,
    )
    figures["ballots"] = taking_part["ballots"]
    return figures


def close(session: Session, poll: Poll, actor: User | None) -> Poll:
    """open → closed, or for a secret poll with ballots open → counting
    (``actor`` None: by the time limit or because every member voted)."""
    if poll.status != "open":
        raise Conflict(f"Only an open poll can be closed (this one is {poll.status}).", code="bad_state")
    row = tally.locked_tally(session, poll.id)
    if row.sealed:  # closed by another transaction after we read the poll
        raise Conflict("Only an open poll can be closed (this one is closed).", code="bad_state")
    row.sealed = True  # no ballot slips in after this: casting checks the locked row
    taking_part = _participation(session, poll, row)
    poll.closed_at = utcnow()
    actor_id = actor.id if actor else None
    if poll.secret:
        return _close_secret(session, poll, row, taking_part, actor)
    ballots = session.execute(select(BallotCast).where(BallotCast.poll_id == poll.id)).scalars().all()
    chair_role = None
    if poll.tie_rule == "chair":
        chair_ids = {p.user_id for p in tally.voting_members(session, poll.meeting_id) if p.role == "chair"}
        roles = {o.id: o.role for o in poll.options}
        chosen = [roles.get(oid) for b in ballots if b.voter_id in chair_ids for oid in (b.choice or [])]
        chair_role = chosen[0] if chosen else None
    counts = {int(k): v for k, v in (row.counts or {}).items()}
    _store_outcome(poll, _figures(poll, taking_part, counts, chair_role))
    session.flush()
    audit.record(session, "poll.closed", actor_id=actor_id, object_type="poll",
                 object_id=poll.id, meeting_id=poll.meeting_id,
                 details={"outcome": poll.outcome, "ballots": row.ballots, "by_time_limit": actor is None})
    _tell_closed(session, poll, row.ballots, taking_part["members"], actor)
    return poll


def _close_secret(session: Session, poll: Poll, row: PollTally, taking_part: dict[str, Any],
                  actor: User | None) -> Poll:
    """The encrypted tally, summed in the closing transaction (the tally row is locked), then counting."""
    boxed = session.execute(select(EncryptedBallot.content, EncryptedBallot.weight)
                            .where(EncryptedBallot.poll_id == poll.id)).all()
    poll.encrypted_tally = elgamal.aggregate([(content, weight) for content, weight in boxed], len(poll.options))
    actor_id = actor.id if actor else None
    if not poll.encrypted_tally:  # no ballot (or none with weight): nothing to decrypt, every count is 0
        return conclude(session, poll, [0] * len(poll.options), taking_part, by_time_limit=actor is None,
                        actor=actor)
    poll.status, poll.result = "counting", {AWAITING: taking_part}
    session.flush()
    audit.record(session, "poll.closed", actor_id=actor_id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"ballots": row.ballots, "by_time_limit": actor is None,
                                                      "counting": True})
    # To the room: the hall shows "counting", and the committee's devices fetch the board and decrypt.
    eventlog.append(session, poll.meeting_id, "poll.counting",
                    {"poll_id": poll.id, "status": "counting", "voted": row.ballots,
                     "entitled": taking_part["members"], "board_id": poll.board_id,
                     "committee_id": poll.committee_id, "partials": 0,
                     "threshold": session.get(CountingCommittee, poll.committee_id).threshold}, actor_id=actor_id)
    return poll


def conclude(session: Session, poll: Poll, counts: list[int], taking_part: dict[str, Any] | None = None, *,
             by_time_limit: bool = False, actor: User | None = None) -> Poll:
    """A secret poll's decrypted counts (per option, in position order) → its outcome, as a named
    poll's close computes it; the poll is closed (and published, if so set). The caller commits."""
    taking_part = taking_part or (poll.result or {})[AWAITING]
    figures = _figures(poll, taking_part, {o.id: n for o, n in zip(poll.options, counts, strict=True)})
    _store_outcome(poll, figures)
    row = session.get(PollTally, poll.id)
    row.counts = {str(o.id): n for o, n in zip(poll.options, counts, strict=True)}  # final: no longer secret
    session.flush()
    audit.record(session, "poll.counted" if poll.encrypted_tally else "poll.closed",
                 actor_id=actor.id if actor else None, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"outcome": poll.outcome, "ballots": figures["ballots"],
                                                      "by_time_limit": by_time_limit})
    _tell_closed(session, poll, figures["ballots"], taking_part["members"], actor)
    return poll


def _store_outcome(poll: Poll, figures: dict[str, Any]) -> None:
    poll.status = "closed"
    poll.result, poll.outcome, poll.tie_break_used = figures, figures["outcome"], figures["tie_break_used"]


def _tell_closed(session: Session, poll: Poll, ballots: int, entitled: int, actor: User | None) -> None:
    progress = {"poll_id": poll.id, "status": poll.status, "voted": ballots, "entitled": entitled}
    eventlog.append(session, poll.meeting_id, "poll.closed", progress, actor_id=actor.id if actor else None)
    if poll.publish_on_close:
        publish(session, poll, actor)
    else:
        # Those who run the meeting (their sockets joined its managers' room) see the result first.
        eventlog.notify_room(session, managers_room(poll.meeting_id), "poll.result",
                             {"poll_id": poll.id, "result": public_result(poll)})


def _quorum_rule(poll: Poll, meeting: Meeting) -> tuple[int, int]:
    if poll.quorum_denominator:
        return poll.quorum_numerator, poll.quorum_denominator
    return meeting.quorum_rule()


def publish(session: Session, poll: Poll, actor: User | None) -> Poll:
    """closed → published: everyone in the meeting sees the result (``actor`` None: on close)."""
    if poll.status != "closed":
        raise Conflict(f"Only a closed poll can be published (this one is {poll.status}).", code="bad_state")
    poll.status, poll.published_at = "published", utcnow()
    session.flush()
    actor_id = actor.id if actor else None
    audit.record(session, "poll.published", actor_id=actor_id, object_type="poll",
                 object_id=poll.id, meeting_id=poll.meeting_id)
    eventlog.append(session, poll.meeting_id, "poll.published",
                    {"poll_id": poll.id, "status": "published", "result": public_result(poll)},
                    actor_id=actor_id)
    return poll
