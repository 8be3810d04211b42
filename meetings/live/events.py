"""Socket.IO handlers of the live room."""
from __future__ import annotations

from meetings.extensions import socketio
from meetings.live.gateway import authenticate_connection


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse sockets without a valid token or login session."""
    authenticate_connection(auth)
