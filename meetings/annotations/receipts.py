"""Read receipts: which participants opened which document, first and last time.

Serving a document's file is a GET, and a GET never writes. So an opening is
only *queued* here, in this process's memory (:func:`queue_opening`, called by
the ``document_opened`` receiver), and written later, in batches, by
:func:`flush` in its own session and transaction:

* the request that served the file flushes once it is over, after its own
  (read-only) transaction has ended (``platform.http.commit.afterwards``):
  a separate unit of work, so a receipt reaches the database within
  milliseconds of the download, and never in the download's transaction;
* the read-receipts report flushes first, so those who run the meeting see
  every opening this process has served;
* openings the database refused (it was unreachable) stay queued for the
  next flush.

The once-a-minute memo keeps it to one write per viewer and document a
minute, however many Range requests a viewer makes. Openings queued but not
yet written are lost if the process dies: a receipt is a courtesy to the
secretariat, not a record (the audit log is that).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context
from sqlalchemy import case, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, object_session

from meetings.accounts.models import User
from meetings.annotations.models import DocumentView
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_run, visible_meeting
from meetings.core.db import end_read_only_transaction, utcnow
from meetings.core.errors import Forbidden
from meetings.documents.models import Document
from meetings.platform.http.commit import afterwards

log = logging.getLogger(__name__)

# Opening a PDF in a viewer fetches it in many Range requests: they count as one opening.
REOPEN_AFTER = timedelta(minutes=10)
# A viewer's burst of Range requests needs one write, not one per request: within this
# many seconds of the last queued request, this process does not queue again.
_RECORD_EVERY_S = 60.0
_recently_recorded: dict[tuple[int, int], float] = {}
# Beyond this many waiting openings (a database down for long), the oldest are dropped.
MAX_PENDING = 50_000


@dataclass(frozen=True)
class Opening:
    """One queued opening: who opened what, when, and in which database."""

    engine: Engine
    document_id: int
    user_id: int
    at: datetime


_lock = threading.Lock()
_pending: list[Opening] = []


def queue_opening(document: Document, user: User) -> None:
    """Note that ``user`` opened ``document``; written by the next :func:`flush`.

    Deduplicated per (document, user): requests closer than a minute queue once
    (REOPEN_AFTER is ten, so no opening is missed). Writes nothing now: the
    flush runs when the current request is over."""
    key = (document.id, user.id)
    now_s = time.monotonic()
    if now_s - _recently_recorded.get(key, float("-inf")) < _RECORD_EVERY_S:
        return  # the last time is at most a minute old
    if len(_recently_recorded) > 50_000:
        _recently_recorded.clear()
    _recently_recorded[key] = now_s
    opening = Opening(object_session(document).get_bind(), document.id, user.id, utcnow())
    with _lock:
        _pending.append(opening)
        del _pending[:-MAX_PENDING]
    if has_request_context():
        afterwards(flush)


def flush(session_factory: Callable[[Engine], Session] | None = None) -> int:
    """Write every queued opening, in its own session and transaction per database;
    returns how many were written. ``session_factory(engine)`` makes that session
    (default ``Session(engine)``). When the database is unreachable the openings go
    back to the queue for a later flush; one whose document or user was deleted
    meanwhile is dropped. Either is logged."""
    with _lock:
        batch = list(_pending)
        _pending.clear()
    written = 0
    for engine in dict.fromkeys(o.engine for o in batch):
        openings = [o for o in batch if o.engine is engine]
        try:
            written += _write(engine, openings, session_factory or Session)
        except SQLAlchemyError:  # one bad row spoils the batch: find it, one at a time
            for opening in openings:
                try:
                    written += _write(engine, [opening], session_factory or Session)
                except IntegrityError:
                    log.info("read receipt dropped: document %s or user %s is gone",
                             opening.document_id, opening.user_id)
                except SQLAlchemyError:
                    log.exception("could not write a read receipt; kept for a later flush")
                    _requeue([opening])
    return written


def _write(engine: Engine, openings: list[Opening], session_factory: Callable[[Engine], Session]) -> int:
    with session_factory(engine) as session:
        for opening in openings:
            session.execute(_upsert(session, opening))
        # The flush is a unit of work of its own, run by no request or socket event:
        # it is its own commit point, as a background job's is.
        session.commit()
    return len(openings)


def _requeue(openings: list[Opening]) -> None:
    with _lock:
        _pending[:0] = openings
        del _pending[:-MAX_PENDING]


def _upsert(session: Session, opening: Opening) -> Any:
    """First and last time, and how many separate openings (closer than REOPEN_AFTER count
    once). An upsert, so a tablet and a laptop opening it at the same moment make one row."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    at = opening.at
    stmt = insert(DocumentView).values(document_id=opening.document_id, user_id=opening.user_id,
                                       first_opened_at=at, last_opened_at=at, open_count=1)
    return stmt.on_conflict_do_update(
        index_elements=["document_id", "user_id"],
        set_={"last_opened_at": at,
              "open_count": case((DocumentView.last_opened_at < at - REOPEN_AFTER, DocumentView.open_count + 1),
                                 else_=DocumentView.open_count)},
    )


def reset() -> None:
    """Forget every queued opening and the once-a-minute memo (tests: emptied tables)."""
    with _lock:
        _pending.clear()
    _recently_recorded.clear()


def read_receipts(session: Session, meeting_id: int, user: User) -> list[dict[str, Any]]:
    """Per document of the meeting, per participant: opened or not, first/last time, count.
    For those who run the meeting (others who see it: 403). Flushes the queue first (in its
    own transaction), so every opening this process served is in the report."""
    meeting = visible_meeting(session, meeting_id, user)
    if not can_run(meeting, user):
        raise Forbidden("Only the chair and the secretariat see read receipts.")
    flush()
    end_read_only_transaction(session)  # read from a snapshot that includes the flush (SQLite)
    return _report(session, meeting)


def _report(session: Session, meeting: Meeting) -> list[dict[str, Any]]:
    docs = session.execute(select(Document).where(Document.meeting_id == meeting.id)
                           .order_by(Document.id)).scalars().all()
    views = {(v.document_id, v.user_id): v for v in session.execute(
        select(DocumentView).where(DocumentView.document_id.in_([d.id for d in docs] or [-1]))).scalars()}
    people = sorted(meeting.participants, key=lambda p: (p.user.full_name, p.user_id))
    out = []
    for doc in docs:
        rows = []
        for p in people:
            v = views.get((doc.id, p.user_id))
            rows.append({"user_id": p.user_id, "full_name": p.user.full_name, "role": p.role,
                         "opened": v is not None,
                         "first_opened_at": v.first_opened_at.isoformat() if v else None,
                         "last_opened_at": v.last_opened_at.isoformat() if v else None,
                         "open_count": v.open_count if v else 0})
        out.append({"document_id": doc.id, "title": doc.title, "version": doc.version,
                    "is_current": doc.is_current, "opened_count": sum(r["opened"] for r in rows),
                    "participants": rows})
    return out
