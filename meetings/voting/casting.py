"""Casting a ballot: exactly once per (poll, voter), secret choices kept apart.

The path, in two phases (it runs up to 1,000 times a second):

1. **Read and validate, no locks.** The caller's participant row, the meeting's
   ``last_seq`` and any proxy the caller gave come in one indexed query; the
   poll's option ids (fixed once a poll is open) and the number of entitled
   members (cached per meeting and ``last_seq``: every change of participants
   of a live meeting appends an event, so a new seq) come from memory.
2. **Write, as late and as short as possible.** Insert the has-voted row (its
   unique constraint decides among concurrent duplicates: one wins, the others
   get ``already_voted``), lock and update the poll's tally row (refused when
   the row is sealed, i.e. the poll closed meanwhile), append the audit entry;
   the caller commits.

Locks: on PostgreSQL the tally row is locked (SELECT ... FOR UPDATE) and the
audit chain's advisory lock taken until commit. On SQLite the transaction
begins with the write (the INSERT) after the reads were committed, because a
WAL reader that then tries to write fails at once with "database is locked"
instead of waiting for the busy timeout. In a gevent process the write phase
is gated (one greenlet at a time until its commit or rollback): otherwise a
lock holder waiting for the database would queue behind hundreds of runnable
greenlets, and every ballot would wait for all of them (a lock convoy).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from meetings.accounts.models import User
from meetings.bodies.models import BodyMember, Meeting, Participant
from meetings.core.db import end_read_only_transaction, ends_savepoint, utcnow
from meetings.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.rooms import managers_room
from meetings.voting import closing, elgamal, expiry, tally
from meetings.voting.models import BallotCast, EncryptedBallot, Poll, PollTally, Proxy, SecretBallotCast
from meetings.voting.proxies import active_proxy
from meetings.voting.results import live_tally

log = logging.getLogger(__name__)

# Named polls with live results send the room at most this many tallies a second.
TALLY_INTERVAL = timedelta(milliseconds=500)

# One write phase at a time per process (see the module's docstring); released by the session's
# commit or rollback. The timeout only guards against a session that never ends its transaction.
_WRITE_GATE = threading.BoundedSemaphore(1)
_GATE_TIMEOUT_S = 10.0
_GATE_KEY = "voting_write_gate"
# Tests turn the gate off (tests/test_voting_concurrency.py) so that concurrent ballots in one
# process reach the database together and its row lock and unique index alone must decide.
# Only a speed measure: correctness never depends on it.
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

    Pure computation, no database: runs before anything is written, outside the write gate."""
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
_INSERT_BALLOT = insert(BallotCast.__table__)
_INSERT_SECRET_CAST = insert(SecretBallotCast.__table__)
_INSERT_ENCRYPTED = insert(EncryptedBallot.__table__)


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
    if session.get_bind().dialect.name != "sqlite" and not poll.secret:
        # Reads too: a greenlet holding row locks must not queue behind hundreds. A secret ballot's
        # reads take no lock, and its proofs are checked outside the gate (CPU, ~ms per ballot).
        _pass_gate(session)
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
    if poll.secret:
        return _cast_secret(session, poll, user, voter_id, weight, sealed, entitled)

    # ---- 2. write: has-voted row, tally row, audit entry (the caller commits)
    _enter_write_phase(session)
    existing = None
    if poll.allow_change:
        existing = session.execute(
            select(BallotCast).where(BallotCast.poll_id == poll.id, BallotCast.voter_id == voter_id)
            .with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
    if existing is None:
        try:
            session.execute(_INSERT_BALLOT, {
                "poll_id": poll.id, "voter_id": voter_id, "cast_by_id": user.id, "weight": weight,
                "cast_at": utcnow(), "choice": choice})
        except IntegrityError as err:
            raise Conflict("This ballot has already been cast.", code="already_voted") from err
    row = tally.locked_tally(session, poll.id)
    if row.sealed:  # closed by another transaction after we read the poll
        raise Conflict("The poll is closed: ballots are taken only while it is open.", code="poll_not_open")
    if existing is not None:  # a named poll that allows changes until close
        tally.add_to_tally(row, existing.choice or [], existing.weight, sign=-1)
        existing.choice, existing.cast_by_id, existing.cast_at = choice, user.id, utcnow()
    tally.add_to_tally(row, choice, weight)
    session.flush()

    details: dict[str, Any] = {"voter_id": voter_id, "by_proxy": voter_id != user.id, "option_ids": choice}
    action = "vote.changed" if existing is not None else "vote.cast"
    audit.record(session, action, actor_id=user.id, object_type="poll", object_id=poll.id,
                 meeting_id=meeting_id, details=details)
    _announce(session, poll, meeting_id, row, voter_id, user.id, choice, entitled)
    _close_if_complete(session, poll, row, entitled)
    return {"poll_id": poll.id, "voter_id": voter_id, "voted": True, "option_ids": choice}


def _cast_secret(session: Session, poll: Poll, user: User, voter_id: int, weight: int, sealed: SealedBallot,
                 entitled: int) -> dict[str, Any]:
    """The write phase of a secret ballot: the has-voted row and the encrypted ballot, apart.

    Neither row carries a time or a serial id, and nothing joins them: the ballot is
    keyed by its hash. The tally row is only the lock and the public counters."""
    _enter_write_phase(session)
    try:
        session.execute(_INSERT_SECRET_CAST, {"poll_id": poll.id, "voter_id": voter_id, "cast_by_id": user.id,
                                              "weight": weight})
    except IntegrityError as err:
        raise Conflict("This ballot has already been cast.", code="already_voted") from err
    try:
        session.execute(_INSERT_ENCRYPTED, {"poll_id": poll.id, "hash": sealed.hash, "weight": weight,
                                            "content": sealed.content})
    except IntegrityError as err:  # a copy of a ballot already in the box
        raise Conflict("This very ballot is already in the box.", code="duplicate_ballot") from err
    row = tally.locked_tally(session, poll.id)
    if row.sealed:  # closed by another transaction after we read the poll
        raise Conflict("The poll is closed: ballots are taken only while it is open.", code="poll_not_open")
    row.ballots += 1
    row.weight += weight
    session.flush()
    audit.record(session, "vote.cast", actor_id=user.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"voter_id": voter_id, "by_proxy": voter_id != user.id})
    _announce(session, poll, poll.meeting_id, row, voter_id, user.id, None, entitled)
    _close_if_complete(session, poll, row, entitled)
    # The tracking code goes to the caster in this answer only: stored beside the voter, or sent to
    # their other devices, it would tie them to their ciphertext.
    return {"poll_id": poll.id, "voter_id": voter_id, "voted": True, "tracking_code": sealed.tracking_code}


