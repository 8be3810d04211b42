"""The unit of work of a task: its own session, committed when the work is done.

Tasks run outside any request (in the consumer, or right after a commit in immediate mode),
so they never borrow the request's scoped session: each unit opens a session of its own on
the application's engine, commits if the block succeeds and rolls back if it raises.
The session's after-commit hooks (event log broadcasts, the outbox's enqueueing) run as usual.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from meetings.core.extensions import db


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A session of its own; committed at the end of the block, rolled back on an error."""
    session = Session(bind=db.engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
