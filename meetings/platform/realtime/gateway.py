"""The Socket.IO gateway: who is connected, and one wrapper for every event.

Every domain registers its socket events with :func:`socket_event`, which
gives them all the same guarantees: the caller is authenticated, the payload
is a JSON object of bounded size validated by a marshmallow schema, domain
errors become an error acknowledgement ``{"ok": false, "error": {...}}``,
success is ``{"ok": true, ...}``, the database session is committed (so
queued broadcasts go out) or rolled back, and nothing unexpected escapes.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import request, session
from flask_socketio import join_room

from meetings.core.errors import DomainError, Unauthorized
from meetings.core.extensions import db, socketio
from meetings.platform.realtime import ratelimit
from meetings.platform.realtime.rooms import user_room

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 64 * 1024
_SESSION_KEY = "socket_user_id"


UserLoader = Callable[[int], Any]
_user_loader: UserLoader | None = None


def load_users_with(loader: UserLoader) -> None:
    """Register how a user id becomes an active user (the accounts domain does,
    at start-up); the gateway itself knows no user model."""
    global _user_loader
    _user_loader = loader


def bind_user(user: Any) -> None:
    """Remember which user this socket authenticated as, and join their own room.

    Called once by the connect handler (the accounts domain); every event then
    re-reads the user, so a deactivated account stops acting at once.
    """
    session[_SESSION_KEY] = user.id
    join_room(user_room(user.id))


def socket_user() -> Any:
    """The user this socket authenticated as at connect time (re-read each event)."""
    user_id = session.get(_SESSION_KEY)
    user = _user_loader(user_id) if user_id and _user_loader is not None else None
    if user is None:
        raise Unauthorized("This connection is not authenticated.")
    return user


def error_ack(err: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": err.to_dict()}


def socket_event(name: str, schema: type[ma.Schema] | None = None) -> Callable:
    """Register ``handler(user, payload) -> dict | None`` for the event ``name``.

    The handler's dict (if any) is merged into the ``{"ok": true}`` acknowledgement.
    """

    def decorate(handler: Callable[[Any, dict], dict | None]) -> Callable:
        @functools.wraps(handler)
        def wrapper(payload: Any = None, *extra: Any) -> dict[str, Any]:
            if not ratelimit.allow(request.sid):  # before any database work (meetings/live/ratelimit.py)
                return ratelimit.rate_limited_ack()
            try:
                user = socket_user()
                data = _validate(payload, schema)
                result = handler(user, data) or {}
                db.session.commit()
                return {"ok": True, **result}
            except DomainError as err:
                db.session.rollback()
                return error_ack(err)
            except Exception:
                db.session.rollback()
                log.exception("socket event %s failed (sid %s)", name, request.sid)
                return {"ok": False, "error": {"code": "internal_error",
                                               "message": "The server failed; the error was logged."}}
            finally:
                db.session.remove()

        socketio.on_event(name, wrapper)
        return wrapper

    return decorate


def _validate(payload: Any, schema: type[ma.Schema] | None) -> dict[str, Any]:
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise DomainError("The payload must be a JSON object.", code="invalid")
    if len(json.dumps(payload, default=str)) > MAX_PAYLOAD_BYTES:
        raise DomainError("The payload is too large.", code="too_large")
    if schema is None:
        return payload
    try:
        return schema().load(payload)
    except ma.ValidationError as err:
        raise DomainError("The payload is not valid.", code="invalid", details=err.messages) from err
