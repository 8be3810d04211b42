"""Which roles exist for ``MFA_REQUIRED_ROLES``: a registry the domains that know a role fill at import.

accounts sits below bodies and minutes, so it cannot ask them who is in the
secretariat or who signs; they register a check here instead (bodies/models.py:
``secretariat``, minutes/models.py: ``signer``), as ``gateway.load_users_with``
is filled by ``accounts.auth``. Kept apart from ``second_factor`` so that a
models module registering here imports nothing heavy.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

RoleCheck = Callable[[Session, Any], bool]
_CHECKS: dict[str, RoleCheck] = {}


def role_requires(name: str, check: RoleCheck) -> None:
    """Register ``check(session, user)``: does ``user`` hold role ``name``?"""
    _CHECKS[name] = check


def check_for(name: str) -> RoleCheck | None:
    """The check registered for role ``name``, if any."""
    return _CHECKS.get(name)


role_requires("admin", lambda _session, user: bool(user.is_admin))
