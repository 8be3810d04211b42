"""Users, passwords and bearer tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import GLOBAL_ROLES, ApiToken, User
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid
from meetings.platform.audit import service as audit

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as a real one.
_DUMMY_HASH = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True when ``password`` is the user's; constant work for unknown users."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    username: str,
    password: str,
    full_name: str,
    *,
    email: str | None = None,
    global_role: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Create a user; the username must be new."""
    username = username.strip()
    if not username or len(username) > 80:
        raise Invalid("Username must be 1 to 80 characters.")
    if len(password) < 4:
        raise Invalid("Password must have at least 4 characters.")
    if global_role not in (None, *GLOBAL_ROLES):
        raise Invalid(f"Unknown global role {global_role!r}.")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"User {username!r} already exists.")
    user = User(
        username=username,
        full_name=full_name.strip() or username,
        email=email,
        password_hash=hash_password(password),
        global_role=global_role,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor_id=actor_id, object_type="user",
                 object_id=user.id, details={"username": username, "global_role": global_role})
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if check_password(user, password) and user.active:
        return user
    return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, ttl_hours: int, label: str | None = None) -> tuple[str, ApiToken]:
    """Create a bearer token; the clear token is returned once and never stored."""
    clear = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_digest(clear),
        label=label,
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    session.add(row)
    session.flush()
    audit.record(session, "token.issued", actor_id=user.id, object_type="token", object_id=row.id)
    return clear, row


def user_for_token(session: Session, clear: str) -> User | None:
    """The active user owning a live (unexpired, unrevoked) token, or None."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(clear))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= datetime.now(UTC):
        return None
    return row.user if row.user.active else None


def revoke_token(session: Session, clear: str) -> bool:
    """Revoke a token by its clear value; False when unknown or already revoked."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(clear))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit.record(session, "token.revoked", actor_id=row.user_id, object_type="token", object_id=row.id)
    return True
