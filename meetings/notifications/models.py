"""The outbox and the browsers' push subscriptions."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow

CHANNELS = ("email", "sms", "push")
# pending: waits for its (next) attempt · sending: claimed by a consumer until lease_until ·
# sent · failed: refused for good (a bad address) · held: retried for too long, waits for an operator.
STATUSES = ("pending", "sending", "sent", "failed", "held")


class OutboxMessage(Base):
    """One message to one address through one channel, written with the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # E-mail address, phone number, or the push endpoint.
    address: Mapped[str] = mapped_column(String(1000))
    # What it is about, e.g. "invitation", "reminder.day_before" (for the console and the CLI).
    kind: Mapped[str] = mapped_column(String(60))
    # "{channel}:{caller's key}" (push: "…:{subscription id}"): the same message is never queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    subject: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    # [{"name", "mimetype", "base64"}]; an .ics part's mimetype carries its method.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (the tablet's service worker), for one user."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    # The browser's ECDH public key and auth secret (base64url), to encrypt the payload for it.
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
