"""The ballot box: validated ballots written together, in one transaction.

``casting`` validates each ballot on its caller's own path; ``group_commit``
collects the ballots that arrive within a few milliseconds and hands them here
in one session, which it then commits. Per poll of the batch (in poll id order,
so two writers never wait for each other crosswise):

1. the tally row is claimed by a write (``UPDATE … SET sealed = sealed``): the
   write lock on SQLite, the row lock on PostgreSQL, before anything is read, so
   everything read below is what every other writer (another process's batch, a
   close) committed, and nobody else writes ballots of this poll until we commit;
2. a sealed row (the poll closed meanwhile) refuses the poll's ballots
   ``poll_not_open``; a voter who has a ballot already (stored before, or earlier
   in this batch) is refused ``already_voted`` exactly once per extra copy, a
   copy of a secret ballot already in the box ``duplicate_ballot``;
3. the ballots left are inserted in one statement, the tally row updated once,
   one audit entry per ballot (appended to the chain in one statement), each voter's confirmation queued, the managers'
   progress and the room's live tally once, and the poll closed when complete.

The unique constraints stay the last word: should the batch still hit one, or
anything else fail in it, the batch is written again ballot by ballot, each in a
SAVEPOINT of its own, so the failing ballot gets its error and the others land.
The broadcasts are queued on the session (``eventlog``) and go out after the
commit only; a savepoint rolled back drops its own.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.core.errors import Conflict, DomainError, Unavailable
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.rooms import managers_room
from meetings.voting import closing, tally
from meetings.voting.models import BallotCast, EncryptedBallot, Poll, PollTally, SecretBallotCast
from meetings.voting.results import live_tally

log = logging.getLogger(__name__)

# Named polls with live results send the room at most this many tallies a second.
TALLY_INTERVAL = timedelta(milliseconds=500)
_INSERT_BALLOT = insert(BallotCast.__table__)
_INSERT_SECRET_CAST = insert(SecretBallotCast.__table__)
_INSERT_ENCRYPTED = insert(EncryptedBallot.__table__)


@dataclass(eq=False)
class PendingBallot:
    """One validated ballot on its way into the box, and, once written, its answer or its error.

    ``choice`` for a named poll; ``content``, ``hash`` and ``tracking_code`` for a secret one."""

    poll_id: int
    meeting_id: int
    voter_id: int
    caster_id: int
    weight: int
    entitled: int
    choice: list[int] | None = None
    content: dict[str, Any] | None = None
    hash: str | None = None
    tracking_code: str | None = None
    answer: dict[str, Any] | None = None
    error: DomainError | None = None
    # group_commit's hand-over: set once the ballot is settled (or its waiter is to lead the next batch).
    settled: bool = False
    lead: bool = False
    wake: Any = field(default=None, repr=False)

    @property
    def secret(self) -> bool:
        return self.hash is not None

    def refuse(self, err: DomainError) -> None:
        self.answer, self.error = None, err

    def reset(self) -> None:
        """Forget an outcome whose writing was rolled back (the ballot is written again)."""
        self.answer = self.error = None


def write(session: Session, ballots: list[PendingBallot]) -> None:
    """Write ``ballots`` in ``session``'s transaction (the caller commits); each gets its answer or error."""
    if not ballots:
        return
    if session.get_bind().dialect.name == "sqlite":
        conn = session.connection()
        if not conn.info.get("secure_delete"):  # freed bytes of old tally versions are zeroed, not left in pages
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.info["secure_delete"] = True
    try:
        with session.begin_nested():
            _write_polls(session, ballots)
    except Exception:  # a constraint hit or anything else: ballot by ballot, so one failure loses no other
        log.warning("a batch of %d ballots failed; writing them one by one", len(ballots), exc_info=True)
        for ballot in ballots:
            ballot.reset()
            try:
                with session.begin_nested():
                    _write_polls(session, [ballot])
            except Exception as err:
                ballot.refuse(_failure(err))


def _failure(err: Exception) -> DomainError:
    if isinstance(err, DomainError):
        return err
    log.error("a ballot could not be stored", exc_info=err)
    return Unavailable("The ballot could not be stored; cast it again.", code="not_stored")


