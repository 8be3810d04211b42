"""Read receipts: which participants opened which document, first and last time.

Recorded when the document's file is served (GET /api/v1/documents/{id}/file
calls :func:`record_document_view`); shown to those who run the meeting.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.annotations.models import DocumentView
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.documents.models import Document

log = logging.getLogger(__name__)


# Opening a PDF in a viewer fetches it in many Range requests: they count as one opening.
REOPEN_AFTER = timedelta(minutes=10)
# A viewer's burst of Range requests needs one write, not one per request: within this
# many seconds of the last recorded request, this process does not write again.
_RECORD_EVERY_S = 60.0
_recently_recorded: dict[tuple[int, int], float] = {}


def record_document_view(session: Session, document: Document, user: User, *, commit: bool = True) -> None:
    """Note that ``user`` opened ``document``: first and last time, and how many separate
    openings (requests closer than REOPEN_AFTER count once). An upsert, so a tablet and a
    laptop opening it at the same moment make one row.

    Called from the file download route, a read path with nothing else to write: it
    commits by itself (``commit=False`` leaves that to the caller), and a failure to
    record is logged, never a reason to refuse the file."""
    key = (document.id, user.id)
    now_s = time.monotonic()
    if now_s - _recently_recorded.get(key, float("-inf")) < _RECORD_EVERY_S:
        return  # the last time is at most a minute old; REOPEN_AFTER is ten
    if len(_recently_recorded) > 50_000:
        _recently_recorded.clear()
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    stmt = insert(DocumentView).values(document_id=document.id, user_id=user.id, first_opened_at=now,
                                       last_opened_at=now, open_count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["document_id", "user_id"],
        set_={"last_opened_at": now,
              "open_count": case((DocumentView.last_opened_at < now - REOPEN_AFTER, DocumentView.open_count + 1),
                                 else_=DocumentView.open_count)},
    )
    try:
        session.execute(stmt)
        if commit:
            session.commit()
        _recently_recorded[key] = now_s
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not record that user %s opened document %s", user.id, document.id)


def read_receipts(session: Session, meeting: Meeting) -> list[dict[str, Any]]:
    """Per document of the meeting, per participant: opened or not, first/last time, count."""
    from meetings.annotations.service import iso

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
                         "opened": v is not None, "first_opened_at": iso(v.first_opened_at) if v else None,
                         "last_opened_at": iso(v.last_opened_at) if v else None,
                         "open_count": v.open_count if v else 0})
        out.append({"document_id": doc.id, "title": doc.title, "version": doc.version,
                    "is_current": doc.is_current, "opened_count": sum(r["opened"] for r in rows),
                    "participants": rows})
    return out