def _close_if_complete(session: Session, poll: Poll, row: PollTally, entitled: int) -> None:
    if poll.close_when_complete and not poll.allow_change and row.ballots >= entitled:
        # The cache said complete: make sure with a fresh count before closing for everyone.
        if row.ballots >= tally.entitled_count(session, poll.meeting_id):
            closing.close(session, poll, None)


def _enter_write_phase(session: Session) -> None:
    """Pass the process's write gate, then start the writing transaction.

    SQLite: a transaction the caller opened with reads only is committed first
    (it changed nothing, and a write after its reads could not wait for the
    lock); the INSERT that follows then takes the write lock, waiting up to the
    busy timeout like any writer. Freed bytes of the tally row's old versions
    are zeroed (``secure_delete``), not left in the page.
    """
    real = session() if isinstance(session, scoped_session) else session
    sqlite = real.get_bind().dialect.name == "sqlite"
    # SQLite (WAL) cannot turn a read snapshot into a write once another connection has
    # committed since (it fails at once with "database is locked", without waiting): end a
    # transaction that only read, so the INSERT below waits for the lock like any writer.
    end_read_only_transaction(real)
    _pass_gate(real)
    if sqlite:
        conn = real.connection()
        if not conn.info.get("secure_delete"):
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.info["secure_delete"] = True


def _pass_gate(session: Session) -> None:
    """Take the process's ballot gate for this session's transaction (once; released at its end)."""
    real = session() if isinstance(session, scoped_session) else session
    if real.info.get(_GATE_KEY) or not WRITE_GATE_ENABLED:
        return
    if not _WRITE_GATE.acquire(timeout=_GATE_TIMEOUT_S):
        log.warning("ballot gate busy for %.0f s; going on without it", _GATE_TIMEOUT_S)
        return
    real.info[_GATE_KEY] = True
    real.connection()  # the transaction whose end releases the gate


def _leave_write_phase(session: Session, *_args: Any) -> None:
    if ends_savepoint(session):
        return
    if session.info.pop(_GATE_KEY, None):
        _WRITE_GATE.release()


def _on_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction: commit, rollback or close
        _leave_write_phase(session)


# Released before the after-commit broadcasts go out (insert=True puts this listener first).
event.listen(Session, "after_commit", _leave_write_phase, insert=True)
event.listen(Session, "after_rollback", _leave_write_phase, insert=True)
event.listen(Session, "after_transaction_end", _on_transaction_end)


def _role(session: Session, meeting_id: int, user: User) -> str | None:
    """The role of a caller who is no participant: "manager" for admins and the body's
    secretariat, "archivist", None for outsiders."""
    body_id = session.execute(select(Meeting.body_id).where(Meeting.id == meeting_id)).scalar_one()
    if user.is_admin or session.execute(select(BodyMember.id).where(
            BodyMember.body_id == body_id, BodyMember.user_id == user.id,
            BodyMember.is_secretariat.is_(True))).first() is not None:
        return "manager"
    return "archivist" if user.is_archivist else None


def _announce(session: Session, poll: Poll, meeting_id: int, row: PollTally, voter_id: int, caster_id: int,
              choice: list[int] | None, entitled: int) -> None:
    """Confirmation to the voter's (and the proxy holder's) devices, counts to the managers,
    and, for named polls with live results, a throttled tally to the room."""
    notice: dict[str, Any] = {"poll_id": poll.id, "voter_id": voter_id, "cast_by_id": caster_id}
    if choice is not None:
        notice["option_ids"] = choice
    for uid in {voter_id, caster_id}:
        eventlog.notify(session, uid, "vote.confirmed", notice)
    progress = {"poll_id": poll.id, "voted": row.ballots, "entitled": entitled}
    eventlog.notify_room(session, managers_room(meeting_id), "poll.progress", progress)
    if poll.results_live and not poll.secret:
        now = utcnow()
        last = poll.tally_sent_at
        if last is None or now - last >= TALLY_INTERVAL or row.ballots >= entitled:
            poll.tally_sent_at = now
            eventlog.append(session, meeting_id, "poll.tally", {**progress, "counts": live_tally(poll, row)})
