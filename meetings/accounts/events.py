"""The socket's connection: who is connecting (a bearer token or the browser's login)."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError

from meetings.accounts import sessions
from meetings.accounts.auth import current_credential, note_seen, session_ended
from meetings.accounts.models import User
from meetings.core.extensions import db, socketio
from meetings.platform.realtime.gateway import bind_user


def authenticate_connection(auth: Any) -> User:
    """Find the user of a connecting socket: a bearer token in ``auth`` or the
    browser's login session. Raises ConnectionRefusedError otherwise.

    The socket remembers its credential: each event re-checks it, and ending the
    credential disconnects the socket (``meetings.accounts.sessions``)."""
    user = None
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        row = sessions.live_token(db.session, auth["token"], remembered=False)
        if row is None:
            raise _refused("unauthorized", "Invalid or expired token.")
        note_seen(row)
        user = db.session.get(User, row.user_id)
    elif current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    credential = current_credential()
    if user is None or credential is None:
        # A cookie naming an ended session: the tablet app wipes its offline data on this code.
        raise _refused("session_ended" if session_ended() else "unauthorized", "Log in or send auth={token}.")
    bind_user(user, credential)
    user_id = user.id
    # Hand this session's connection back before record_socket takes its own: a storm of connects, each
    # holding one connection while waiting for a second, would drain the pool (PostgreSQL's 30) and stall.
    db.session.rollback()
    sessions.record_socket(db.engine, request.sid, user_id, credential)
    return user


def _refused(code: str, message: str) -> ConnectionRefusedError:
    # The client's connect_error has ``message`` = the code and ``data`` = {"code", "message"}.
    return ConnectionRefusedError(code, {"code": code, "message": message})


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse sockets without a valid token or login session."""
    try:
        authenticate_connection(auth)
    finally:
        db.session.remove()
