"""Polls and ballots: every write of the voting domain.

Plain functions taking a Session; they raise DomainErrors, record an audit
entry for every change and queue live events; the caller commits.
Secret choices appear in no audit entry, event, notice or log line.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem, Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.live.presence import managers_room
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.voting import rules, tally
from meetings.voting.models import (
    MAJORITY_BASES,
    POLL_KINDS,
    TIE_RULES,
    BallotCast,
    Poll,
    PollOption,
    PollTally,
)
from meetings.voting.present import (  # noqa: F401  (poll_snapshot, poll_results_for_minutes: for other domains)
    poll_results_for_minutes,
    poll_snapshot,
    present_poll,
    public_result,
)

# The labels Vietnamese bodies print on a for/against/abstain ballot.
FOR_AGAINST_ABSTAIN = (("for", "Tán thành"), ("against", "Không tán thành"), ("abstain", "Không biểu quyết"))
# Named polls with live results send the room at most this many tallies a second.
TALLY_INTERVAL = timedelta(milliseconds=500)
MAX_OPTIONS = 100


def _aware(at: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes (stored as UTC).
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def get_poll(session: Session, poll_id: int) -> Poll:
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise NotFound(f"Poll {poll_id} does not exist.")
    return poll


def create_poll(session: Session, meeting: Meeting, actor: User, data: dict[str, Any]) -> Poll:
    """Create a draft poll from validated REST data (see schemas.PollCreate)."""
    kind = data.get("kind", "for_against_abstain")
    secret = bool(data.get("secret", False))
    if kind not in POLL_KINDS:
        raise Invalid(f"Unknown poll kind {kind!r}.")
    if data.get("majority_base", "cast") not in MAJORITY_BASES or data.get("tie_rule", "reject") not in TIE_RULES:
        raise Invalid("Unknown majority base or tie rule.")
    if secret and data.get("results_live"):
        raise Invalid("A secret poll cannot show live results: they would reveal votes by their timing.",
                      code="secret_live_results")
    if secret and data.get("allow_change"):
        raise Invalid("A secret ballot cannot be changed: its choice is not kept to undo.", code="secret_change")
    if secret and data.get("tie_rule") == "chair":
        raise Invalid("In a secret ballot the chair's vote is unknown, so it cannot break a tie.",
                      code="secret_tie_rule")
    try:
        threshold = rules.Threshold(data.get("threshold_numerator", 1), data.get("threshold_denominator", 2),
                                    data.get("threshold_strict", True))
    except ValueError as err:
        raise Invalid(f"Threshold: {err}.") from err
    qn, qd = data.get("quorum_numerator"), data.get("quorum_denominator")
    if (qn is None) != (qd is None) or (qd is not None and not (0 <= qn <= qd and qd > 0)):
        raise Invalid("The quorum rule must be a fraction num/den with 0 <= num <= den.")
    item_id = data.get("agenda_item_id")
    if item_id is not None:
        item = session.get(AgendaItem, item_id)
        if item is None or item.meeting_id != meeting.id:
            raise Invalid("The agenda item is not part of this meeting.", code="unknown_agenda_item")
    if kind == "for_against_abstain":
        options = [PollOption(position=i, label=label, role=role)
                   for i, (role, label) in enumerate(FOR_AGAINST_ABSTAIN)]
        min_c = max_c = 1
    else:
        labels = [str(x).strip() for x in data.get("options") or []]
        if len(labels) < 2 or len(labels) > MAX_OPTIONS or any(not lb or len(lb) > 300 for lb in labels):
            raise Invalid(f"Give 2 to {MAX_OPTIONS} options, each 1 to 300 characters.")
        if len(set(labels)) != len(labels):
            raise Invalid("Options must differ from each other.", code="duplicate_options")
        options = [PollOption(position=i, label=label) for i, label in enumerate(labels)]
        max_c = 1 if kind == "single" else data.get("max_choices", len(labels))
        min_c = data.get("min_choices", 1)
        if not (1 <= max_c <= len(labels) and 0 <= min_c <= max_c):
            raise Invalid("Choices must satisfy 0 <= min_choices <= max_choices <= number of options.")
    poll = Poll(
        meeting_id=meeting.id, agenda_item_id=item_id, title=data["title"].strip(),
        description=data.get("description"), kind=kind, secret=secret,
        results_live=bool(data.get("results_live", False)), allow_change=bool(data.get("allow_change", False)),
        presence_required=bool(data.get("presence_required", False)), weighted=bool(data.get("weighted", False)),
        publish_on_close=bool(data.get("publish_on_close", False)),
        close_when_complete=bool(data.get("close_when_complete", False)),
        min_choices=min_c, max_choices=max_c, quorum_numerator=qn, quorum_denominator=qd,
        majority_base=data.get("majority_base", "cast"), threshold_numerator=threshold.numerator,
        threshold_denominator=threshold.denominator, threshold_strict=threshold.strict,
        tie_rule=data.get("tie_rule", "reject"), time_limit_seconds=data.get("time_limit_seconds"),
        status="draft", created_by_id=actor.id, options=options,
    )
    if not poll.title:
        raise Invalid("A poll needs a title.")
    session.add(poll)
    session.flush()
    audit.record(session, "poll.created", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=meeting.id, details={"title": poll.title, "kind": kind, "secret": secret})
    return poll


def open_poll(session: Session, poll: Poll, actor: User) -> Poll:
    """draft → open: voting starts; the tally row is created with every count at zero."""
    if poll.status != "draft":
        raise Conflict(f"Only a draft poll can be opened (this one is {poll.status}).", code="bad_state")
    meeting = session.get(Meeting, poll.meeting_id)
    if meeting.status != "in_progress":
        raise Conflict("Polls open only while the meeting is in progress.", code="meeting_not_in_progress")
    now = utcnow()
    poll.status, poll.opened_at = "open", now
    poll.closes_at = now + timedelta(seconds=poll.time_limit_seconds) if poll.time_limit_seconds else None
    session.add(PollTally(poll_id=poll.id, counts={str(o.id): 0 for o in poll.options}, ballots=0, weight=0))
    session.flush()
    audit.record(session, "poll.opened", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id)
    entitled = len(tally.voting_members(session, poll.meeting_id))
    eventlog.append(session, poll.meeting_id, "poll.opened",
                    {"poll": present_poll(poll), "voted": 0, "entitled": entitled}, actor_id=actor.id)
    return poll


def is_expired(poll: Poll) -> bool:
    return poll.status == "open" and poll.closes_at is not None and _aware(poll.closes_at) <= utcnow()


def close_if_expired(session: Session, poll: Poll) -> bool:
    """Close an open poll whose time limit has passed (called whenever a poll is read or voted in)."""
    if not is_expired(poll):
        return False
    close_poll(session, poll, None)
    return True


def close_poll(session: Session, poll: Poll, actor: User | None) -> Poll:
    """open → closed: compute the outcome with every figure it used and store it."""
    if poll.status != "open":
        raise Conflict(f"Only an open poll can be closed (this one is {poll.status}).", code="bad_state")
    meeting = session.get(Meeting, poll.meeting_id)
    row = tally.locked_tally(session, poll.id)
    members = tally.voting_members(session, poll.meeting_id)
    member_ids = {p.user_id for p in members}
    ballots = session.execute(select(BallotCast).where(BallotCast.poll_id == poll.id)).scalars().all()
    # Whoever voted (in person or by proxy) takes part, whatever the roll call says.
    present = (tally.present_ids(session, poll.meeting_id) | {b.voter_id for b in ballots}) & member_ids
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
    poll.status, poll.closed_at = "closed", utcnow()
    poll.result, poll.outcome, poll.tie_break_used = figures, figures["outcome"], figures["tie_break_used"]
    row.sealed = True  # the row's last version is now the closing transaction's, not the last voter's
    session.flush()
    audit.record(session, "poll.closed", actor_id=actor.id if actor else None, object_type="poll",
                 object_id=poll.id, meeting_id=poll.meeting_id,
                 details={"outcome": poll.outcome, "ballots": row.ballots, "by_time_limit": actor is None})
    eventlog.append(session, poll.meeting_id, "poll.closed",
                    {"poll_id": poll.id, "status": "closed", "voted": row.ballots, "entitled": len(members)},
                    actor_id=actor.id if actor else None)
    tally.mark_for_scrub(session, poll)
    if poll.publish_on_close:
        publish_poll(session, poll, actor)
    else:
        # Those who run the meeting (their sockets joined its managers' room) see the result first.
        eventlog.notify_room(session, managers_room(meeting.id), "poll.result",
                             {"poll_id": poll.id, "result": public_result(poll)})
    return poll


def _quorum_rule(poll: Poll, meeting: Meeting) -> tuple[int, int]:
    if poll.quorum_denominator:
        return poll.quorum_numerator, poll.quorum_denominator
    return meeting.quorum_rule()


def publish_poll(session: Session, poll: Poll, actor: User | None) -> Poll:
    """closed → published: everyone in the meeting sees the result."""
    if poll.status != "closed":
        raise Conflict(f"Only a closed poll can be published (this one is {poll.status}).", code="bad_state")
    poll.status, poll.published_at = "published", utcnow()
    session.flush()
    audit.record(session, "poll.published", actor_id=actor.id if actor else None, object_type="poll",
                 object_id=poll.id, meeting_id=poll.meeting_id)
    eventlog.append(session, poll.meeting_id, "poll.published",
                    {"poll_id": poll.id, "status": "published", "result": public_result(poll)},
                    actor_id=actor.id if actor else None)
    return poll


def annul_poll(session: Session, poll: Poll, actor: User, reason: str) -> Poll:
    """closed/published → annulled, with a reason; the stored figures stay as they were."""
    if poll.status not in ("closed", "published"):
        raise Conflict("Only a closed or published poll can be annulled.", code="bad_state")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the poll is annulled.", code="reason_required")
    poll.status, poll.annulled_at, poll.annul_reason = "annulled", utcnow(), reason
    session.flush()
    audit.record(session, "poll.annulled", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"reason": reason})
    eventlog.append(session, poll.meeting_id, "poll.annulled",
                    {"poll_id": poll.id, "status": "annulled", "reason": reason}, actor_id=actor.id)
    return poll


def delete_draft(session: Session, poll: Poll, actor: User) -> None:
    """A draft can be thrown away; anything opened stays for the record."""
    if poll.status != "draft":
        raise Conflict("Only a draft poll can be deleted.", code="bad_state")
    audit.record(session, "poll.deleted", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"title": poll.title})
    session.delete(poll)
    session.flush()


def cast_ballot(session: Session, poll_id: int, user: User, option_ids: Any,
                on_behalf_of: int | None = None) -> dict[str, Any]:
    """Cast a ballot exactly once (see meetings.voting.casting, which holds the whole path)."""
    from meetings.voting.casting import cast_ballot as cast

    return cast(session, poll_id, user, option_ids, on_behalf_of)


@event.listens_for(Session, "after_commit")
def _scrub_after_commit(session: Session) -> None:
    if session.info.pop(tally.SCRUB_KEY, None):
        tally.scrub_after_close(session.get_bind())


@event.listens_for(Session, "after_rollback")
def _no_scrub_after_rollback(session: Session) -> None:
    session.info.pop(tally.SCRUB_KEY, None)
