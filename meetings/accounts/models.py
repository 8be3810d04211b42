"""Users and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.core.db import Base, UtcDateTime, utcnow

GLOBAL_ROLES = ("admin", "archivist")
# Clearance levels, lowest first: the meeting confidentiality levels of bodies.models.CONFIDENTIALITY
# (accounts sits below bodies, so it keeps its own copy; tests/test_export_visibility.py checks they agree).
CLEARANCES = ("normal", "internal", "confidential", "secret", "top_secret")
DEFAULT_CLEARANCE = "internal"


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    # For SMS reminders (meetings/notifications/channels/sms.py); as the gateway expects it, e.g. 84912345678.
    phone: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Global role: None for ordinary users; meeting roles live on Participant.
    global_role: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The highest meeting confidentiality an archivist may read (meetings.accounts.policy.is_cleared);
    # admins see everything and participants see their own meetings whatever it says.
    clearance: Mapped[str] = mapped_column(String(20), default=DEFAULT_CLEARANCE, server_default=DEFAULT_CLEARANCE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_admin(self) -> bool:
        return self.global_role == "admin"

    @property
    def is_archivist(self) -> bool:
        return self.global_role == "archivist"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)


class ApiToken(Base):
    """A bearer token; only its sha256 is stored, so a database leak reveals none."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The device list (meetings.accounts.sessions): when and from where the token was last used;
    # an unused token is idle from its creation.
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip_address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="tokens")
