"""Group commit: the ballots that arrive together are written in one transaction.

A thousand delegates press their button within a second. Written one
transaction each, the ballots queue for the database's write lock (SQLite) or
the poll's tally row (PostgreSQL), and every commit waits for the disk: a few
hundred a second at best, and the last one waits seconds. Here each caller,
once its ballot is validated (``casting``, on the caller's own path), puts it in
the process's queue and waits:

* a caller that finds no leader becomes the leader: it sleeps the window
  (``BALLOT_GROUP_WINDOW_MS``, a few ms) so the ballots arriving meanwhile join,
  takes the queue (up to ``MAX_BATCH``), writes it in one session of its own
  (``ballot_box.write``: one tally update per poll, one audit entry per ballot),
  commits, and wakes every caller of the batch with its own answer or error;
* the ballots that arrived while it wrote form the next batch: the leader hands
  the lead to the first of them, which writes them at once (they have waited a
  window already). One writer per process at a time, so no lock convoy.

Nobody is acknowledged before the commit that stored their ballot; if the
commit fails, every ballot of the batch gets ``not_stored`` (503) and none is
stored. The broadcasts the batch queued (confirmations, progress, the tally, a
close) go out after that commit, by ``eventlog``'s hook on the batch's session.

The primitives are ``threading``'s: plain threads in tests and sync servers,
and gevent's own once the worker patched the standard library (the leader is
then a greenlet, ``time.sleep`` yields to the others).
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from meetings.core.db import has_written
from meetings.core.errors import Unavailable
from meetings.voting import ballot_box
from meetings.voting.ballot_box import PendingBallot

log = logging.getLogger(__name__)

DEFAULT_WINDOW_MS = 5.0
# A bound on one transaction: what arrives beyond it is the next batch, written right after.
MAX_BATCH = 500


class _Queue:
    """One engine's queue of ballots waiting for a batch, and whether some caller leads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: list[PendingBallot] = []
        self.leading = False


_QUEUES: weakref.WeakKeyDictionary[Engine, _Queue] = weakref.WeakKeyDictionary()
_QUEUES_LOCK = threading.Lock()


def _queue_of(engine: Engine) -> _Queue:
    with _QUEUES_LOCK:
        queue = _QUEUES.get(engine)
        if queue is None:
            queue = _QUEUES[engine] = _Queue()
        return queue


def window_seconds() -> float:
    """``BALLOT_GROUP_WINDOW_MS`` of the running app (docs/configuration.md), in seconds."""
    ms = current_app.config.get("BALLOT_GROUP_WINDOW_MS") if has_app_context() else None
    return max(0.0, float(DEFAULT_WINDOW_MS if ms is None else ms)) / 1000


def cast(session: Session, ballot: PendingBallot, *, grouped: bool = True) -> dict[str, Any]:
    """Store ``ballot`` and return its acknowledgement once committed; its refusal is raised.

    ``session`` is the caller's: its transaction only read (``casting``'s checks)
    and is ended here, so its connection goes back to the pool while the caller
    waits. A caller whose transaction has already written keeps its ballot in it
    (a batch of one, committed by the caller): a separate session would wait for
    that caller's own locks. ``grouped`` False writes the ballot alone, at once,
    in its own transaction (tests: concurrent writers meet in the database).
    """
    real = session() if isinstance(session, scoped_session) else session
    if has_written(real):
        ballot_box.write(real, [ballot])
    else:
        if real.in_transaction():
            real.commit()  # reads only: nothing to keep, and the batch must not wait for its snapshot
        engine = real.get_bind()
        if grouped:
            _wait_for_batch(engine, ballot)
        else:
            _write_committed(engine, [ballot])
    if ballot.error is not None:
        raise ballot.error
    if ballot.answer is None:  # cannot happen: every ballot of a batch is settled; never a silent "ok"
        raise Unavailable("The ballot could not be stored; cast it again.", code="not_stored")
    return ballot.answer


def _wait_for_batch(engine: Engine, ballot: PendingBallot) -> None:
    queue = _queue_of(engine)
    ballot.wake = threading.Event()
    with queue.lock:
        queue.waiting.append(ballot)
        lead = not queue.leading
        queue.leading = True
    pause = window_seconds()
    while True:
        if lead:
            _lead(queue, engine, pause)
        ballot.wake.wait()
        if ballot.settled:
            return
        # Handed the lead: our ballot is in the queue that built up while the last batch was written.
        ballot.wake.clear()
        ballot.lead, lead, pause = False, True, 0.0


def _lead(queue: _Queue, engine: Engine, pause: float) -> None:
    """Sleep the window, take the queue, write and commit it, settle every ballot; pass the lead on."""
    batch: list[PendingBallot] = []
    try:
        time.sleep(pause)  # gevent's sleep in the server: the other callers run and queue meanwhile
        with queue.lock:
            batch, queue.waiting = queue.waiting[:MAX_BATCH], queue.waiting[MAX_BATCH:]
        _write_committed(engine, batch)
    finally:
        for ballot in batch:
            ballot.settled = True
            ballot.wake.set()
        with queue.lock:
            if queue.waiting:
                nxt = queue.waiting[0]
                nxt.lead = True
                nxt.wake.set()
            else:
                queue.leading = False


def _write_committed(engine: Engine, batch: list[PendingBallot]) -> None:
    """Write ``batch`` in a session of its own and commit it; a failed commit fails every ballot."""
    if not batch:
        return
    try:
        with Session(bind=engine, expire_on_commit=False) as session:
            ballot_box.write(session, batch)
            session.commit()  # this unit of work's commit point: the batch, its audit entries, its broadcasts
    except Exception:
        log.exception("a batch of %d ballots could not be committed", len(batch))
        for ballot in batch:  # a refusal read in the lost transaction may no longer hold either
            ballot.refuse(Unavailable("The ballot could not be stored; cast it again.", code="not_stored"))
