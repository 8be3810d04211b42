"""The login's second step, passed with a code (TOTP or recovery) or a WebAuthn assertion.

One entry for both transports: the browser's login page and the token API
(``POST /api/v1/auth/token/second-factor``) call ``pass_second_step``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts import second_factor, service, webauthn_keys
from meetings.accounts.models import ApiToken, User
from meetings.core.errors import Invalid


def pass_second_step(session: Session, challenge: str, *, code: str | None = None,
                     assertion: dict[str, Any] | str | None = None) -> User:
    """The user of the login step ``challenge``, once they passed it; audited. Unauthorized otherwise."""
    user = second_factor.user_for_challenge(session, challenge)
    if assertion:
        webauthn_keys.check_assertion(session, user, challenge, assertion)
        method = "webauthn"
    elif code:
        method = second_factor.check_code(session, user, code)
    else:
        raise Invalid("Give a code or your key's answer.")
    second_factor.complete_login(session, user, method)
    return user


def token_after_second_step(session: Session, challenge: str, *, ttl_hours: int, label: str | None = None,
                            code: str | None = None,
                            assertion: dict[str, Any] | None = None) -> tuple[str, ApiToken]:
    """A bearer token for the user who passed the second step of ``POST /auth/token``."""
    user = pass_second_step(session, challenge, code=code, assertion=assertion)
    return service.issue_token(session, user, ttl_hours, label)
