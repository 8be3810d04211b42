"""Polls: every write of a poll's life (create, open, close, publish, annul, delete).

Plain functions ``(session, poll or meeting, actor, ...)``: each checks the actor
with ``policy`` (404 for who may not see the poll, 403 for who sees it but may
not act), writes, records an audit entry and queues live events; the caller's
commit point commits. Ballots are cast in ``casting``, proxies in ``proxies``.
Secret choices appear in no audit entry, event, notice or log line.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem, Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.platform import signals
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.voting import closing, committee, expiry, rules, tally
from meetings.voting.models import MAJORITY_BASES, POLL_KINDS, TIE_RULES, Poll, PollOption, PollTally
from meetings.voting.policy import can_manage_polls, can_see_poll
from meetings.voting.results import present_poll

# The labels Vietnamese bodies print on a for/against/abstain ballot.
FOR_AGAINST_ABSTAIN = (("for", "Tán thành"), ("against", "Không tán thành"), ("abstain", "Không biểu quyết"))
MAX_OPTIONS = 100


def get_poll(session: Session, poll_id: int) -> Poll:
    """The poll by id, or NotFound (no permission check: see ``reading.visible_poll``)."""
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise NotFound("No such poll.")
    return poll


def _check_manage(session: Session, poll: Poll, actor: User) -> Meeting:
    """404 unless the actor sees the poll; a poll past its time limit is closed (see expiry);
    403 unless the actor runs the meeting's polls."""
    meeting = session.get(Meeting, poll.meeting_id)
    if not can_see_poll(meeting, actor, poll):
        raise NotFound("No such poll.")
    if expiry.settle(session, [poll]):
        meeting = session.get(Meeting, poll.meeting_id)
    if not can_manage_polls(meeting, actor):
        raise Forbidden("Only the chair or the secretariat runs polls.")
    return meeting


def create_poll(session: Session, meeting: Meeting, actor: User, data: dict[str, Any]) -> Poll:
    """Create a draft poll from validated REST data (see schemas.PollCreate)."""
    if not can_manage_polls(meeting, actor):
        raise Forbidden("Only the chair or the secretariat runs polls.")
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
    if secret:  # the sitting's counting committee (chair + secretary by default) holds its key
        committee.ensure_committee(session, meeting, actor)
    session.add(poll)
    session.flush()
    audit.record(session, "poll.created", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=meeting.id, details={"title": poll.title, "kind": kind, "secret": secret})
    return poll


def open_poll(session: Session, poll: Poll, actor: User) -> Poll:
    """draft → open: voting starts; the tally row is created with every count at zero."""
    _check_manage(session, poll, actor)
    if poll.status != "draft":
        raise Conflict(f"Only a draft poll can be opened (this one is {poll.status}).", code="bad_state")
    meeting = session.get(Meeting, poll.meeting_id)
    if meeting.status != "in_progress":
        raise Conflict("Polls open only while the meeting is in progress.", code="meeting_not_in_progress")
    if poll.secret:  # every secret poll of the sitting uses the committee's key (409 committee_not_ready)
        ready = committee.ready_committee(session, meeting)
        if ready is None:
            raise Conflict("The counting committee has not finished its key ceremony.", code="committee_not_ready")
        # A random board id: the context of every proof, so no ballot fits another poll.
        poll.committee_id, poll.public_key, poll.board_id = ready.id, ready.public_key, secrets.token_hex(16)
    now = utcnow()
    poll.status, poll.opened_at = "open", now
    poll.closes_at = now + timedelta(seconds=poll.time_limit_seconds) if poll.time_limit_seconds else None
    # A secret poll's row is only the ballots' lock and the public counters: no count until the result.
    counts = {} if poll.secret else {str(o.id): 0 for o in poll.options}
    session.add(PollTally(poll_id=poll.id, counts=counts, ballots=0, weight=0))
    session.flush()
    audit.record(session, "poll.opened", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id)
    entitled = tally.entitled_count(session, poll.meeting_id)
    eventlog.append(session, poll.meeting_id, "poll.opened",
                    {"poll": present_poll(poll), "voted": 0, "entitled": entitled}, actor_id=actor.id)
    signals.poll_opened.send(None, session=session, poll=poll, actor=actor)
    return poll


def close_poll(session: Session, poll: Poll, actor: User) -> Poll:
    """open → closed: compute the outcome with every figure it used and store it (a secret poll:
    open → counting, its encrypted tally summed for the committee to decrypt)."""
    _check_manage(session, poll, actor)
    return closing.close(session, poll, actor)


def publish_poll(session: Session, poll: Poll, actor: User) -> Poll:
    """closed → published: everyone in the meeting sees the result."""
    _check_manage(session, poll, actor)
    return closing.publish(session, poll, actor)


def annul_poll(session: Session, poll: Poll, actor: User, reason: str) -> Poll:
    """closed/published → annulled, with a reason; the stored figures stay as they were."""
    _check_manage(session, poll, actor)
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
    _check_manage(session, poll, actor)
    if poll.status != "draft":
        raise Conflict("Only a draft poll can be deleted.", code="bad_state")
    audit.record(session, "poll.deleted", actor_id=actor.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"title": poll.title})
    session.delete(poll)
    session.flush()
