"""Volatile socket events: relayed to a room as they come, never stored, never replayed.

For what is only worth seeing *now* (a stroke while it is being drawn): no
``seq``, no event log, no transaction. Two parts:

* :func:`volatile_event` registers a handler with the guarantees of the
  gateway's ``socket_event`` that cost nothing (the socket's user id from its own
  session, a payload that is a bounded JSON object validated by a schema, errors
  as acknowledgements) and one of its own: a token bucket per user, whose
  over-rate messages are dropped (answered ``rate_limited`` only when the client
  asked for an answer, which a volatile sender does not). It opens no database
  session and commits nothing; a handler that reads the database (to check a
  permission it then remembers) has its session closed afterwards.
* :func:`relay` sends an item to a room, coalescing: one greenlet per room
  drains what is queued and sends it as one message, then yields once so the
  sockets write it out. On an idle server every item goes out alone at once; on
  a busy one, what arrived while the last message was being written goes out
  together in the next, so the number of messages (the cost of a fan-out) stops
  growing with the number of senders instead of the server falling behind.
  Nobody receives their own items back.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import current_app, request

from meetings.core.errors import DomainError
from meetings.core.extensions import db, socketio
from meetings.platform.realtime import transport
from meetings.platform.realtime.gateway import socket_user_id
from meetings.platform.realtime.ratelimit import TokenBuckets, rate_limited_ack

log = logging.getLogger(__name__)

MAX_QUEUED_PER_ROOM = 2000  # a room whose queue is this long drops new items (they are volatile)

# (event, room) -> the items waiting to be sent, each with its sender's sid.
_pending: dict[tuple[str, str], list[tuple[str, Any]]] = {}
_heads: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
_draining: set[tuple[str, str]] = set()
_lock = threading.Lock()  # gevent makes it a cooperative lock; nothing yields while it is held


def volatile_event(name: str, schema: type[ma.Schema], *, rate: float, burst: int) -> Callable:
    """Register ``handler(user_id, sid, payload) -> dict | None`` for the volatile event ``name``.

    Each user may send ``rate`` of these a second beyond a burst of ``burst``, over all
    their sockets; the rest are dropped before the payload is looked at.
    """
    buckets = TokenBuckets(rate, burst)
    loader = schema()  # made once: a marshmallow Schema() costs ~4× its load(), and load() keeps no state

    def decorate(handler: Callable[[int, str, dict], dict | None]) -> Callable:
        @functools.wraps(handler)
        def wrapper(payload: Any = None, *extra: Any) -> dict[str, Any]:
            user_id = socket_user_id()
            if user_id is None:
                return {"ok": False, "error": {"code": "unauthorized",
                                               "message": "This connection is not authenticated."}}
            if not buckets.allow(str(user_id)):
                return rate_limited_ack()
            try:
                if isinstance(payload, transport.Refused):
                    return payload.ack()
                result = handler(user_id, request.sid, _validate(payload, loader)) or {}
                return {"ok": True, **result}
            except DomainError as err:
                return {"ok": False, "error": err.to_dict()}
            except Exception:
                log.exception("volatile event %s failed (sid %s)", name, request.sid)
                return {"ok": False, "error": {"code": "internal_error",
                                               "message": "The server failed; the error was logged."}}
            finally:
                # Only a handler that checked something in the database opened a session;
                # it read and wrote nothing to keep, so closing it (a rollback) is all.
                if db.session.registry.has():
                    db.session.remove()

        socketio.on_event(name, wrapper)
        return wrapper

    return decorate


def _validate(payload: Any, schema: ma.Schema) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise DomainError("The payload must be a JSON object.", code="invalid")
    config = current_app.config
    if transport.too_deep(payload, int(config.get("SOCKET_MAX_DEPTH") or transport.DEFAULT_MAX_DEPTH)):
        raise DomainError("The payload is nested too deeply.", code="invalid")
    limit = int(config.get("SOCKET_MAX_PAYLOAD_BYTES") or transport.DEFAULT_MAX_PAYLOAD_BYTES)
    if len(json.dumps(payload, default=str)) > limit:
        raise DomainError("The payload is too large.", code="too_large")
    try:
        return schema.load(payload)
    except ma.ValidationError as err:
        raise DomainError("The payload is not valid.", code="invalid", details=err.messages) from err


def in_room(sid: str, room: str) -> bool:
    """Whether socket ``sid`` (of this process) has joined ``room``."""
    return room in (socketio.server.rooms(sid, namespace="/") or [])


def relay(event: str, room: str, item: Any, *, sender: str, head: dict[str, Any], key: str) -> bool:
    """Queue ``item`` for everyone in ``room`` but ``sender``; sent as ``event`` with the payload
    ``{**head, key: [items…]}``. False when the room's queue is full (the item is dropped)."""
    slot = (event, room)
    with _lock:
        queued = _pending.setdefault(slot, [])
        if len(queued) >= MAX_QUEUED_PER_ROOM:
            return False
        queued.append((sender, item))
        _heads[slot] = (head, key)
        start = slot not in _draining
        if start:
            _draining.add(slot)
    if start:
        socketio.start_background_task(_drain, slot)
    return True


def _drain(slot: tuple[str, str]) -> None:
    try:
        while True:
            with _lock:
                batch = _pending.pop(slot, None)
                head, key = _heads.get(slot, ({}, "items"))
                if not batch:
                    _draining.discard(slot)
                    _heads.pop(slot, None)
                    return
            try:
                _send(slot, batch, head, key)
            except Exception:  # one failed message must not stop the room's relay
                log.exception("volatile relay of %s to %s failed", *slot)
            # Let the sockets write this message: what arrives meanwhile goes out together.
            socketio.sleep(0)
    except BaseException:
        with _lock:
            _draining.discard(slot)
        raise


def _send(slot: tuple[str, str], batch: list[tuple[str, Any]], head: dict[str, Any], key: str) -> None:
    event, room = slot
    senders = list(dict.fromkeys(sid for sid, _ in batch))
    socketio.emit(event, {**head, key: [item for _, item in batch]}, to=room, skip_sid=senders)
    if len(senders) > 1:  # each sender still sees the others' items of this batch
        for sid in senders:
            socketio.emit(event, {**head, key: [item for s, item in batch if s != sid]}, to=sid)

