"""The baseline: a bare Flask-SocketIO gevent broadcast server, no database, no auth.

    gunicorn -k gevent -w 1 --worker-connections 4000 bench.bare_server:app

Clients emit "join" (ack) to enter the hall; "turn" {page} is broadcast to the
hall as "event" {"type": "presenter.changed", "data": {"page"}} — the same
shape and fan-out as the real server's page turn, minus everything else.
For bench/annotation_fanout.py: "stroke" (a stroke in flight, no ack) is relayed
to the hall but its sender as "annotation.stroke_progress" {"meeting_id",
"strokes": [it]}, one message per stroke message (the obvious relay); "finish"
(ack) is broadcast to the hall but its sender as an "annotation.created" event.
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


@socketio.on("stroke")
def on_stroke(data):
    emit("annotation.stroke_progress", {"meeting_id": 1, "strokes": [data]}, to="hall", include_self=False)


@socketio.on("finish")
def on_finish(data):
    global _seq
    _seq += 1
    emit("event", {"meeting_id": 1, "seq": _seq, "type": "annotation.created", "data": {"annotation": data}},
         to="hall", include_self=False)
    return {"ok": True}
