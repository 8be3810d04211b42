"""Users, passwords and bearer tokens: every write of the accounts domain.

Each write that a caller asks for over a transport takes the actor and checks
their permission itself (``meetings.accounts.policy``); the caller's commit
point commits. ``create_user`` and ``issue_token`` are the trusted paths
underneath, for the operator's CLI, the demo and test fixtures.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from meetings.accounts import hashing, lockout, passwords, policy, sessions
from meetings.accounts.models import CLEARANCES, DEFAULT_CLEARANCE, GLOBAL_ROLES, ApiToken, User
from meetings.core.db import end_read_only_transaction, utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from meetings.platform.audit import service as audit

# What a user's PATCH may set directly (the password is hashed apart).
USER_FIELDS = ("full_name", "email", "phone", "locale", "global_role", "active", "clearance")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (made off the event loop, ``accounts.hashing``)."""
    return hashing.hash_secret(password)


def check_password(user: User | None, password: str, *, session: Session | None = None) -> bool:
    """True when ``password`` is the user's; the same work for unknown users (off the event loop).

    With ``session``, its transaction ends first on SQLite if it has only read: other requests run
    during the verification, and a read snapshot older than their commits could not write after it."""
    if session is not None:
        end_read_only_transaction(session)
    if user is None:
        return hashing.verify_nothing(password)
    return hashing.verify_secret(user.password_hash, password)


# --------------------------------------------------------------------------- users

def create_user(
    session: Session,
    username: str,
    password: str,
    full_name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    global_role: str | None = None,
    clearance: str = DEFAULT_CLEARANCE,
    actor_id: int | None = None,
    enforce_policy: bool = True,
) -> User:
    """Create a user; the username must be new. The trusted path (CLI, demo,
    fixtures): no permission check, see ``add_user`` for a caller's request.
    The password policy applies unless ``enforce_policy=False`` (only the demo's
    public password "demo" is let through that way)."""
    username = username.strip()
    if not username or len(username) > 80:
        raise Invalid("Username must be 1 to 80 characters.")
    if enforce_policy:
        passwords.check(password, username=username, full_name=full_name, email=email)
    elif not password:
        raise Invalid("A password is needed.")
    if global_role not in (None, *GLOBAL_ROLES):
        raise Invalid(f"Unknown global role {global_role!r}.")
    if clearance not in CLEARANCES:
        raise Invalid(f"Unknown clearance {clearance!r}.")
    hashed = hash_password(password)  # before the first read: other requests run while it is made
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"User {username!r} already exists.")
    user = User(
        username=username,
        full_name=full_name.strip() or username,
        email=email,
        phone=phone,
        password_hash=hashed,
        global_role=global_role,
        clearance=clearance,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor_id=actor_id, object_type="user",
                 object_id=user.id, details={"username": username, "global_role": global_role})
    return user


def add_user(session: Session, actor: User, *, username: str, password: str, full_name: str,
             email: str | None = None, global_role: str | None = None,
             clearance: str = DEFAULT_CLEARANCE, phone: str | None = None) -> User:
    """An administrator creates a user."""
    if not policy.can_manage_users(actor):
        raise Forbidden("Only an administrator can create users.")
    return create_user(session, username, password, full_name, email=email, phone=phone, global_role=global_role,
                       clearance=clearance, actor_id=actor.id)


def update_user(session: Session, user: User, actor: User, *, current: str | None = None,
                **fields: Any) -> User:
    """Change a user: administrators change anyone; users change their own name,
    email and language. A password set here is an administrator's reset of another
    account (one's own needs the current one: ``accounts.devices.change_password``);
    a reset or a deactivation ends every session, token and socket of the account
    (``current``, the actor's own credential, is kept when it is the account's)."""
    if not policy.can_change_user(actor, user, fields):
        if not visible_to(session, actor, user.id):
            raise NotFound("No such user.")
        raise Forbidden("You may change only your own name, email, language and password.")
    if "password" in fields and not policy.can_reset_password(actor, user):
        raise Forbidden("Change your own password with POST /api/v1/users/me/password and your current one.",
                        code="current_password_required")
    if "password" in fields:
        passwords.check(fields["password"], username=user.username, full_name=fields.get("full_name", user.full_name),
                        email=fields.get("email", user.email))
        end_read_only_transaction(session)  # SQLite: others commit while the hash is made
        user.password_hash = hash_password(fields["password"])
    for field in USER_FIELDS:
        if field in fields:
            setattr(user, field, fields[field])
    if "password" in fields or fields.get("active") is False:
        keep = current if actor.id == user.id else None
        sessions.end_all(session, user.id, reason="password" if "password" in fields else "deactivated",
                         actor_id=actor.id, keep=keep)
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
    """Every user, by name: the trusted path (CLI, demo); a caller's request goes through ``directory``."""
    return session.execute(select(User).order_by(User.full_name)).scalars().all()


