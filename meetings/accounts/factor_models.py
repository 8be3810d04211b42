"""Second factors of an account: TOTP secrets, WebAuthn credentials, recovery codes.

Imported by ``meetings.accounts.models`` so every place that sees the users
table (create_all, Alembic's metadata, the tests) sees these too.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow

FACTOR_KINDS = ("totp", "webauthn")


class SecondFactor(Base):
    """One second factor of a user: an authenticator app (TOTP) or a WebAuthn credential (a passkey, a key).

    A TOTP factor is pending until its first code is confirmed (``confirmed_at``); only confirmed
    factors count at login.
    """

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # TOTP: the shared secret (base32) and the last time step accepted, so a code is good once.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    last_counter: Mapped[int | None] = mapped_column(Integer)
    # WebAuthn: the credential's id (base64url), its COSE public key and the authenticator's counter.
    credential_id: Mapped[str | None] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int | None] = mapped_column(Integer)
    # The sha256 of the last challenge answered with this credential: an assertion is good once.
    last_challenge: Mapped[str | None] = mapped_column(String(64))


class RecoveryCode(Base):
    """A one-time recovery code; only its argon2 hash is stored, like a password."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
