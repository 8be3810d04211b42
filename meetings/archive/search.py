"""Searching published minutes: by body, date range, title and full text.

The minutes' text is extracted when they are finalized and stored casefolded
and once more without Vietnamese diacritics (``meetings.minutes.search_text``),
so "ke hoach" finds "Kế hoạch" and "KẾ HOẠCH" alike, on SQLite and PostgreSQL
the same way (plain LIKE, no database-specific text search).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.archive.policy import searchable_meetings
from meetings.bodies.models import Body, Meeting
from meetings.minutes.models import Minutes
from meetings.minutes.search_text import strip_marks

MAX_PER_PAGE = 100


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass
class ArchiveQuery:
    body_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    title: str | None = None
    text: str | None = None
    page: int = 1
    per_page: int = 20


def search(session: Session, user: User, q: ArchiveQuery) -> dict[str, Any]:
    """One page of published minutes matching ``q``, newest meeting first, with the total count.

    Only of the meetings ``user`` may see (``meetings.archive.policy.searchable_meetings``: the pages'
    rule, archivists within their clearance)."""
    where = [Minutes.status == "published", Meeting.id.in_(searchable_meetings(user))]
    if q.body_id is not None:
        where.append(Meeting.body_id == q.body_id)
    if q.date_from is not None:
        where.append(Meeting.starts_at >= datetime.combine(q.date_from, time.min))
    if q.date_to is not None:
        where.append(Meeting.starts_at < datetime.combine(q.date_to + timedelta(days=1), time.min))
    # Every word must match; a word typed without diacritics matches the diacritic-free twin.
    for column, terms in ((Minutes.search_title, q.title), (Minutes.search_text, q.text)):
        for word in unicodedata.normalize("NFC", terms or "").casefold().split()[:10]:
            where.append(column.like(_like(word), escape="\\"))
    base = (select(Minutes, Meeting, Body).join(Meeting, Meeting.id == Minutes.meeting_id)
            .join(Body, Body.id == Meeting.body_id).where(and_(*where)))
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    per_page = max(1, min(q.per_page, MAX_PER_PAGE))
    rows = session.execute(base.order_by(Meeting.starts_at.desc(), Minutes.version.desc())
                           .offset((max(q.page, 1) - 1) * per_page).limit(per_page)).all()
    return {"total": total, "page": max(q.page, 1), "per_page": per_page,
            "results": [_result(m, meeting, body, q.text) for m, meeting, body in rows]}


def _snippet(full_text: str | None, text: str | None) -> str | None:
    """Some words around the first place the query (as typed, else without diacritics) occurs."""
    if not full_text or not text or not text.split():
        return None
    phrase = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    hay = " ".join(full_text.split())
    at = hay.casefold().find(phrase)
    if at < 0:
        at = strip_marks(hay.casefold()).find(strip_marks(phrase))  # same length for Vietnamese NFC text
    if at < 0:
        at = hay.casefold().find(phrase.split()[0])
    if at < 0:
        return None
    start = max(0, at - 80)
    return hay[start:at + len(phrase) + 80]


def _result(m: Minutes, meeting: Meeting, body: Body, text: str | None) -> dict[str, Any]:
    return {
        "minutes_id": m.id, "version": m.version, "meeting_id": meeting.id, "meeting_title": meeting.title,
        "body_id": body.id, "body_name": body.name, "starts_at": meeting.starts_at, "place": meeting.place,
        "number": m.number, "published_at": m.published_at, "sha256": m.sha256, "page_count": m.page_count,
        "signers": [s.signer_name for s in m.signatures],
        "file_url": f"/api/v1/minutes/{m.id}/file", "bundle_url": f"/api/v1/meetings/{meeting.id}/bundle",
        "snippet": _snippet(m.full_text, text),
    }