def _write_polls(session: Session, ballots: list[PendingBallot]) -> None:
    by_poll: dict[int, list[PendingBallot]] = {}
    for ballot in ballots:
        by_poll.setdefault(ballot.poll_id, []).append(ballot)
    for poll_id in sorted(by_poll):
        group = by_poll[poll_id]
        row = _claimed_tally(session, poll_id)
        poll = session.get(Poll, poll_id)
        if row.sealed:  # closed by another transaction after the callers read the poll
            for ballot in group:
                ballot.refuse(Conflict("The poll is closed: ballots are taken only while it is open.",
                                       code="poll_not_open"))
            continue
        if group[0].secret:
            _write_secret(session, poll, row, group)
        else:
            _write_named(session, poll, row, group)
        entitled = max(b.entitled for b in group)
        _announce_progress(session, poll, row, entitled)
        _close_if_complete(session, poll, row, entitled)


def _claimed_tally(session: Session, poll_id: int) -> PollTally:
    """The tally row, claimed by a write first (see the module's docstring), then read afresh."""
    session.execute(update(PollTally).where(PollTally.poll_id == poll_id).values(sealed=PollTally.sealed)
                    .execution_options(synchronize_session=False))
    return tally.locked_tally(session, poll_id)


def _write_named(session: Session, poll: Poll, row: PollTally, group: list[PendingBallot]) -> None:
    voters = {b.voter_id for b in group}
    stored: dict[int, BallotCast | None] = {}  # voter id -> their stored ballot (None: not loaded)
    if poll.allow_change:
        stored.update((c.voter_id, c) for c in session.execute(
            select(BallotCast).where(BallotCast.poll_id == poll.id, BallotCast.voter_id.in_(voters))
            .execution_options(populate_existing=True)).scalars())
    else:
        stored.update((voter, None) for voter in session.execute(select(BallotCast.voter_id).where(
            BallotCast.poll_id == poll.id, BallotCast.voter_id.in_(voters))).scalars())
    fresh: dict[int, dict[str, Any]] = {}  # voter id -> the row this batch inserts
    changed: set[int] = set()
    for ballot in group:
        voter, choice = ballot.voter_id, ballot.choice or []
        if (voter in fresh or voter in stored) and not poll.allow_change:
            ballot.refuse(Conflict("This ballot has already been cast.", code="already_voted"))
            continue
        earlier = fresh.get(voter) or stored.get(voter)
        if isinstance(earlier, dict):  # changed again within this batch, before it is stored
            tally.add_to_tally(row, earlier["choice"], earlier["weight"], sign=-1)
            earlier.update(choice=choice, cast_by_id=ballot.caster_id, cast_at=utcnow())
            changed.add(id(ballot))
        elif earlier is not None:  # a stored ballot of a poll that allows changes until close
            tally.add_to_tally(row, earlier.choice or [], earlier.weight, sign=-1)
            earlier.choice, earlier.cast_by_id, earlier.cast_at = choice, ballot.caster_id, utcnow()
            changed.add(id(ballot))
        else:
            fresh[voter] = {"poll_id": poll.id, "voter_id": voter, "cast_by_id": ballot.caster_id,
                            "weight": ballot.weight, "cast_at": utcnow(), "choice": choice}
        tally.add_to_tally(row, choice, ballot.weight)
        ballot.answer = {"poll_id": poll.id, "voter_id": voter, "voted": True, "option_ids": choice}
    if fresh:
        session.execute(_INSERT_BALLOT, list(fresh.values()))
    session.flush()
    accepted = list(_accepted(group))
    audit.record_many(session, [
        {"action": "vote.changed" if id(b) in changed else "vote.cast", "actor_id": b.caster_id,
         "object_type": "poll", "object_id": poll.id, "meeting_id": poll.meeting_id,
         "details": {"voter_id": b.voter_id, "by_proxy": b.voter_id != b.caster_id, "option_ids": b.choice}}
        for b in accepted])
    for ballot in accepted:
        _confirm(session, ballot)


