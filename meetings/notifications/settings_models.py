"""Notification settings: a body's (reminder times, channels per kind) and a user's (channels, quiet hours).

No row means the defaults (``settings.py``); a row stores only what was chosen.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow


class BodyNotificationSettings(Base):
    """How a body reminds and alerts its meetings' participants."""

    __tablename__ = "body_notification_settings"

    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True)
    # Minutes before a meeting's start, e.g. [1440, 60]; None: the installation's default.
    reminder_offsets: Mapped[list[int] | None] = mapped_column(JSON)
    # Per deadline source, minutes before the deadline: {"poll": [2], "opinion": [1440]}.
    deadline_offsets: Mapped[dict[str, list[int]]] = mapped_column(JSON, default=dict)
    # Per kind of notice, the channels on: {"reminder": ["email", "sms", "push", "inapp"], …}.
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class UserNotificationSettings(Base):
    """Which channels reach one user, and the hours SMS and push wait for."""

    __tablename__ = "user_notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=True)
    push: Mapped[bool] = mapped_column(Boolean, default=True)
    inapp: Mapped[bool] = mapped_column(Boolean, default=True)
    # Quiet hours in the hall's time zone ("22:00" to "06:30"): SMS and push wait until they end.
    quiet_from: Mapped[str | None] = mapped_column(String(5))
    quiet_until: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    def channels(self) -> dict[str, Any]:
        """The four switches by channel name."""
        return {"email": self.email, "sms": self.sms, "push": self.push, "inapp": self.inapp}
