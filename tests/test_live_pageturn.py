"""The page-turn fast path (role remembered per socket at join) over a real gevent server.

A page turn from a socket that joined the meeting costs no permission query
while nothing else happened in the meeting; these tests check that it still
logs and broadcasts exactly like the full path, and that a participant who is
removed (or demoted) loses the right to move the viewers at once.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from meetings.bodies.models import Participant
from meetings.live.models import LiveState
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.socket_helpers import SocketClient, db_session, make_world, start_socket_server


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("pageturn"), database_url)
    yield handle
    handle.stop()


@pytest.fixture
def world(server, database_url):
    w = make_world(database_url)
    w.url = server.url
    return w


def joined(world, name: str) -> SocketClient:
    client = SocketClient(world.url, world.tokens[name]).connect()
    ack = client.call("meeting.join", {"meeting_id": world.meeting_id})
    assert ack["ok"] is True, ack
    return client


def rest(world, name: str, method: str, path: str, body: dict | None = None) -> int:
    req = urllib.request.Request(world.url + "/api/v1" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {world.tokens[name]}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def participant_id(database_url: str, world, name: str) -> int:
    with db_session(database_url) as s:
        return s.execute(select(Participant.id).where(Participant.meeting_id == world.meeting_id,
                                                      Participant.user_id == world.user_ids[name])).scalar_one()


def state(database_url: str, meeting_id: int) -> tuple:
    """(page, zoom, events logged, audit entries) of the meeting."""
    with db_session(database_url) as s:
        row = s.execute(select(LiveState.page, LiveState.zoom).where(LiveState.meeting_id == meeting_id)).first()
        events = s.execute(select(func.count()).select_from(MeetingEvent)
                           .where(MeetingEvent.meeting_id == meeting_id)).scalar_one()
        audit = s.execute(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.meeting_id == meeting_id)).scalar_one()
        return (tuple(row) if row else None, events, audit)


def test_fast_page_turns_log_and_broadcast_like_the_full_path(world, database_url):
    chair, delegate = joined(world, "chair"), joined(world, "delegate")
    mid = world.meeting_id
    try:
        # The first change of a meeting creates its state row (full path), the rest are fast.
        for page in (2, 3, 4):
            assert chair.call("presenter.set", {"meeting_id": mid, "page": page}) == {"ok": True,
                                                                                       "changed": {"page": page}}
        assert chair.call("presenter.set", {"meeting_id": mid, "zoom": 1.5})["changed"] == {"zoom": 1.5}
        # Nothing to change: nothing logged.
        assert chair.call("presenter.set", {"meeting_id": mid, "page": 4}) == {"ok": True, "changed": {}}
        got = [delegate.next_event("event") for _ in range(4)]
        assert [(e["seq"], e["type"], e["data"]) for e in got] == [
            (1, "presenter.changed", {"page": 2}), (2, "presenter.changed", {"page": 3}),
            (3, "presenter.changed", {"page": 4}), (4, "presenter.changed", {"zoom": 1.5})]
        assert all(e["actor_id"] == world.user_ids["chair"] and e["at"] for e in got)
        # Page and zoom changes are not audited (the event log is their record).
        assert state(database_url, mid) == ((4, 1.5), 4, 0)
        # A delegate who is not the designated presenter is refused, by the fast path's check too.
        ack = delegate.call("presenter.set", {"meeting_id": mid, "page": 9})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
        assert state(database_url, mid) == ((4, 1.5), 4, 0)
    finally:
        chair.disconnect()
        delegate.disconnect()


def test_a_removed_presenter_loses_the_right_at_once(world, database_url):
    mid = world.meeting_id
    chair, presenter = joined(world, "chair"), joined(world, "delegate")
    try:
        assert chair.call("presenter.set", {"meeting_id": mid, "presenter_id": world.user_ids["delegate"]})["ok"]
        assert presenter.call("presenter.set", {"meeting_id": mid, "page": 2})["changed"] == {"page": 2}
        assert presenter.call("presenter.set", {"meeting_id": mid, "page": 3})["changed"] == {"page": 3}
        # The secretariat removes the presenter from the meeting (over REST, another request).
        pid = participant_id(database_url, world, "delegate")
        assert rest(world, "secretary", "DELETE", f"/meetings/{mid}/participants/{pid}") in (200, 204)
        before = state(database_url, mid)
        ack = presenter.call("presenter.set", {"meeting_id": mid, "page": 4})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
        ack = presenter.call("presenter.set", {"meeting_id": mid, "zoom": 2.0})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
        assert state(database_url, mid) == before
        assert chair.call("presenter.set", {"meeting_id": mid, "page": 4})["changed"] == {"page": 4}
    finally:
        chair.disconnect()
        presenter.disconnect()


def test_a_demoted_chair_loses_the_right_at_once(world, database_url):
    mid = world.meeting_id
    chair = joined(world, "chair")
    try:
        assert chair.call("presenter.set", {"meeting_id": mid, "page": 2})["ok"]
        assert chair.call("presenter.set", {"meeting_id": mid, "page": 3})["changed"] == {"page": 3}
        pid = participant_id(database_url, world, "chair")
        assert rest(world, "secretary", "PATCH", f"/meetings/{mid}/participants/{pid}", {"role": "delegate"}) == 200
        before = state(database_url, mid)
        ack = chair.call("presenter.set", {"meeting_id": mid, "page": 4})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
        assert state(database_url, mid) == before
    finally:
        chair.disconnect()


def test_fast_path_refuses_a_meeting_that_is_no_longer_live(world, database_url):
    mid = world.meeting_id
    chair = joined(world, "chair")
    try:
        assert chair.call("presenter.set", {"meeting_id": mid, "page": 2})["ok"]
        for status in ("adjourned", "closed"):
            assert rest(world, "secretary", "POST", f"/meetings/{mid}/status", {"status": status}) == 200
        before = state(database_url, mid)
        ack = chair.call("presenter.set", {"meeting_id": mid, "page": 3})
        assert ack["ok"] is False and ack["error"]["code"] == "meeting_not_live", ack
        assert state(database_url, mid) == before
    finally:
        chair.disconnect()
