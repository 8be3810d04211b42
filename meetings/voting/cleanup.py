"""After a secret poll closes: erase the tally's history, then release the withheld result.

Closing a secret poll (``closing.close``) leaves it ``closing``: no ballot is
taken any more, the outcome is stored, but nobody sees it yet. Once the
closing transaction has committed, :func:`finish` asks the storage engine to
drop the tally row's earlier versions (``tally.scrub_after_close``: SQLite's WAL
checkpoint, PostgreSQL's VACUUM FULL) and, when that worked, releases the
result (``closing.release``: ``closed``, told to those who run the meeting, or
published) in a unit of work of its own.

The scrub cannot complete while another connection reads an older snapshot (a
long report, a backup, a console left in a transaction). Then the poll stays
``closing``, an error naming the poll is logged, and a background retrier tries
again with back-off (RETRY_DELAYS); after the last attempt it says so and the
next read of the poll (``expiry.settle``, every GET path) starts it again, also
after a restart. Nothing here waits on the gevent loop: the scrub never waits
for a lock, and the retrier sleeps cooperatively (``time.sleep``, patched).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from meetings.voting import closing, tally
from meetings.voting.models import Poll

log = logging.getLogger(__name__)

# Quick attempts right after the close (a reader that is just finishing), in seconds.
QUICK_DELAYS = (0.02, 0.05, 0.1)
# Then the background retrier's waits before each further attempt (about 4 minutes in all).
RETRY_DELAYS = (0.5, 1, 2, 4, 8, 15, 30, 60, 60, 60)
# (engine, poll id) pairs a retrier of this process is working on.
_RETRYING: set[tuple[int, int]] = set()
_RETRYING_LOCK = threading.Lock()


def finish(engine: Engine, poll_id: int, delays: Iterable[float] = QUICK_DELAYS) -> bool:
    """Scrub the poll's tally history and release its result; True when both are done.

    Tries once, then once after each of ``delays`` (cooperative sleeps). A poll
    that is no longer ``closing`` counts as done.
    """
    why = None
    for delay in (0, *delays):
        time.sleep(delay)
        if _status(engine, poll_id) != "closing":
            return True
        why = tally.scrub_after_close(engine, poll_id)
        if why is None:
            return _release(engine, poll_id)
    log.error("secret poll %s: could not scrub the tally's earlier states (%s); its result is withheld "
              "(status 'closing') until this succeeds", poll_id, why)
    return False


def finish_or_retry(engine: Engine, poll_id: int) -> bool:
    """:func:`finish`, and if it failed, a background retrier for the poll (unless one runs).

    Never raises: it runs after a commit that stands whatever happens here."""
    try:
        if finish(engine, poll_id):
            return True
    except Exception:
        log.exception("secret poll %s: the scrub or the release of its result failed; retrying", poll_id)
    retry_in_background(engine, poll_id)
    return False


def retry_in_background(engine: Engine, poll_id: int) -> None:
    """Start this process's retrier for a ``closing`` poll, unless one is already at it."""
    key = (id(engine), poll_id)
    with _RETRYING_LOCK:
        if key in _RETRYING:
            return
        _RETRYING.add(key)
    # A thread is a greenlet in the gevent worker (threading is patched), a thread in tests and the CLI.
    threading.Thread(target=_retry, args=(engine, poll_id, key), name=f"scrub-poll-{poll_id}", daemon=True).start()


def _retry(engine: Engine, poll_id: int, key: tuple[int, int]) -> None:
    try:
        for attempt, delay in enumerate(RETRY_DELAYS, 1):
            time.sleep(delay)
            try:
                if finish(engine, poll_id, delays=()):
                    log.warning("secret poll %s: tally scrubbed on retry %d; result released", poll_id, attempt)
                    return
            except Exception:  # keep retrying: a database that is briefly down is no reason to stop
                log.exception("secret poll %s: retry %d of the scrub failed", poll_id, attempt)
        log.error("secret poll %s: gave up scrubbing after %d retries; the result stays withheld, and the next "
                  "read of the poll tries again (or run the scrub by hand: docs/realtime.md)",
                  poll_id, len(RETRY_DELAYS))
    finally:
        with _RETRYING_LOCK:
            _RETRYING.discard(key)


def retry_withheld(session: Session, polls: Iterable[Poll]) -> None:
    """The next opportunity: a read that meets a ``closing`` poll starts its retrier (once)."""
    engine = session.get_bind()
    for poll in polls:
        if poll.status == "closing":
            retry_in_background(engine, poll.id)


def _status(engine: Engine, poll_id: int) -> str | None:
    with Session(bind=engine) as own:
        poll = own.get(Poll, poll_id)
        return poll.status if poll is not None else None


def _release(engine: Engine, poll_id: int) -> bool:
    """closing → closed in a unit of work of its own (a commit point); False if another process did it."""
    with Session(bind=engine, expire_on_commit=False) as own:
        poll = own.get(Poll, poll_id, with_for_update=True)
        if poll is None or poll.status != "closing":
            return True
        closing.release(own, poll)
        own.commit()  # this unit of work's commit point: the released result and its broadcasts
    return True


# After the closing transaction committed (never before: the checkpoint must include it).
# Registered after the event log's own after_commit hook (closing imports eventlog first),
# so "poll.closing" goes out before the "poll.closed" that releasing the result sends.
@event.listens_for(Session, "after_commit")
def _scrub_after_commit(session: Session) -> None:
    for poll_id in sorted(session.info.pop(tally.SCRUB_KEY, ())):
        finish_or_retry(session.get_bind(), poll_id)


@event.listens_for(Session, "after_rollback")
def _no_scrub_after_rollback(session: Session) -> None:
    session.info.pop(tally.SCRUB_KEY, None)