# --------------------------------------------------------------------------- the user directory
# Who shares a meeting with whom is known by the bodies domain, above this one: it registers its
# query here at start-up (meetings/bodies/directory.py). Until it has, everyone sees only themselves.
_colleague_queries: list[Callable[[User], Select]] = []


def colleagues_from(query: Callable[[User], Select]) -> None:
    """Register ``query(user)``: a SELECT of the user ids ``user`` shares a meeting with."""
    _colleague_queries[:] = [query]


def _seen_by(actor: User):
    """The condition on User rows that ``actor`` (not a user manager) may see in the directory."""
    return or_(User.id == actor.id, *(User.id.in_(q(actor)) for q in _colleague_queries))


def visible_to(session: Session, actor: User, user_id: int) -> bool:
    """Whether ``actor`` may know that the account ``user_id`` exists."""
    if policy.can_manage_users(actor):
        return session.get(User, user_id) is not None
    return session.execute(select(User.id).where(User.id == user_id, _seen_by(actor))).first() is not None


def _name_only(user: User) -> dict[str, Any]:
    return {"id": user.id, "full_name": user.full_name}


def directory(session: Session, actor: User) -> list[User] | list[dict[str, Any]]:
    """The user directory as ``actor`` may see it, by name: every full record for those who manage
    users; for everyone else only the id and full name of themselves and of the people in the meetings
    they take part in or manage (no username, e-mail, role or clearance)."""
    if policy.can_manage_users(actor):
        return list(all_users(session))
    rows = session.execute(select(User).where(_seen_by(actor)).order_by(User.full_name)).scalars().all()
    return [u if policy.can_see_full_record(actor, u) else _name_only(u) for u in rows]


def read_user(session: Session, user_id: int, actor: User) -> User | dict[str, Any]:
    """One account as ``actor`` may see it (see ``directory``); NotFound for anyone else's they may not."""
    if not visible_to(session, actor, user_id):
        raise NotFound("No such user.")
    user = get_user(session, user_id)
    return user if policy.can_see_full_record(actor, user) else _name_only(user)


# --------------------------------------------------------------------------- logging in

def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (the failure counted for the
    account); AccountLocked (429) while the account is locked (``accounts.lockout``)."""
    lockout.check(session, username)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if check_password(user, password, session=session) and user.active:
        lockout.clear(session, username)
        return user
    lockout.failed(username)
    return None


def log_in(session: Session, username: str, password: str) -> User | None:
    """A browser login: the user with these credentials (the login audited), or None."""
    user = authenticate(session, username, password)
    if user is not None:
        audit.record(session, "user.login", actor_id=user.id, object_type="user", object_id=user.id)
    return user


def issue_token(session: Session, user: User, ttl_hours: int, label: str | None = None) -> tuple[str, ApiToken]:
    """Create a bearer token for ``user`` (already authenticated); the clear token
    is returned once and never stored."""
    clear = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=sessions.digest(clear),
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
    """The active user owning a live token (unexpired, unrevoked, not idle or too old), or None."""
    row = sessions.live_token(session, clear)
    return session.get(User, row.user_id) if row is not None else None


def revoke_token(session: Session, clear: str) -> bool:
    """Revoke a token by its clear value; False when unknown or already revoked.

    No actor check: knowing the clear token is the right to use it, so also to end it."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == sessions.digest(clear))
    ).scalar_one_or_none()
    if row is None:
        return False
    # Its sockets are disconnected too (after the commit).
    return sessions.end(session, row.user_id, sessions.key_of(row), reason="logout", actor_id=row.user_id)
