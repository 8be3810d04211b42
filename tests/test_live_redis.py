"""Two server processes sharing rooms through the real Redis message queue."""
from __future__ import annotations

import uuid

import pytest
import redis

from tests.socket_helpers import SocketClient, make_world, start_socket_server

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, database_url):
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as err:  # the suite's CI starts Redis; say so clearly if it is not there
        pytest.fail(f"Redis is needed at {REDIS_URL}: {err}")
    # A channel of our own: other test runs sharing this Redis must not cross-deliver.
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": f"test-live-{uuid.uuid4().hex}"}
    a = start_socket_server(tmp_path_factory.mktemp("node-a"), database_url, env=env)
    try:
        b = start_socket_server(tmp_path_factory.mktemp("node-b"), database_url, env=env)
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def test_a_client_on_one_process_receives_what_a_client_on_the_other_caused(two_servers, database_url):
    a, b = two_servers
    assert a.url != b.url
    w = make_world(database_url)
    delegate = SocketClient(a.url, w.tokens["delegate"]).connect()
    chair = SocketClient(b.url, w.tokens["chair"]).connect()
    secretary = SocketClient(a.url, w.tokens["secretary"]).connect()
    try:
        for c in (delegate, chair, secretary):
            assert c.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
        assert chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": 12})["ok"]
        ev = delegate.next_event()
        assert (ev["seq"], ev["type"], ev["data"]) == (1, "presenter.changed", {"page": 12})
        # And the other way round: a request to speak on A reaches the chair on B.
        assert delegate.call("speaker.request", {"meeting_id": w.meeting_id, "kind": "question"})["ok"]
        ev = chair.next_event(predicate=lambda e: e["type"] == "speaker.requested")
        assert ev["seq"] == 2 and ev["data"]["request"]["user_id"] == w.user_ids["delegate"]
        # Presence is in the shared database: the secretary on A sees the chair's device on B.
        snap = secretary.call("meeting.join", {"meeting_id": w.meeting_id})["snapshot"]
        assert {o["user_id"] for o in snap["online"]} >= {w.user_ids["chair"], w.user_ids["delegate"]}
        # A notice to the managers' room, sent by B when the chair's socket closes, reaches A.
        chair.disconnect()
        ev = secretary.next_event("presence.changed", lambda d: d["user_id"] == w.user_ids["chair"])
        assert ev["online"] is False
    finally:
        for c in (delegate, chair, secretary):
            c.disconnect()
