"""Polls past their time limit, and counts to resume: each in its own short unit of work, never a reader's.

A poll with a time limit must read as closed, with its result, and the close
must have been broadcast, by the time anyone reads it or casts a ballot in it.
Nothing wakes up at the deadline; instead the first read or ballot after it
hands the close to :func:`close_due`, which opens a separate session, runs the
close, and commits it (a background commit point, like a job's). The reader's
own transaction stays read-only: a GET never writes.

Why not a timer greenlet per poll: it would be lost on restart and need a
sweeper anyway, and tests (and clocks) that move a deadline into the past
expect the next read to see the poll closed.

The same hook resumes a secret poll's count: a ``counting`` poll that has k
partial decryptions stored but no result (``counting.needs_combining``) is
combined by the next read of it, in a unit of work of its own (:func:`combine_due`).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session, scoped_session

from meetings.core.db import has_written
from meetings.voting import closing, counting, tally
from meetings.voting.models import Poll, PollTally


def close_due(session: Session, poll_id: int) -> bool:
    """Close ``poll_id`` if its time limit has passed, in a session of its own that commits.

    True when this call closed it. Concurrent callers queue on the tally row: the
    first claims and closes it, the others find it sealed and do nothing.
    """
    with Session(bind=session.get_bind(), expire_on_commit=False) as own:
        # Writing first takes SQLite's write lock (waiting like any writer) and, on
        # PostgreSQL, the tally row's lock, before anything is read.
        claimed = own.execute(
            update(PollTally).where(PollTally.poll_id == poll_id, PollTally.sealed.is_(False))
            .values(sealed=False).execution_options(synchronize_session=False)).rowcount
        poll = own.get(Poll, poll_id) if claimed else None
        if poll is None or not closing.is_expired(poll):
            own.rollback()
            return False
        closing.close(own, poll, None)
        own.commit()  # this unit of work's commit point: the close, its audit entry and its broadcasts
    return True


def combine_due(session: Session, poll_id: int) -> bool:
    """Combine a counting poll's stored partials into its result, in a session of its own that commits.

    True when this call produced the result; concurrent callers queue on the tally row."""
    with Session(bind=session.get_bind(), expire_on_commit=False) as own:
        tally.locked_tally(own, poll_id)
        poll = own.get(Poll, poll_id)
        if poll is None or not counting.combine(own, poll):
            own.rollback()
            return False
        own.commit()  # this unit of work's commit point: the result, its audit entry and its broadcasts
    return True


def settle(session: Session, polls: Iterable[Poll]) -> bool:
    """Close those of ``polls`` whose time limit passed, so that ``session`` reads them closed.

    The caller's session has read the polls: when it has written nothing, each close
    runs in its own unit of work (:func:`close_due`) and the caller's read-only
    transaction is ended (rolled back: it holds nothing) so that its next reads see
    the closes. When the caller is already writing, the close joins its transaction
    (a second session could not write beside it) and is committed with it.
    True when any poll was due. A counting poll with k partials and no result is combined
    the same way (see :func:`combine_due`).
    """
    polls = list(polls)
    due = [p for p in polls if closing.is_expired(p)]
    to_combine = [p for p in polls if counting.needs_combining(session, p)]
    if not due and not to_combine:
        return False
    real = session() if isinstance(session, scoped_session) else session
    if has_written(real):
        for poll in due:
            closing.close(real, poll, None)
        for poll in to_combine:
            tally.locked_tally(real, poll.id)
            counting.combine(real, poll)
        return True
    for poll in due:
        close_due(real, poll.id)
    for poll in to_combine:
        combine_due(real, poll.id)
    real.rollback()  # expires what it loaded: the polls read afresh, closed
    return True

