"""Who may manage accounts and see whom: one function per decision, used by every transport."""
from __future__ import annotations

from collections.abc import Iterable

from meetings.accounts.models import CLEARANCES, User

# What only an administrator may change on an account, even one's own.
ADMIN_ONLY_FIELDS = frozenset({"global_role", "active", "clearance"})


def can_manage_users(actor: User | None) -> bool:
    """Create accounts and change anyone's (administrators)."""
    return actor is not None and bool(actor.is_admin)


def can_change_user(actor: User | None, user: User, fields: Iterable[str]) -> bool:
    """Change these fields of ``user``: administrators change anything; everyone
    else only their own name, email, language and password."""
    if can_manage_users(actor):
        return True
    return actor is not None and actor.id == user.id and not ADMIN_ONLY_FIELDS & set(fields)


def can_reset_password(actor: User | None, user: User) -> bool:
    """Set ``user``'s password without knowing the current one: administrators, for
    other accounts only (one's own password is changed with the current one)."""
    return can_manage_users(actor) and actor is not None and actor.id != user.id


def can_sign_out(actor: User | None, user: User) -> bool:
    """End ``user``'s sessions and tokens ("sign out everywhere", a lost device):
    the user themself and administrators."""
    return actor is not None and (actor.id == user.id or can_manage_users(actor))


def can_see_full_record(actor: User | None, user: User) -> bool:
    """Username, e-mail, role, clearance: for those who manage users, and for one's own account.
    Everyone else sees at most the id and full name of the people in their own meetings."""
    return can_manage_users(actor) or (actor is not None and actor.id == user.id)


def cleared_levels(user: User | None) -> tuple[str, ...]:
    """The confidentiality levels ``user``'s clearance covers, lowest first (none for no user;
    an unknown stored value covers only "normal")."""
    if user is None:
        return ()
    level = getattr(user, "clearance", None)
    top = CLEARANCES.index(level) if level in CLEARANCES else 0
    return CLEARANCES[:top + 1]


def is_cleared(user: User | None, confidentiality: str | None) -> bool:
    """Whether ``user``'s clearance reaches ``confidentiality`` (a meeting's level). Only the
    archivist's global reading right is bounded by it; see meetings.bodies.permissions.can_view."""
    return (confidentiality or "normal") in cleared_levels(user)
