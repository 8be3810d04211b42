"""Drill: Redis (the Socket.IO message queue) dies and comes back while two processes serve a meeting.

Shows: while Redis is down, changes are still committed and acknowledged (the
broadcast is lost, nothing else); both processes' listeners reconnect by
themselves when Redis is back (python-socketio's RedisManager retries, with
redis-py 8 and ``socket_timeout=None``); the sockets are still in their rooms
(rooms live in each process, not in Redis); a client that missed events
notices the gap in ``seq`` and catches up with ``meeting.join`` + ``last_seq``.
"""
from __future__ import annotations

import uuid

import pytest

from tests.socket_helpers import SocketClient, make_world, start_socket_server, wait_until


@pytest.fixture
def two_servers(tmp_path, database_url, own_redis):
    channel = f"drill-{uuid.uuid4().hex}"
    env = {"SOCKETIO_MESSAGE_QUEUE": own_redis.url, "SOCKETIO_CHANNEL": channel}
    a = start_socket_server(tmp_path / "node-a", database_url, env=env)
    try:
        b = start_socket_server(tmp_path / "node-b", database_url, env=env)
    except BaseException:
        a.stop()
        raise
    yield a, b, channel
    a.stop()
    b.stop()


def test_both_processes_recover_when_redis_restarts(two_servers, own_redis, database_url):
    a, b, channel = two_servers
    w = make_world(database_url)
    delegate = SocketClient(a.url, w.tokens["delegate"]).connect()  # on process A
    chair = SocketClient(b.url, w.tokens["chair"]).connect()  # on process B
    try:
        # A process subscribes on its first socket (python-socketio starts the listener lazily).
        wait_until(lambda: own_redis.subscribers(channel) == 2, "both processes to subscribe")
        for c in (delegate, chair):
            assert c.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
        assert chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": 2})["ok"]
        seen = delegate.next_event()["seq"]

        own_redis.kill()
        # Redis is down: the change is committed and acknowledged; only its broadcast is lost.
        ack = chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": 3})
        assert ack == {"ok": True, "changed": {"page": 3}}

        own_redis.start()  # same port
        wait_until(lambda: own_redis.subscribers(channel) == 2, "both listeners to resubscribe")
        # Cross-process delivery works again, both ways, to the sockets' old rooms.
        assert chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": 4})["ok"]
        live = delegate.next_event(predicate=lambda e: e["data"].get("page") == 4)
        assert live["seq"] == seen + 2  # seq seen + 1 (page 3) was lost with Redis: a gap
        assert delegate.call("speaker.request", {"meeting_id": w.meeting_id, "kind": "speech"})["ok"]
        assert chair.next_event(predicate=lambda e: e["type"] == "speaker.requested")["seq"] == seen + 3
        # The delegate closes the gap the documented way.
        ack = delegate.call("meeting.join", {"meeting_id": w.meeting_id, "last_seq": seen})
        assert [(e["seq"], e["data"].get("page")) for e in ack["events"][:2]] == [(seen + 1, 3), (seen + 2, 4)]
        assert [e["seq"] for e in ack["events"]] == list(range(seen + 1, ack["seq"] + 1))
        assert "Cannot receive from redis" in a.log() + b.log()  # the outage was real and logged
    finally:
        delegate.disconnect()
        chair.disconnect()
