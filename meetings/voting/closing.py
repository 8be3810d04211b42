"""Closing a poll: the outcome computed from its tally and stored with every figure it used.

No permission check here: these run for whoever may close (``service.close_poll``
checks the actor first), for the time limit (``expiry``) and for the last ballot
of a poll that closes when complete (``casting``). The caller commits.

A secret poll closes in two steps: ``close`` takes no more ballots and stores the
outcome, but leaves the poll ``closing``, its result withheld from everyone,
until the storage engine's copies of the tally's earlier states are erased
(``meetings.voting.cleanup``, after the commit); then ``release`` makes it
``closed`` (and published, if so set) in a unit of work of its own.
"""
from __future__ import annotations

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
from meetings.voting import rules, tally
from meetings.voting.models import BallotCast, Poll
from meetings.voting.results import public_result


def is_expired(poll: Poll) -> bool:
    """An open poll whose time limit has passed (it must read as closed from now on)."""
    return poll.status == "open" and poll.closes_at is not None and poll.closes_at <= utcnow()


def close(session: Session, poll: Poll, actor: User | None) -> Poll:
    """open → closed (``actor`` None: by the time limit or because every member voted)."""
    if poll.status != "open":
        raise Conflict(f"Only an open poll can be closed (this one is {poll.status}).", code="bad_state")
    meeting = session.get(Meeting, poll.meeting_id)
    row = tally.locked_tally(session, poll.id)
    if row.sealed:  # closed by another transaction after we read the poll
        raise Conflict("Only an open poll can be closed (this one is closed).", code="bad_state")
    members = tally.voting_members(session, poll.meeting_id)
    member_ids = {p.user_id for p in members}
    ballots = session.execute(select(BallotCast).where(BallotCast.poll_id == poll.id)).scalars().all()
    # Whoever voted (in person or by proxy) takes part, whatever the roll call says.
    present = (present_user_ids(session, poll.meeting_id) | {b.voter_id for b in ballots}) & member_ids
    weight_of = {p.user_id: (p.vote_weight if poll.weighted else 1) for p in members}
    chair_role = None
    if not poll.secret and poll.tie_rule == "chair":
        chair_ids = {p.user_id for p in members if p.role == "chair"}
        roles = {o.id: o.role for o in poll.options}
        chosen = [roles.get(oid) for b in ballots if b.voter_id in chair_ids for oid in (b.choice or [])]
        chair_role = chosen[0] if chosen else None
    figures = rules.decide(
        kind=poll.kind,
        options=[{"id": o.id, "label": o.label, "role": o.role, "count": (row.counts or {}).get(str(o.id), 0)}
                 for o in poll.options],
        cast=row.weight, present=sum(weight_of[u] for u in present),
        entitled=sum(weight_of.values()), members=len(members), present_members=len(present),
        quorum_rule=_quorum_rule(poll, meeting), base=poll.majority_base,
        threshold=rules.Threshold(poll.threshold_numerator, poll.threshold_denominator, poll.threshold_strict),
        tie_rule=poll.tie_rule, chair_role=chair_role,
    )
    figures["ballots"] = row.ballots
    poll.status, poll.closed_at = ("closing" if poll.secret else "closed"), utcnow()
    poll.result, poll.outcome, poll.tie_break_used = figures, figures["outcome"], figures["tie_break_used"]
    row.sealed = True  # the row's last version is now the closing transaction's, not the last voter's
    session.flush()
    actor_id = actor.id if actor else None
    audit.record(session, "poll.closed", actor_id=actor_id, object_type="poll",
                 object_id=poll.id, meeting_id=poll.meeting_id,
                 details={"outcome": poll.outcome, "ballots": row.ballots, "by_time_limit": actor is None})
    progress = {"poll_id": poll.id, "status": poll.status, "voted": row.ballots, "entitled": len(members)}
    if poll.secret:
        # Voting is over for the hall; the result waits for the scrub (meetings.voting.cleanup).
        eventlog.append(session, poll.meeting_id, "poll.closing", progress, actor_id=actor_id)
        tally.mark_for_scrub(session, poll)
        return poll
    eventlog.append(session, poll.meeting_id, "poll.closed", progress, actor_id=actor_id)
    _announce_result(session, poll, actor)
    return poll


def release(session: Session, poll: Poll) -> Poll:
    """closing → closed, once a secret poll's tally history is erased: the result is told
    (and published, if the poll publishes on close). The caller commits."""
    if poll.status != "closing":
        raise Conflict(f"Only a closing poll can be released (this one is {poll.status}).", code="bad_state")
    poll.status = "closed"
    session.flush()
    eventlog.append(session, poll.meeting_id, "poll.closed",
                    {"poll_id": poll.id, "status": "closed", "voted": (poll.result or {}).get("ballots"),
                     "entitled": tally.entitled_count(session, poll.meeting_id)})
    _announce_result(session, poll, None)
    return poll


def _announce_result(session: Session, poll: Poll, actor: User | None) -> None:
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
