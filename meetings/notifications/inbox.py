"""The in-app notification list: what the bell shows, its unread count, read marks.

A line is written in the transaction of its cause; ``notification.new`` goes to the user's
devices after that commit (``eventlog.notify``), and ``notification.read`` tells the user's
other devices when lines were read, so every badge shows the same count. A notice written by
the job consumer reaches the sockets of the web server only through a shared message queue
(``SOCKETIO_MESSAGE_QUEUE``); without one the bell finds it on its next look (it looks again
every minute and whenever its socket reconnects).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.core.errors import NotFound
from meetings.notifications.inbox_models import Notification, ReminderMark
from meetings.platform.realtime import eventlog

PAGE = 50


def present(n: Notification) -> dict[str, Any]:
    """The wire form of a line (REST and ``notification.new``)."""
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
            "meeting_id": n.meeting_id, "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None}


def unread_count(session: Session, user_id: int) -> int:
    """How many of the user's lines are unread."""
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def add(session: Session, *, user_id: int, kind: str, title: str, body: str = "", url: str | None = None,
        meeting_id: int | None = None, dedupe_key: str | None = None) -> Notification | None:
    """Write a line for the user (None if ``dedupe_key`` was written already); announced after commit."""
    if dedupe_key and session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)):
        return None
    row = Notification(user_id=user_id, kind=kind, title=title[:300], body=body, url=url, meeting_id=meeting_id,
                       dedupe_key=dedupe_key, created_at=utcnow())
    try:
        with session.begin_nested():  # a concurrent writer of the same key leaves this transaction intact
            session.add(row)
            session.flush([row])
    except IntegrityError:
        return None
    eventlog.notify(session, user_id, "notification.new",
                    {"notification": present(row), "unread": unread_count(session, user_id)})
    return row


def list_for(session: Session, user_id: int, *, unread_only: bool = False, before: int | None = None,
             limit: int = PAGE) -> dict[str, Any]:
    """The user's lines, newest first (``before``: older than that id, for the next page)."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before:
        stmt = stmt.where(Notification.id < before)
    rows = session.scalars(stmt.order_by(Notification.id.desc()).limit(max(1, min(limit, PAGE)))).all()
    return {"items": [present(n) for n in rows], "unread": unread_count(session, user_id)}


def mark_read(session: Session, user_id: int, notification_id: int) -> dict[str, Any]:
    """Mark one of the user's lines read (404 for anyone else's)."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = utcnow()
        session.flush()
        _announce_read(session, user_id, [row.id])
    return present(row)


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread line of the user read; answers how many."""
    now = utcnow()
    ids = session.scalars(select(Notification.id).where(Notification.user_id == user_id,
                                                        Notification.read_at.is_(None))).all()
    if ids:
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(read_at=now)
                        .execution_options(synchronize_session=False))
        _announce_read(session, user_id, list(ids))
    return len(ids)


def _announce_read(session: Session, user_id: int, ids: list[int]) -> None:
    eventlog.notify(session, user_id, "notification.read", {"ids": ids, "unread": unread_count(session, user_id)})


def clean_up(session: Session, now: datetime, *, keep_days: int) -> int:
    """Forget read lines and reminder marks older than ``keep_days``; answers how many lines went."""
    limit = now - timedelta(days=keep_days)
    gone = session.execute(delete(Notification).where(Notification.read_at.is_not(None),
                                                      Notification.created_at < limit)
                           .execution_options(synchronize_session=False)).rowcount
    session.execute(delete(ReminderMark).where(ReminderMark.created_at < limit)
                    .execution_options(synchronize_session=False))
    return gone or 0
