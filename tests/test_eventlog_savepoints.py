"""Broadcasts wait for the transaction, not for a savepoint (meetings/platform/realtime/eventlog.py).

SQLAlchemy runs ``after_commit`` when a savepoint is released and ``after_rollback``
when one is rolled back; the outbox and document intake use savepoints inside
requests that also broadcast. Nothing may go out at a savepoint's release, and a
savepoint's rollback drops only what was queued inside it.
"""
from __future__ import annotations

from meetings.core.extensions import db, socketio
from meetings.platform.realtime import eventlog
from tests import factories


def _sent(monkeypatch) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr(socketio, "emit", lambda name, data, to=None: sent.append(data["n"]))
    return sent


def test_a_released_savepoint_sends_nothing_and_a_rolled_back_one_drops_only_its_own(app, monkeypatch):
    world = factories.build_world(db.session)
    sent = _sent(monkeypatch)
    s = db.session
    room = f"user:{world.delegate.id}"
    eventlog.notify_room(s, room, "test.event", {"n": "outer"})
    with s.begin_nested():
        eventlog.notify_room(s, room, "test.event", {"n": "released"})
    assert sent == []  # a savepoint released is not the commit
    try:
        with s.begin_nested():
            eventlog.notify_room(s, room, "test.event", {"n": "inner"})
            with s.begin_nested():
                eventlog.notify_room(s, room, "test.event", {"n": "inner-inner"})
            raise ValueError("the savepoint fails")
    except ValueError:
        pass
    assert sent == []
    s.commit()
    assert sent == ["outer", "released"]
    s.remove()


def test_a_rollback_of_the_transaction_drops_everything(app, monkeypatch):
    factories.build_world(db.session)
    db.session.commit()
    sent = _sent(monkeypatch)
    s = db.session
    eventlog.notify_room(s, "user:1", "test.event", {"n": "lost"})
    with s.begin_nested():
        eventlog.notify_room(s, "user:1", "test.event", {"n": "lost-too"})
    s.rollback()
    s.commit()
    assert sent == []
    s.remove()
