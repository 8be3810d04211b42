"""The baseline: a bare Flask-SocketIO gevent broadcast server, no database, no auth.

    gunicorn -k gevent -w 1 --worker-connections 4000 bench.bare_server:app

Clients emit "join" (ack) to enter the hall; "turn" {page} is broadcast to the
hall as "event" {"type": "presenter.changed", "data": {"page"}} — the same
shape and fan-out as the real server's page turn, minus everything else.
"""
from flask import Flask
from flask_socketio import SocketIO, emit, join_room

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent", cors_allowed_origins=[])
_seq = 0


@socketio.on("join")
def on_join(_data=None):
    join_room("hall")
    return {"ok": True, "seq": _seq}


@socketio.on("turn")
def on_turn(data):
    global _seq
    _seq += 1
    emit("event", {"meeting_id": 1, "seq": _seq, "type": "presenter.changed", "data": {"page": data["page"]}},
         to="hall")
    return {"ok": True}
