"""Casting a ballot: exactly once per (poll, voter), secret choices kept apart.

The path, in two phases (it runs up to 1,000 times a second):

1. **Read and validate, no locks, on the caller's own path.** The caller's
   participant row, the meeting's ``last_seq`` and any proxy the caller gave
   come in one indexed query; the poll's option ids (fixed once a poll is open)
   and the number of entitled members (cached per meeting and ``last_seq``:
   every change of participants of a live meeting appends an event, so a new
   seq) come from memory. A secret ballot's proofs are checked here too (CPU,
   a few ms each), before anything waits for the database.
2. **Write, together with the ballots that arrive at the same time**
   (``group_commit``): one transaction per few milliseconds stores them all
   (``ballot_box``: the tally row claimed first, duplicates refused exactly
   once, one tally update per poll, one audit entry per ballot), and each
   caller is answered once that transaction committed. The caller's own
   session has nothing left to commit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import BodyMember, Meeting, Participant
from meetings.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from meetings.voting import closing, elgamal, expiry, group_commit, tally
from meetings.voting.ballot_box import PendingBallot
from meetings.voting.models import Poll, Proxy
from meetings.voting.proxies import active_proxy

log = logging.getLogger(__name__)

# Off, every ballot is written alone, at once, in a transaction of its own, instead of in the next
# group commit: tests/test_voting_concurrency.py (which still calls it the write gate) turns it off
# so that concurrent ballots of one process meet in the database, whose tally-row lock and unique
# index alone must decide. Only a speed measure: correctness never depends on it.
WRITE_GATE_ENABLED = True
# poll id -> frozenset of its option ids (options never change once a poll is open).
_OPTIONS: dict[int, frozenset[int]] = {}


def _option_ids(poll: Poll) -> frozenset[int]:
    known = _OPTIONS.get(poll.id)
    if known is None:
        known = frozenset(o.id for o in poll.options)
        if poll.status != "draft":
            _OPTIONS[poll.id] = known
    return known


def _checked_choice(poll: Poll, option_ids: Any) -> list[int]:
    if not isinstance(option_ids, list) or any(type(x) is not int for x in option_ids):
        raise Invalid("option_ids must be a list of option ids.", code="invalid_choice")
    if len(set(option_ids)) != len(option_ids):
        raise Invalid("An option can be chosen only once.", code="invalid_choice")
    if not set(option_ids) <= _option_ids(poll):
        raise Invalid("Unknown option for this poll.", code="invalid_choice")
    if not poll.min_choices <= len(option_ids) <= poll.max_choices:
        raise Invalid(f"Choose between {poll.min_choices} and {poll.max_choices} options.", code="invalid_choice")
    return sorted(option_ids)


@dataclass(frozen=True)
class SealedBallot:
    """An encrypted ballot whose proofs hold, with its hash (its key in the box) and tracking code."""

    content: dict[str, Any]
    hash: str
    tracking_code: str


def sealed_ballot(poll: Poll, option_ids: Any, ballot: Any) -> SealedBallot:
    """Check a secret poll's encrypted ballot (every proof, against the poll's key and board id).

    Pure computation, no database: runs on the caller's path, before the ballot joins a batch."""
    if option_ids is not None or not isinstance(ballot, dict):
        raise DomainError("A secret poll takes an encrypted ballot, never option ids.",  # 400
                          code="encrypted_ballot_required")
    try:
        elgamal.verify_ballot(poll.public_key, poll.board_id, len(_option_ids(poll)), poll.min_choices,
                              poll.max_choices, ballot)
        digest = elgamal.ballot_hash(poll.board_id, ballot)
    except (elgamal.InvalidProof, ValueError, TypeError, KeyError) as err:  # anything the received data broke
        raise DomainError(f"The ballot does not verify: {err}.", code="invalid_ballot") from None  # 400
    return SealedBallot(content=ballot, hash=digest, tracking_code=elgamal.tracking_code(digest))


_CALLER = (select(Participant, Meeting.last_seq, Proxy.id)
           .join(Meeting, Meeting.id == Participant.meeting_id)
           .outerjoin(Proxy, and_(Proxy.meeting_id == Participant.meeting_id,
                                  Proxy.active_grantor_id == Participant.user_id))
           .where(Participant.meeting_id == bindparam("mid"), Participant.user_id == bindparam("uid")))


