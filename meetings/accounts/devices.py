"""An account's devices and what ends them: the device list, signing one out,
"sign out everywhere", and changing one's password (which needs the current one).

Every function takes the actor and asks ``accounts.policy``; ending credentials
and disconnecting their sockets is ``accounts.sessions``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts import lockout, passwords, policy, sessions
from meetings.accounts.models import User
from meetings.accounts.service import check_password, hash_password, visible_to
from meetings.core.errors import Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit


def list_devices(session: Session, actor: User, *, current: str | None = None) -> list[dict[str, Any]]:
    """The actor's live sessions and tokens (``current`` marks the one this request uses)."""
    return sessions.devices(session, actor.id, current)


def sign_out_device(session: Session, actor: User, device_id: str) -> None:
    """End one of the actor's own devices (a lost tablet): its session or token ends, its
    sockets are disconnected and told ``session.revoked``; NotFound when it is not theirs."""
    if not sessions.end(session, actor.id, device_id, reason="signed_out", actor_id=actor.id):
        raise NotFound("No such device.")


def sign_out_everywhere(session: Session, user: User, actor: User, *, current: str | None = None) -> int:
    """End every session and token of ``user`` and disconnect its sockets. The actor's own
    current credential is kept when they sign out their own other devices. Returns how many ended."""
    if not policy.can_sign_out(actor, user):
        if not visible_to(session, actor, user.id):
            raise NotFound("No such user.")
        raise Forbidden("Only an administrator can sign out another account.")
    keep = current if actor.id == user.id else None
    return sessions.end_all(session, user.id, reason="revoked", actor_id=actor.id, keep=keep)


def change_password(session: Session, actor: User, *, current_password: str, new_password: str,
                    current: str | None = None) -> None:
    """The actor changes their own password: the current one is needed (a wrong one counts
    towards the account's lockout), the new one must pass the password policy, and every
    other session and token of the account ends with its sockets."""
    lockout.check(session, actor.username)
    if not check_password(actor, current_password, session=session):
        lockout.failed(actor.username)
        raise Forbidden("The current password is wrong.", code="wrong_password")
    passwords.check(new_password, username=actor.username, full_name=actor.full_name, email=actor.email)
    if check_password(actor, new_password):
        raise Invalid("The new password must differ from the current one.", code="weak_password")
    actor.password_hash = hash_password(new_password)
    audit.record(session, "user.password_changed", actor_id=actor.id, object_type="user", object_id=actor.id)
    sessions.end_all(session, actor.id, reason="password", actor_id=actor.id, keep=current)
