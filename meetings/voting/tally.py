"""Who may vote, whether a voter is present, the tally row, and scrubbing after a secret poll.

Kept apart from service.py so the casting path reads top to bottom. Who is
present for a poll's result comes from the live room's roll call
(``meetings.live.attendance``).
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from meetings.bodies.models import Participant
from meetings.core.db import BUSY_TIMEOUT_MS
from meetings.live.attendance import PRESENT_STATUSES
from meetings.live.models import Attendance
from meetings.voting.models import BallotCast, Poll, PollTally

# Set on a session whose transaction closed a secret poll; see scrub_after_close.
SCRUB_KEY = "voting_scrub_after_commit"


def voting_members(session: Session, meeting_id: int) -> list[Participant]:
    """Participants with a voting right (observers never vote, whatever their flag says)."""
    return list(session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.can_vote.is_(True),
                                  Participant.role != "observer")
    ).scalars())


def entitled_count(session: Session, meeting_id: int) -> int:
    """How many participants have a voting right (a COUNT: the casting path runs it per ballot)."""
    return session.execute(
        select(func.count()).select_from(Participant).where(
            Participant.meeting_id == meeting_id, Participant.can_vote.is_(True), Participant.role != "observer")
    ).scalar_one()


# meeting id -> (last_seq, entitled count): see entitled_cached.
_ENTITLED: dict[int, tuple[int, int]] = {}


def entitled_cached(session: Session, meeting_id: int, last_seq: int) -> int:
    """``entitled_count`` remembered per (meeting, last_seq).

    Every change of a live meeting's participants appends a meeting event (a new
    ``last_seq``), and polls open only in live meetings, so while the seq stays the
    same the count does too; any process that sees a new seq counts again.
    """
    known = _ENTITLED.get(meeting_id)
    if known is not None and known[0] == last_seq:
        return known[1]
    count = entitled_count(session, meeting_id)
    _ENTITLED[meeting_id] = (last_seq, count)
    return count


def is_present(session: Session, meeting_id: int, user_id: int) -> bool:
    """Whether one participant is marked present or remote in the roll call (one indexed query)."""
    return session.execute(
        select(Attendance.id).join(Participant, (Participant.meeting_id == Attendance.meeting_id)
                                   & (Participant.user_id == Attendance.user_id))
        .where(Attendance.meeting_id == meeting_id, Attendance.user_id == user_id,
               Attendance.status.in_(PRESENT_STATUSES))
    ).first() is not None


def voting_member(session: Session, meeting_id: int, user_id: int) -> Participant | None:
    """The participant row of ``user_id`` if they have a voting right in the meeting."""
    p = session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
    ).scalar_one_or_none()
    if p is None or not p.can_vote or p.role == "observer":
        return None
    return p


_LOCKED_TALLY = (select(PollTally).where(PollTally.poll_id == bindparam("poll_id")).with_for_update()
                 .execution_options(populate_existing=True))


def locked_tally(session: Session, poll_id: int) -> PollTally:
    """The poll's tally row, locked until commit (PostgreSQL; SQLite holds the write lock already).

    Read afresh even when the session already holds the row from an earlier transaction."""
    return session.execute(_LOCKED_TALLY, {"poll_id": poll_id}).scalar_one()


def add_to_tally(tally: PollTally, option_ids: list[int], weight: int, sign: int = 1) -> None:
    """Add (or with sign=-1 remove) one ballot's choice; a new dict so the JSON change is saved."""
    counts = dict(tally.counts or {})
    for oid in option_ids:
        counts[str(oid)] = counts.get(str(oid), 0) + sign * weight
    tally.counts = counts
    tally.ballots += sign
    tally.weight += sign * weight


def voter_ids(session: Session, poll_id: int) -> set[int]:
    """Who has a ballot in the poll (in person or by proxy)."""
    return set(session.execute(select(BallotCast.voter_id).where(BallotCast.poll_id == poll_id)).scalars())


def mark_for_scrub(session: Session, poll: Poll) -> None:
    """Scrub the tally table once this session's transaction (closing a secret poll) commits
    (``meetings.voting.cleanup`` does it, then releases the withheld result)."""
    if poll.secret:
        session.info.setdefault(SCRUB_KEY, set()).add(poll.id)


# Another connection still holds a snapshot taken before the poll's closing transaction
# committed (its oldest xmin or its own xid is not newer than the tally row's last version):
# VACUUM FULL would have to keep the row's old versions for it, and would say nothing.
_OLDER_SNAPSHOTS = text(
    "SELECT count(*) FROM pg_stat_activity a, poll_tallies t"
    " WHERE t.poll_id = :poll_id AND a.datname = current_database() AND a.pid <> pg_backend_pid()"
    " AND a.backend_type = 'client backend'"
    " AND greatest(age(a.backend_xmin), age(a.backend_xid)) >= age(t.xmin)")


def scrub_after_close(engine: Engine, poll_id: int) -> str | None:
    """Remove old versions of the poll's tally row left by the storage engine, without
    waiting for other connections; None when done, else why not (the caller retries).

    Run after the closing transaction committed. SQLite: the WAL file holds one
    page image per commit (so one tally version per ballot) until a checkpoint;
    TRUNCATE copies the pages back and empties the WAL, and it cannot while
    another connection reads an older snapshot: it is asked not to wait (busy
    timeout 0: SQLite's busy handler would stop the gevent loop) and answers
    "busy". PostgreSQL: every UPDATE leaves a dead tuple until VACUUM, and plain
    VACUUM does not overwrite the freed bytes; VACUUM FULL rewrites the (small)
    table into a new file, but silently keeps versions an older snapshot may
    still see, so those snapshots are looked for first (visible in
    pg_stat_activity for the server's own role, or with pg_read_all_stats). A
    short lock_timeout keeps it from stalling ballots of other polls.
    """
    try:
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
                try:
                    busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
                finally:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            return None if busy is not None and busy[0] == 0 else "another connection is reading (WAL checkpoint busy)"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            older = conn.execute(_OLDER_SNAPSHOTS, {"poll_id": poll_id}).scalar_one()
            if older:
                return f"{older} connection(s) hold a snapshot older than the close"
            conn.execute(text("SET lock_timeout = '500ms'"))
            try:
                conn.execute(text("VACUUM FULL poll_tallies"))
            finally:
                conn.execute(text("RESET lock_timeout"))
        return None
    except Exception as exc:  # reported to the caller, which logs it and retries
        return type(exc).__name__
