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
from flask import current_app, request, session
from flask_socketio import join_room
from sqlalchemy import event
from sqlalchemy.orm import Session

from meetings.core.db import ends_savepoint
from meetings.core.errors import DomainError, Unauthorized
from meetings.core.extensions import db, socketio
from meetings.platform.realtime import ratelimit, transport
from meetings.platform.realtime.rooms import user_room

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = transport.DEFAULT_MAX_PAYLOAD_BYTES  # SOCKET_MAX_PAYLOAD_BYTES
_SESSION_KEY = "socket_user_id"
_CREDENTIAL_KEY = "socket_credential"
# The notice a socket gets just before the server disconnects it because its login ended.
REVOKED_EVENT = "session.revoked"
_ENDING = "sockets_to_end"


# (user id, credential the socket connected with) -> the active user, or None when
# the account or that credential (browser session, token) is no longer good.
UserLoader = Callable[[int, Any], Any]
_user_loader: UserLoader | None = None


def load_users_with(loader: UserLoader) -> None:
    """Register how a user id and credential become an active user (the accounts
    domain does, at start-up); the gateway itself knows no user model."""
    global _user_loader
    _user_loader = loader


def bind_user(user: Any, credential: Any = None) -> None:
    """Remember which user (and credential) this socket authenticated as, and join their own room.

    Called once by the connect handler (the accounts domain); every event then
    re-reads the user and re-checks the credential, so a deactivated account or an
    ended session or token stops acting at once.
    """
    session[_SESSION_KEY] = user.id
    session[_CREDENTIAL_KEY] = credential
    join_room(user_room(user.id))


def socket_user_id() -> int | None:
    """The id of the user this socket authenticated as, from the socket's own session: no
    database read and no credential check (volatile events re-check those now and then)."""
    return session.get(_SESSION_KEY)


def socket_user() -> Any:
    """The user this socket authenticated as at connect time (re-read each event)."""
    user_id = session.get(_SESSION_KEY)
    loader = _user_loader
    user = loader(user_id, session.get(_CREDENTIAL_KEY)) if user_id and loader is not None else None
    if user is None:
        raise Unauthorized("This connection is not authenticated.")
    return user


def end_sockets(db_session: Session, sids: list[str], notice: dict[str, Any]) -> None:
    """Once ``db_session`` commits, send each socket ``session.revoked`` (``notice``) and
    disconnect it, on whichever process holds it: with a message queue, python-socketio
    forwards both to the other processes. Dropped if the transaction rolls back."""
    if sids:
        db_session.info.setdefault(_ENDING, []).append((list(sids), notice))


@event.listens_for(Session, "after_commit")
def _end_after_commit(db_session: Session) -> None:
    if ends_savepoint(db_session):
        return
    pending = db_session.info.pop(_ENDING, None)
    if pending and socketio.server is not None:
        # Its own greenlet: a local disconnect runs the disconnect handler at once, which
        # must not share (and close) the committing request's database session.
        socketio.start_background_task(_disconnect, pending)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(db_session: Session) -> None:
    if not ends_savepoint(db_session):
        db_session.info.pop(_ENDING, None)


def _disconnect(pending: list[tuple[list[str], dict[str, Any]]]) -> None:
    for sids, notice in pending:
        for sid in sids:
            try:
                socketio.emit(REVOKED_EVENT, notice, to=sid)
                socketio.server.disconnect(sid, namespace="/")
            except Exception:  # one socket must not keep the others connected
                log.exception("could not disconnect socket %s", sid)


def error_ack(err: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": err.to_dict()}


def socket_event(name: str, schema: type[ma.Schema] | None = None) -> Callable:
    """Register ``handler(user, payload) -> dict | None`` for the event ``name``.

    The handler's dict (if any) is merged into the ``{"ok": true}`` acknowledgement.
    """

    def decorate(handler: Callable[[Any, dict], dict | None]) -> Callable:
        @functools.wraps(handler)
        def wrapper(payload: Any = None, *extra: Any) -> dict[str, Any]:
            # Per socket and per user, before any database work (meetings/platform/realtime/ratelimit.py).
            refused = ratelimit.refusal(request.sid, session.get(_SESSION_KEY))
            if refused is not None:
                return refused
            try:
                user = socket_user()
                if isinstance(payload, transport.Refused):  # too large or unparsable: never decoded
                    return payload.ack()
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


@functools.cache
def _schema(schema: type[ma.Schema]) -> ma.Schema:
    """One instance per schema class: building one costs more than loading a page turn with it."""
    return schema()


def _validate(payload: Any, schema: type[ma.Schema] | None) -> dict[str, Any]:
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise DomainError("The payload must be a JSON object.", code="invalid")
    config = current_app.config
    # Depth before size: json.dumps of a deep payload recurses, and marshmallow would too.
    if transport.too_deep(payload, int(config.get("SOCKET_MAX_DEPTH") or transport.DEFAULT_MAX_DEPTH)):
        raise DomainError("The payload is nested too deeply.", code="invalid")
    limit = int(config.get("SOCKET_MAX_PAYLOAD_BYTES") or MAX_PAYLOAD_BYTES)
    if len(json.dumps(payload, default=str)) > limit:
        raise DomainError("The payload is too large.", code="too_large")
    if schema is None:
        return payload
    try:
        return _schema(schema).load(payload)
    except ma.ValidationError as err:
        raise DomainError("The payload is not valid.", code="invalid", details=err.messages) from err
