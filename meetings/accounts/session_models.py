"""Server-side sessions: one row per browser login, the sockets open on each
credential, and the failed-login counter of each account.

A browser's cookie carries only a random session id (its sha256 is stored, as
for bearer tokens), so ending the row ends the cookie wherever it was copied.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow


class UserSession(Base):
    """One browser login (a device), alive until logged out, ended, idle or too old."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # logout | signed_out (a device list) | revoked (everywhere) | password | deactivated
    end_reason: Mapped[str | None] = mapped_column(String(20))


class SocketConnection(Base):
    """An open socket and the credential it connected with, so ending the credential
    can disconnect it from any process (the sid reaches the others through the
    message queue). Rows of sockets closed normally are pruned at the next connect."""

    __tablename__ = "socket_connections"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # "session-<id>" or "token-<id>" (meetings.accounts.sessions.credential_key)
    credential: Mapped[str] = mapped_column(String(40))
    node: Mapped[str] = mapped_column(String(120))
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoginThrottle(Base):
    """Failed logins of one account name (known or not, so the answer tells nothing),
    and until when it is locked (meetings.accounts.lockout)."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