def _write_secret(session: Session, poll: Poll, row: PollTally, group: list[PendingBallot]) -> None:
    """Has-voted rows and encrypted ballots, apart: each set inserted in its own order (voter id,
    ballot hash), never in the order they arrived, so nothing lines one up with the other."""
    voters = set(session.execute(select(SecretBallotCast.voter_id).where(
        SecretBallotCast.poll_id == poll.id, SecretBallotCast.voter_id.in_({b.voter_id for b in group}))).scalars())
    hashes = set(session.execute(select(EncryptedBallot.hash).where(
        EncryptedBallot.poll_id == poll.id, EncryptedBallot.hash.in_({b.hash for b in group}))).scalars())
    for ballot in group:
        if ballot.voter_id in voters:
            ballot.refuse(Conflict("This ballot has already been cast.", code="already_voted"))
        elif ballot.hash in hashes:  # a copy of a ballot already in the box
            ballot.refuse(Conflict("This very ballot is already in the box.", code="duplicate_ballot"))
        else:
            voters.add(ballot.voter_id)
            hashes.add(ballot.hash)  # type: ignore[arg-type]
            # The tracking code goes to the caster in this answer only: stored beside the voter, or
            # sent to their other devices, it would tie them to their ciphertext.
            ballot.answer = {"poll_id": poll.id, "voter_id": ballot.voter_id, "voted": True,
                             "tracking_code": ballot.tracking_code}
    accepted = list(_accepted(group))
    if not accepted:
        return
    session.execute(_INSERT_SECRET_CAST, sorted(
        ({"poll_id": poll.id, "voter_id": b.voter_id, "cast_by_id": b.caster_id, "weight": b.weight}
         for b in accepted), key=lambda r: r["voter_id"]))
    session.execute(_INSERT_ENCRYPTED, sorted(
        ({"poll_id": poll.id, "hash": b.hash, "weight": b.weight, "content": b.content} for b in accepted),
        key=lambda r: r["hash"]))
    row.ballots += len(accepted)
    row.weight += sum(b.weight for b in accepted)
    session.flush()
    audit.record_many(session, [
        {"action": "vote.cast", "actor_id": b.caster_id, "object_type": "poll", "object_id": poll.id,
         "meeting_id": poll.meeting_id, "details": {"voter_id": b.voter_id, "by_proxy": b.voter_id != b.caster_id}}
        for b in accepted])
    for ballot in accepted:
        _confirm(session, ballot)


def _accepted(group: Iterable[PendingBallot]) -> Iterable[PendingBallot]:
    return (b for b in group if b.answer is not None)


def _confirm(session: Session, ballot: PendingBallot) -> None:
    """The voter's (and the proxy holder's) devices learn the ballot is in, after the commit."""
    notice: dict[str, Any] = {"poll_id": ballot.poll_id, "voter_id": ballot.voter_id, "cast_by_id": ballot.caster_id}
    if ballot.choice is not None and not ballot.secret:
        notice["option_ids"] = ballot.choice
    for uid in {ballot.voter_id, ballot.caster_id}:
        eventlog.notify(session, uid, "vote.confirmed", notice)


def _announce_progress(session: Session, poll: Poll, row: PollTally, entitled: int) -> None:
    """Counts to the managers and, for named polls with live results, a throttled tally to the
    room: once per poll per batch, with the counts as committed."""
    progress = {"poll_id": poll.id, "voted": row.ballots, "entitled": entitled}
    eventlog.notify_room(session, managers_room(poll.meeting_id), "poll.progress", progress)
    if poll.results_live and not poll.secret:
        now, last = utcnow(), poll.tally_sent_at
        if last is None or now - last >= TALLY_INTERVAL or row.ballots >= entitled:
            poll.tally_sent_at = now
            eventlog.append(session, poll.meeting_id, "poll.tally", {**progress, "counts": live_tally(poll, row)})


def _close_if_complete(session: Session, poll: Poll, row: PollTally, entitled: int) -> None:
    if poll.close_when_complete and not poll.allow_change and row.ballots >= entitled:
        # The cache said complete: make sure with a fresh count before closing for everyone.
        if row.ballots >= tally.entitled_count(session, poll.meeting_id):
            closing.close(session, poll, None)
