"""Broadcasts of the job consumer reach the web server's sockets without a message queue
(meetings/platform/realtime/relay.py): the embedded default, one gunicorn, no Redis.

A real gunicorn (gunicorn.conf.py starts the relay's listener) serves real Socket.IO clients; a
real consumer (`flask --app wsgi jobs worker`, a process of its own) runs the hour-before reminder
at its start, and the reminder's bell notice must reach the delegate's open socket.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.models import SocketRelay
from meetings.platform.realtime.relay import Listener
from meetings.platform.realtime.rooms import user_room
from tests.socket_helpers import SocketClient, assert_not_received, db_session, make_world, start_socket_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def context(app):
    """The app context a job or a request runs in (the relay reads its app's config)."""
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("relay"), database_url, env={"ACCESS_LOG": "/dev/null"})
    assert not handle.env.get("SOCKETIO_MESSAGE_QUEUE")
    yield handle
    handle.stop()


def _consumer(server, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in server.env.items() if k != "BIND"}
    env.update({"INSTANCE_PATH": str(tmp_path / "consumer"), "JOBS_POLL_SECONDS": "0.1", "JOBS_WORKERS": "1"})
    log = open(tmp_path / "consumer.log", "w")  # noqa: SIM115 (the child writes to it)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_the_consumers_bell_notice_reaches_an_open_socket(server, database_url, tmp_path):
    w = make_world(database_url, status="scheduled")
    with db_session(database_url) as s:  # the hour-before reminder is due (as tests/test_notifications_consumer.py)
        s.execute(update(Meeting).where(Meeting.id == w.meeting_id).values(starts_at=utcnow() + timedelta(minutes=59)))
        s.commit()
    delegate = SocketClient(server.url, w.tokens["delegate"]).connect()
    outsider = SocketClient(server.url, w.tokens["outsider"]).connect()
    consumer = _consumer(server, tmp_path)  # at start it runs every periodic task once
    try:
        try:
            notice = delegate.next_event("notification.new")
        except AssertionError:
            raise AssertionError((tmp_path / "consumer.log").read_text()[-3000:] + server.log()[-3000:]) from None
        assert notice["notification"]["kind"] == "reminder" and notice["unread"] >= 1, notice
        # The notice went to the delegate's room only; the outsider takes part in nothing.
        assert_not_received(outsider, lambda name, data: name == "notification.new")
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
        delegate.disconnect()
        outsider.disconnect()
    with db_session(database_url) as s:  # delivered rows are deleted
        assert s.scalar(select(func.count()).select_from(SocketRelay)) == 0


def _rows() -> list[tuple[str, str, dict]]:
    return [tuple(r) for r in db.session.execute(select(SocketRelay.room, SocketRelay.event, SocketRelay.data)
                                                 .order_by(SocketRelay.id))]


def test_writing_mode_writes_after_commit_and_nothing_on_rollback(context, world):
    app = context
    uid = world.users["delegate"].id
    app.config["SOCKET_RELAY_WRITE"] = True
    try:
        eventlog.notify(db.session, uid, "test.relay", {"n": 1})
        db.session.rollback()
        assert _rows() == []
        db.session.rollback()
        eventlog.notify(db.session, uid, "test.relay", {"n": 2})
        assert _rows() == []  # not inside the domain transaction
        db.session.commit()
        assert _rows() == [(user_room(uid), "test.relay", {"n": 2})]
    finally:
        app.config["SOCKET_RELAY_WRITE"] = False
    db.session.rollback()


def test_a_broadcast_that_cannot_be_written_is_logged_and_the_commit_stands(context, world, caplog):
    """The job's transaction committed before the relay writes: a failed write loses the
    broadcast (the seq catch-up and the bell's poll recover it), never the job's work."""
    app = context
    uid = world.users["delegate"].id
    meeting = db.session.get(Meeting, world.meeting.id)
    app.config["SOCKET_RELAY_WRITE"] = True
    try:
        meeting.title = "Đã đổi tên"
        eventlog.notify(db.session, uid, "test.relay", {"unwritable": object()})  # no JSON for this
        with caplog.at_level("ERROR", logger="meetings.platform.realtime.relay"):
            db.session.commit()
        eventlog.notify(db.session, uid, "test.relay", {"n": 5})
        db.session.commit()  # the next broadcast is written as before
    finally:
        app.config["SOCKET_RELAY_WRITE"] = False
    assert "1 broadcast(s) not written, dropped (test.relay)" in caplog.text
    db.session.expire_all()
    assert db.session.get(Meeting, world.meeting.id).title == "Đã đổi tên"
    assert _rows() == [(user_room(uid), "test.relay", {"n": 5})]


def test_the_web_process_and_a_process_with_a_queue_write_nothing(context, world):
    app = context
    uid = world.users["delegate"].id
    eventlog.notify(db.session, uid, "test.relay", {"n": 3})  # the test client's app: it serves sockets
    db.session.commit()
    app.config.update(SOCKET_RELAY_WRITE=True, SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:6379/0")
    try:  # with a message queue the queue carries the broadcast (here: no server to emit to)
        eventlog.notify_now(uid, "test.relay", {"n": 4})
    finally:
        app.config.update(SOCKET_RELAY_WRITE=False, SOCKETIO_MESSAGE_QUEUE=None)
    assert _rows() == []


def test_the_listener_sends_in_order_deletes_and_drops_stale_rows(app):
    engine = db.engine
    old = utcnow() - timedelta(seconds=120)
    db.session.add_all([SocketRelay(room="r1", event="old", data={}, created_at=old),
                        SocketRelay(room="r1", event="a", data={"i": 1}),
                        SocketRelay(room="r2", event="b", data={"i": 2})])
    db.session.commit()
    sent = []
    listener = Listener(engine, lambda name, data, to: sent.append((to, name, data)), 0.5)
    assert listener.drop_stale() == 1
    assert listener.tick() == 2
    assert sent == [("r1", "a", {"i": 1}), ("r2", "b", {"i": 2})]
    db.session.rollback()
    assert _rows() == []
    assert listener.tick() == 0 and len(sent) == 2


def test_rows_whose_delete_failed_are_not_sent_twice(app):
    """The rows were emitted, then their DELETE failed (the database went away): the next poll
    deletes them without emitting them again."""
    engine = db.engine
    db.session.add_all([SocketRelay(room="r1", event="a", data={"i": 1}),
                        SocketRelay(room="r1", event="b", data={"i": 2})])
    db.session.commit()
    failures = [RuntimeError("the database went away")]

    def fail_once(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE") and failures:
            raise failures.pop()

    sent = []
    listener = Listener(engine, lambda name, data, to: sent.append(name), 0.5)
    event.listen(engine, "before_cursor_execute", fail_once)
    try:
        with pytest.raises(RuntimeError):
            listener.tick()
        assert sent == ["a", "b"] and len(_rows()) == 2
        db.session.rollback()
        assert listener.tick() == 0
    finally:
        event.remove(engine, "before_cursor_execute", fail_once)
    assert sent == ["a", "b"]
    db.session.rollback()
    assert _rows() == []
