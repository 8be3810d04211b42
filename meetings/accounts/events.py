"""The socket's connection: who is connecting (a bearer token or the browser's login)."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import ConnectionRefusedError

from meetings.accounts.models import User
from meetings.accounts.service import user_for_token
from meetings.core.extensions import db, socketio
from meetings.platform.realtime.gateway import bind_user


def authenticate_connection(auth: Any) -> User:
    """Find the user of a connecting socket: a bearer token in ``auth`` or the
    browser's login session. Raises ConnectionRefusedError otherwise."""
    user = None
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        user = user_for_token(db.session, auth["token"])
        if user is None:
            raise ConnectionRefusedError({"code": "unauthorized", "message": "Invalid or expired token."})
    elif current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    if user is None:
        raise ConnectionRefusedError({"code": "unauthorized", "message": "Log in or send auth={token}."})
    bind_user(user)
    return user


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse sockets without a valid token or login session."""
    try:
        authenticate_connection(auth)
    finally:
        db.session.remove()
