"""The meeting event log's table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow


class MeetingEvent(Base):
    """One event of a meeting, numbered by the meeting's ``seq``.

    Only events every participant of the meeting may see go into this log;
    private notices travel outside it (see docs/realtime.md).
    """

    __tablename__ = "meeting_events"
    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SocketRelay(Base):
    """A broadcast waiting to be sent by the web server (meetings/platform/realtime/relay.py).

    Written by a process that serves no sockets and has no message queue (the job consumer
    beside a single web process); the web server's relay emits each row to its room and
    deletes it. Nothing here is kept: a row lives for one poll of the relay.
    """

    __tablename__ = "socket_relay"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    room: Mapped[str] = mapped_column(String(120))
    event: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
