"""Broadcast only after commit (meetings/platform/realtime/eventlog.py), on a real server.

A real gunicorn + gevent worker serves the application with two test-only
routes (tests/eventlog_app.py); real Socket.IO clients sit in the meeting's
room. A commit that fails after ``eventlog.append`` must send nothing and leave
the meeting's ``last_seq`` as it was; an event appended in a transaction that
is still open must not reach anyone until that transaction commits.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import uuid

import pytest
import requests
from sqlalchemy import func, select

from meetings.bodies.models import Meeting
from meetings.platform.realtime.models import MeetingEvent
from tests.live_server import PROJECT_ROOT, ServerHandle, free_port, server_env
from tests.socket_helpers import (
    WAIT_SECONDS,
    SocketClient,
    assert_not_received,
    db_session,
    make_world,
    page_turn_barrier,
    wait_until,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    """gunicorn (gunicorn.conf.py, gevent) serving tests.eventlog_app:app over the test's database."""
    tmp = tmp_path_factory.mktemp("eventlog-commit")
    env = server_env(tmp, {"DATABASE_URL": database_url, "GUNICORN_GRACEFUL_TIMEOUT": "3"})
    port = free_port()
    env["BIND"] = f"127.0.0.1:{port}"
    log_path = tmp / "gunicorn.log"
    with open(log_path, "wb") as log:
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.eventlog_app:app"]
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)  # stop() ends the group
    handle = ServerHandle(f"http://127.0.0.1:{port}", process, env, log_path, tmp / "instance")

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{handle.log()}")
        try:
            return requests.get(handle.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, "the test server to answer /healthz")
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def room(server, database_url):
    """A live meeting with the chair and a delegate in its room; both disconnected afterwards."""
    w = make_world(database_url)
    w.url = server.url
    clients = []
    for name in ("chair", "delegate"):
        c = SocketClient(server.url, w.tokens[name]).connect()
        clients.append(c)
        assert c.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
    yield w, *clients
    for c in clients:
        c.disconnect()


def _log_state(database_url, meeting_id: int) -> tuple[int, int]:
    """(the meeting's last_seq, how many events it has stored)."""
    with db_session(database_url) as s:
        return (s.execute(select(Meeting.last_seq).where(Meeting.id == meeting_id)).scalar_one(),
                s.execute(select(func.count()).select_from(MeetingEvent)
                          .where(MeetingEvent.meeting_id == meeting_id)).scalar_one())


def _mentions(tag: str):
    return lambda name, data: tag in repr(data)


def test_a_failed_commit_sends_nothing_and_keeps_last_seq(server, room, database_url):
    world, chair, delegate = room
    before = _log_state(database_url, world.meeting_id)
    tag = uuid.uuid4().hex
    r = requests.get(server.url + "/_test/eventlog/doomed", timeout=WAIT_SECONDS, params={
        "meeting_id": world.meeting_id, "tag": tag, "user_id": world.user_ids["delegate"]})
    assert r.status_code == 409 and r.json()["committed"] is False, r.text
    assert _log_state(database_url, world.meeting_id) == before, "the failed commit left a seq or an event behind"
    # A page turn after it reaches both (the room's order): only then is "nothing arrived" a fact.
    barrier = page_turn_barrier(chair, world.meeting_id, chair, delegate)
    assert_not_received([delegate, chair], _mentions(tag), barrier, what="an event or notice of a failed commit")
    # The barrier took the very seq the failed transaction had taken: it was never used.
    turned = next(d for n, d in delegate.history if n == "event" and d["type"] == "presenter.changed")
    assert turned["seq"] == r.json()["seq"] == before[0] + 1
    assert _log_state(database_url, world.meeting_id) == (before[0] + 1, before[1] + 1)


def test_nothing_is_sent_before_the_commit(server, room, database_url, tmp_path):
    world, _chair, delegate = room
    before = _log_state(database_url, world.meeting_id)
    tag = uuid.uuid4().hex
    answer: dict[str, requests.Response] = {}

    def request() -> None:
        answer["r"] = requests.get(server.url + "/_test/eventlog/held", timeout=3 * WAIT_SECONDS, params={
            "meeting_id": world.meeting_id, "tag": tag, "dir": str(tmp_path)})

    sender = threading.Thread(target=request)
    sender.start()
    try:
        wait_until(lambda: (tmp_path / "appended").exists(), "the route to append its event")
        # The transaction is open: the delegate's own round trip is answered after anything the
        # server sent it so far, and the event is not among it; nor is it visible in the database.
        assert_not_received(delegate, _mentions(tag), what="an event of a transaction still open")
        assert _log_state(database_url, world.meeting_id) == before
    finally:
        (tmp_path / "go").touch()
        sender.join(timeout=3 * WAIT_SECONDS)
    assert answer["r"].status_code == 200, answer["r"].text
    seq = answer["r"].json()["seq"]
    _, ev = delegate.wait_for(_mentions(tag), "the event after its commit")
    assert (ev["type"], ev["seq"], ev["data"]) == ("test.held", seq, {"tag": tag})
    assert _log_state(database_url, world.meeting_id) == (before[0] + 1, before[1] + 1)
