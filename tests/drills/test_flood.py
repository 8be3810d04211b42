"""Drill: one client floods the server with events; the others are not affected.

The per-socket token bucket (meetings/live/ratelimit.py) answers events over
the limit with ``{"ok": false, "error": {"code": "rate_limited"}}`` before they
touch the database. Shows: the flooder gets every answer (refusals included),
at most burst + rate × elapsed of its events went through, another client's page
turns all arrive in order, and the server stays up.
"""
from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from meetings.platform.realtime import ratelimit
from meetings.platform.realtime.models import MeetingEvent
from meetings.platform.realtime.ratelimit import TokenBuckets
from tests.socket_helpers import WAIT_SECONDS, SocketClient, db_session, make_world, start_socket_server

FLOOD = 2000
PAGE_TURNS = 30
RATE, BURST = 20, 40


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_sustained_rate():
    clock = FakeClock()
    buckets = TokenBuckets(rate=RATE, burst=BURST, clock=clock)
    assert [buckets.allow("a") for _ in range(BURST + 1)] == [True] * BURST + [False]
    assert buckets.allow("b")  # another socket has its own bucket
    clock.now += 0.5  # half a second refills 10 tokens
    assert sum(buckets.allow("a") for _ in range(50)) == RATE // 2
    clock.now += 3600  # an idle socket refills to the burst, not beyond
    assert sum(buckets.allow("a") for _ in range(500)) == BURST


def test_full_buckets_are_forgotten_and_bad_settings_refused():
    clock = FakeClock()
    buckets = TokenBuckets(rate=RATE, burst=BURST, clock=clock)
    for i in range(10):
        buckets.allow(f"sid{i}")
    buckets.allow("busy")
    for _ in range(BURST):
        buckets.allow("busy")
    clock.now += 0.5  # the others would be full again already; "busy" has refilled 10 tokens only
    buckets.prune()
    assert len(buckets) == 1
    assert sum(buckets.allow("busy") for _ in range(30)) == 10
    for rate, burst in ((0, 10), (5, 0)):
        with pytest.raises(ValueError):
            TokenBuckets(rate=rate, burst=burst)


def test_settings_come_from_the_app_config():
    assert ratelimit.buckets_for({}).rate == ratelimit.DEFAULT_RATE
    made = ratelimit.buckets_for({"SOCKET_EVENT_RATE": "5", "SOCKET_EVENT_BURST": "7"})
    assert (made.rate, made.burst) == (5.0, 7.0)
    assert ratelimit.rate_limited_ack() == {"ok": False, "error": {
        "code": "rate_limited", "message": "Too many events from this connection; slow down."}}


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("flood"), database_url,
                                 env={"SOCKET_EVENT_RATE": str(RATE), "SOCKET_EVENT_BURST": str(BURST)})
    yield handle
    handle.stop()


def test_a_flooding_client_is_rate_limited_and_others_are_unaffected(server, database_url):
    w = make_world(database_url)
    flooder = SocketClient(server.url, w.tokens["delegate2"]).connect()
    chair = SocketClient(server.url, w.tokens["chair"]).connect()
    reader = SocketClient(server.url, w.tokens["delegate"]).connect()
    try:
        for c in (flooder, chair, reader):
            assert c.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
        with db_session(database_url) as s:
            events_before = s.scalar(select(func.count()).select_from(MeetingEvent))
        acks: list[dict] = []
        all_acked = threading.Event()

        def on_ack(ack: dict) -> None:
            acks.append(ack)
            if len(acks) == FLOOD:
                all_acked.set()

        started = time.monotonic()
        # A delegate may not turn the presenter's page: each event that gets through is refused as
        # "forbidden" after its database checks; the rest must be refused before them.
        payload = {"meeting_id": w.meeting_id, "page": 2}
        flooding = threading.Thread(target=lambda: [flooder.sio.emit("presenter.set", payload, callback=on_ack)
                                                    for _ in range(FLOOD)])
        flooding.start()
        turns = [chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": p})
                 for p in range(3, 3 + PAGE_TURNS)]
        flooding.join()
        assert all_acked.wait(WAIT_SECONDS * 4), f"{len(acks)} of {FLOOD} answered"
        elapsed = time.monotonic() - started

        assert all(t["ok"] for t in turns), [t for t in turns if not t["ok"]]
        pages = [reader.next_event(predicate=lambda e: e["type"] == "presenter.changed")["data"]["page"]
                 for _ in range(PAGE_TURNS)]
        assert pages == list(range(3, 3 + PAGE_TURNS))
        codes = [a["error"]["code"] for a in acks]
        assert set(codes) <= {"rate_limited", "forbidden"}
        allowed = codes.count("forbidden")
        assert codes.count("rate_limited") > 0
        assert BURST - 1 <= allowed <= BURST + RATE * elapsed + 1  # the bucket, not luck (join took 1)
        with db_session(database_url) as s:  # only the chair's page turns were logged
            assert s.scalar(select(func.count()).select_from(MeetingEvent)) == events_before + PAGE_TURNS
        assert requests.get(server.url + "/healthz", timeout=WAIT_SECONDS).status_code == 200
        # Once the flooder slows down it is served again.
        time.sleep(1 / RATE * 2)
        ack = flooder.call("speaker.request", {"meeting_id": w.meeting_id})
        assert ack["ok"], ack
    finally:
        for c in (flooder, chair, reader):
            c.disconnect()
