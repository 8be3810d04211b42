"""Invitations to a meeting, their replies, each meeting's calendar entry and each user's feed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow

REPLIES = ("pending", "attend", "decline", "proxy")


class MeetingCalendar(Base):
    """A published meeting as calendars know it: one stable UID and the SEQUENCE counter.

    The counter grows on every time or place change, on a withdrawal and on each
    cancellation sent to one person, so a calendar program always takes the newest message.
    ``sent_*`` keep the time and place last sent, to tell a real change from a rewrite.
    """

    __tablename__ = "meeting_calendars"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    # "meeting-{id}-{random}@{host}", fixed at the first publication and never recomputed.
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # True while the meeting is published (invitations stand); False after a withdrawal.
    active: Mapped[bool] = mapped_column(default=True)
    sent_starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_place: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Invitation(Base):
    """One participant's invitation to one meeting, and their answer."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The SEQUENCE of the last invitation, update or cancellation sent to this person.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    reply: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    proxy_holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The reply link's token is derived from the server's secret and this nonce (so every e-mail
    # carries the same link); only its sha256 is stored, to find the invitation by it.
    token_nonce: Mapped[str] = mapped_column(String(32))
    reply_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Set when the person was removed or the meeting withdrawn: the link answers nothing then.
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set while an invitation is owed but not composed yet (a group added at once: invitations_owed.py).
    owed_since: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CalendarFeed(Base):
    """A user's secret calendar-feed address (``/calendar/<token>.ics``); only its sha256 is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
