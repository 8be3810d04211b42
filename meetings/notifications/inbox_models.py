"""In-app notifications (the tablet's bell) and the marks of reminders already fired."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow


class Notification(Base):
    """One line of a user's notification list: what happened, where to look, read or not."""

    __tablename__ = "notifications"
    # The bell asks "my unread ones, newest first" on every page.
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What it is about: "reminder", "deadline.poll", "document.published", "minutes.ready" …
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # A path on this server ("/meetings/3/room"), opened when the line is tapped.
    url: Mapped[str | None] = mapped_column(String(1000))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    # The same key as the outbox's rows of the same notice: a repeated cause adds no second line.
    dedupe_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReminderMark(Base):
    """A reminder that has fired (or was passed over): one row per meeting or deadline, offset and time.

    The key names the time it is about ("meeting:3:60:1799999999"), so a meeting moved to
    another time is reminded again, and two consumers running the same minute fire it once.
    """

    __tablename__ = "reminder_marks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
