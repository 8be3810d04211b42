"""Who may manage accounts: one function per decision, used by every transport."""
from __future__ import annotations

from collections.abc import Iterable

from meetings.accounts.models import User

# What only an administrator may change on an account, even one's own.
ADMIN_ONLY_FIELDS = frozenset({"global_role", "active"})


def can_manage_users(actor: User | None) -> bool:
    """Create accounts and change anyone's (administrators)."""
    return actor is not None and bool(actor.is_admin)


def can_change_user(actor: User | None, user: User, fields: Iterable[str]) -> bool:
    """Change these fields of ``user``: administrators change anything; everyone
    else only their own name, email, language and password."""
    if can_manage_users(actor):
        return True
    return actor is not None and actor.id == user.id and not ADMIN_ONLY_FIELDS & set(fields)
