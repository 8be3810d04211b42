"""Broadcasts from a process that serves no sockets, without a message queue (docs/realtime.md §11).

In the embedded default (one web process, no ``SOCKETIO_MESSAGE_QUEUE``) the job consumer runs in
a process of its own: a ``socketio.emit`` there reaches its own Socket.IO server, which has no
clients. So the consumer turns on **writing** (``SOCKET_RELAY_WRITE`` in its app's config, set by
``flask jobs worker``; not a setting of the environment): each broadcast becomes a row
of ``socket_relay`` (room, event, data), written after the domain transaction committed, in a short
transaction of its own. The web process runs **one listener** (:func:`start_listener`) that every
``SOCKET_RELAY_POLL_SECONDS`` emits the waiting rows to their rooms and deletes them.

A row that cannot be written is logged and dropped: a logged meeting event still arrives by the
clients' seq catch-up, and the bell still polls. With a message queue neither side runs (the queue
carries the broadcasts); with several web processes the queue is required (each listener would
take rows meant for the clients of the others).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from meetings.core.db import utcnow
from meetings.platform.realtime.models import SocketRelay

log = logging.getLogger(__name__)

_TABLE = SocketRelay.__table__
BATCH = 500  # rows one poll emits at most
STALE_SECONDS = 60  # rows older than this when the listener starts are dropped, not sent
WRITE_FLAG = "SOCKET_RELAY_WRITE"


def writer() -> Engine | None:
    """The engine to write rows to when this process writes instead of emitting, else None."""
    if not has_app_context():
        return None
    config = current_app.config
    if not config.get(WRITE_FLAG) or config.get("SOCKETIO_MESSAGE_QUEUE"):
        return None
    from meetings.core.extensions import db

    return db.engine


def send(items: list[tuple[str, dict[str, Any], str]]) -> None:
    """Broadcast ``(event, data, room)`` items: emitted here, or written as rows in writing mode.

    Called after commit only (eventlog's after_commit hook, ``notify_now``): never inside a
    domain transaction.
    """
    engine = writer()
    if engine is None:
        from meetings.core.extensions import socketio

        for name, data, room in items:
            socketio.emit(name, data, to=room)
        return
    now = utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(insert(_TABLE), [{"room": room, "event": name, "data": data, "created_at": now}
                                          for name, data, room in items])
    except Exception:  # a broadcast is not worth failing the job that already committed
        log.exception("socket relay: %d broadcast(s) not written, dropped (%s)", len(items),
                      ", ".join(sorted({name for name, _, _ in items})))


class Listener:
    """Emits the relay's rows to their rooms; one per web process (see the module's doc)."""

    def __init__(self, engine: Engine, emit: Any, poll_seconds: float):
        self.engine, self.emit, self.poll_seconds = engine, emit, poll_seconds
        self.sent_not_deleted: set[int] = set()  # emitted, but the DELETE failed: never emitted twice

    def drop_stale(self) -> int:
        """Delete rows older than STALE_SECONDS (what a stopped server left: nobody waits for it now)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(_TABLE).where(
                _TABLE.c.created_at < utcnow() - timedelta(seconds=STALE_SECONDS))).rowcount

    def tick(self) -> int:
        """One poll: emit the waiting rows in order, delete them. The number emitted.

        The table holds only rows not yet delivered, so the poll reads them all (by the primary key,
        one indexed query when there is none) rather than those above the last id sent: on
        PostgreSQL ids come from a sequence, and a consumer thread may commit id 5 after another
        committed id 6.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(select(_TABLE.c.id, _TABLE.c.room, _TABLE.c.event, _TABLE.c.data)
                                .order_by(_TABLE.c.id).limit(BATCH)).all()
        sent = 0
        for row in rows:
            if row.id in self.sent_not_deleted:
                continue
            self.sent_not_deleted.add(row.id)
            self.emit(row.event, row.data, to=row.room)
            sent += 1
        if self.sent_not_deleted:
            with self.engine.begin() as conn:
                conn.execute(delete(_TABLE).where(_TABLE.c.id.in_(sorted(self.sent_not_deleted))))
            self.sent_not_deleted.clear()
        return sent

    def run(self, sleep: Any) -> None:
        started = False
        while True:
            try:
                if not started:
                    dropped = self.drop_stale()
                    started = True
                    if dropped:
                        log.warning("socket relay: %d stale broadcast(s) dropped at start", dropped)
                self.tick()
            except Exception:  # the database may be away for a while: try again next tick
                log.exception("socket relay: poll failed; retrying")
            sleep(self.poll_seconds)


def start_listener(app: Any) -> bool:
    """Start the web process's listener (a background greenlet), unless a message queue carries
    the broadcasts or ``SOCKET_RELAY_POLL_SECONDS`` is 0. Whether it started."""
    poll = float(app.config.get("SOCKET_RELAY_POLL_SECONDS") or 0)
    if app.config.get("SOCKETIO_MESSAGE_QUEUE") or poll <= 0:
        return False
    from meetings.core.extensions import db, socketio

    with app.app_context():
        engine = db.engine
    listener = Listener(engine, socketio.emit, poll)
    socketio.start_background_task(listener.run, socketio.sleep)
    log.info("socket relay: listening every %s s", poll)
    return True
