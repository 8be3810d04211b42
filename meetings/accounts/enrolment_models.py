"""Enrolment links: a one-time link (shown as a QR code) that signs one tablet in as one user.

Only the sha256 of the link's secret is stored, as for sessions and tokens, so
a database leak enrols nothing. A link is good once (``used_at``, and the
``device`` key of the browser session it started), until ``expires_at``, and
until revoked. accounts knows only users: ``context`` ("meeting-12") and
``next_path`` are set by the domain that issued the link (bodies), which reads
them back; accounts never interprets them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow


class EnrolmentLink(Base):
    __tablename__ = "enrolment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who issued it, and for what (e.g. "meeting-12"): the device list and the audit say so.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    context: Mapped[str | None] = mapped_column(String(40), index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    next_path: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The credential key (``session-<id>``) of the tablet's browser session.
    device: Mapped[str | None] = mapped_column(String(40))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
