"""Who is asking over HTTP.

Browser sessions and bearer tokens both end up as Flask-Login's
``current_user`` (the accounts domain registers the loaders), so this module
needs no domain: it only asks Flask-Login.
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask_login import AnonymousUserMixin, current_user

from meetings.core.errors import Unauthorized


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def require_user() -> Any:
    """The authenticated user (an ``accounts.models.User``), or a 401 error."""
    user = current_user._get_current_object()
    if user is None or isinstance(user, AnonymousUserMixin) or not user.is_authenticated:
        raise Unauthorized("Log in or send a bearer token.")
    return user
