"""Users, passwords and bearer tokens: every write of the accounts domain.

Each write that a caller asks for over a transport takes the actor and checks
their permission itself (``meetings.accounts.policy``); the caller's commit
point commits. ``create_user`` and ``issue_token`` are the trusted paths
underneath, for the operator's CLI, the demo and test fixtures.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts import policy
from meetings.accounts.models import GLOBAL_ROLES, ApiToken, User
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from meetings.platform.audit import service as audit

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as a real one.
_DUMMY_HASH = _hasher.hash("not a password")

# What a user's PATCH may set directly (the password is hashed apart).
USER_FIELDS = ("full_name", "email", "locale", "global_role", "active")


def hash_password(password: str) -> str:
    """An argon2 hash of ``password``."""
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True when ``password`` is the user's; constant work for unknown users."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


# --------------------------------------------------------------------------- users

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
    """Create a user; the username must be new. The trusted path (CLI, demo,
    fixtures): no permission check, see ``add_user`` for a caller's request."""
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


def add_user(session: Session, actor: User, *, username: str, password: str, full_name: str,
             email: str | None = None, global_role: str | None = None) -> User:
    """An administrator creates a user."""
    if not policy.can_manage_users(actor):
        raise Forbidden("Only an administrator can create users.")
    return create_user(session, username, password, full_name, email=email, global_role=global_role,
                       actor_id=actor.id)


def update_user(session: Session, user: User, actor: User, **fields: Any) -> User:
    """Change a user: administrators change anyone; users change their own name,
    email, language and password."""
    if not policy.can_change_user(actor, user, fields):
        raise Forbidden("You may change only your own name, email, language and password.")
    for field in USER_FIELDS:
        if field in fields:
            setattr(user, field, fields[field])
    if "password" in fields:
        user.password_hash = hash_password(fields["password"])
    changed = sorted(k for k in fields if k != "password") + (["password"] if "password" in fields else [])
    audit.record(session, "user.updated", actor_id=actor.id, object_type="user",
                 object_id=user.id, details={"fields": changed})
    return user


def get_user(session: Session, user_id: int) -> User:
    """One user, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def all_users(session: Session) -> Sequence[User]:
    """Every user, by name (staff choose participants from this list)."""
    return session.execute(select(User).order_by(User.full_name)).scalars().all()


# --------------------------------------------------------------------------- logging in

def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if check_password(user, password) and user.active:
        return user
    return None


def log_in(session: Session, username: str, password: str) -> User | None:
    """A browser login: the user with these credentials (the login audited), or None."""
    user = authenticate(session, username, password)
    if user is not None:
        audit.record(session, "user.login", actor_id=user.id, object_type="user", object_id=user.id)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, ttl_hours: int, label: str | None = None) -> tuple[str, ApiToken]:
    """Create a bearer token for ``user`` (already authenticated); the clear token
    is returned once and never stored."""
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


def token_for_credentials(session: Session, username: str, password: str, *, ttl_hours: int,
                          label: str | None = None) -> tuple[str, ApiToken]:
    """Exchange a username and password for a bearer token; Unauthorized when they are wrong."""
    user = authenticate(session, username, password)
    if user is None:
        raise Unauthorized("Wrong username or password.", code="bad_credentials")
    return issue_token(session, user, ttl_hours, label)


def user_for_token(session: Session, clear: str) -> User | None:
    """The active user owning a live (unexpired, unrevoked) token, or None."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(clear))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row.user if row.user.active else None


def revoke_token(session: Session, clear: str) -> bool:
    """Revoke a token by its clear value; False when unknown or already revoked.

    No actor check: knowing the clear token is the right to use it, so also to end it."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(clear))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit.record(session, "token.revoked", actor_id=row.user_id, object_type="token", object_id=row.id)
    return True