def _caller(session: Session, meeting_id: int, user_id: int) -> tuple[Participant | None, int, bool]:
    """(the caller's participant row or None, the meeting's last_seq, whether the caller gave a proxy)."""
    row = session.execute(_CALLER, {"mid": meeting_id, "uid": user_id}).first()
    if row is None:
        seq = session.execute(select(Meeting.last_seq).where(Meeting.id == meeting_id)).scalar_one()
        return None, seq, False
    return row[0], row[1], row[2] is not None


def _voting(p: Participant | None) -> Participant | None:
    return p if p is not None and p.can_vote and p.role != "observer" else None


def cast_ballot(session: Session, poll_id: int, user: User, option_ids: Any,
                on_behalf_of: int | None = None, ballot: Any = None) -> dict[str, Any]:
    """Cast ``user``'s ballot (or, holding a proxy, ``on_behalf_of``'s) in an open poll.

    A named poll takes ``option_ids``; a secret one only an encrypted ``ballot``
    (``meetings.voting.elgamal``), its proofs checked before anything is written.
    Returns the acknowledgement for the caster: never a secret choice (a secret
    ballot's tracking code instead, told to the caster only).
    """
    # ---- 1. read and validate
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise NotFound("No such poll.")
    meeting_id = poll.meeting_id
    participant, seq, gave_proxy = _caller(session, meeting_id, user.id)
    caster = _voting(participant)
    role = participant.role if participant is not None else _role(session, meeting_id, user)
    if role is None or (poll.status == "draft" and role not in ("chair", "secretary", "manager")):
        raise NotFound("No such poll.")  # outsiders see no poll; delegates no draft
    expired = closing.is_expired(poll)
    if expired:  # closing it is due anyway: in its own unit of work, before this ballot is refused
        expiry.close_due(session, poll.id)
    if caster is None and on_behalf_of in (None, user.id):
        raise Forbidden("You have no voting right in this meeting.", code="not_entitled")
    if poll.status != "open":
        raise Conflict(f"The poll is {poll.status}: ballots are taken only while it is open.", code="poll_not_open")
    if expired:
        raise Conflict("The poll's time limit has passed.", code="poll_not_open")
    if poll.secret:
        sealed = sealed_ballot(poll, option_ids, ballot)
    else:
        if ballot is not None:
            raise Invalid("A named poll takes option_ids, not an encrypted ballot.", code="invalid_choice")
        choice = _checked_choice(poll, option_ids)
    voter_id = user.id if on_behalf_of is None else on_behalf_of
    if voter_id != user.id:
        if caster is None or active_proxy(session, meeting_id, voter_id, user.id) is None:
            raise Forbidden("You hold no proxy from this member for this meeting.", code="no_proxy")
        voter = tally.voting_member(session, meeting_id, voter_id)
        if voter is None:
            raise Forbidden("That member has no voting right in this meeting.", code="not_entitled")
    else:
        voter = caster
        if gave_proxy:
            raise Forbidden("Your proxy holder votes for you; revoke the proxy before a poll to vote yourself.",
                            code="proxy_active")
    if poll.presence_required and not tally.is_present(session, meeting_id, user.id):
        raise Forbidden("This poll is open only to members marked present.", code="not_present")
    weight = voter.vote_weight if poll.weighted else 1
    if weight < 1:
        raise Forbidden("This member's vote carries no weight.", code="not_entitled")
    entitled = tally.entitled_cached(session, meeting_id, seq)
    pending = PendingBallot(poll_id=poll.id, meeting_id=meeting_id, voter_id=voter_id, caster_id=user.id,
                            weight=weight, entitled=entitled)
    if poll.secret:
        pending.content, pending.hash, pending.tracking_code = sealed.content, sealed.hash, sealed.tracking_code
    else:
        pending.choice = choice

    # ---- 2. write: in the next group commit (its own session), acknowledged once committed
    return group_commit.cast(session, pending, grouped=WRITE_GATE_ENABLED)


def _role(session: Session, meeting_id: int, user: User) -> str | None:
    """The role of a caller who is no participant: "manager" for admins and the body's
    secretariat, "archivist", None for outsiders."""
    body_id = session.execute(select(Meeting.body_id).where(Meeting.id == meeting_id)).scalar_one()
    if user.is_admin or session.execute(select(BodyMember.id).where(
            BodyMember.body_id == body_id, BodyMember.user_id == user.id,
            BodyMember.is_secretariat.is_(True))).first() is not None:
        return "manager"
    return "archivist" if user.is_archivist else None
