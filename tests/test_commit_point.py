"""The one commit point of an HTTP request (meetings/platform/http/commit.py).

A request that may write and succeeded is committed once, after the view; a
read, a refused request and a failed one leave nothing behind; what a view
queued for broadcast goes out only with that commit. Probe routes are added to
a real application over the test's real database.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from meetings.core.errors import Invalid
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.audit.service import record
from meetings.platform.realtime import eventlog


def _entries() -> int:
    db.session.remove()
    return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


@pytest.fixture
def probe(app, monkeypatch):
    """An app with a route that writes an audit entry and queues a notice, then answers
    with the status the caller asks for (or raises a domain error)."""
    sent = []
    monkeypatch.setattr("meetings.core.extensions.socketio.emit", lambda *a, **k: sent.append(a))

    def write(status: int):
        record(db.session, "probe.write", actor_id=None)
        eventlog.notify(db.session, 1, "probe.notice", {})
        if status == 422:
            raise Invalid("refused after writing")
        return {"ok": True}, status

    app.add_url_rule("/api/v1/probe/<int:status>", "probe", write, methods=["GET", "POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client(), sent


def test_a_successful_write_is_committed_and_then_broadcast(probe):
    client, sent = probe
    assert client.post("/api/v1/probe/201").status_code == 201
    assert _entries() == 1
    assert [a[0] for a in sent] == ["probe.notice"]


@pytest.mark.parametrize("status", [422, 409, 500])
def test_a_refused_or_failed_write_leaves_nothing_and_announces_nothing(probe, status):
    client, sent = probe
    assert client.post(f"/api/v1/probe/{status}").status_code == status
    assert _entries() == 0
    assert sent == []


def test_a_get_never_writes(probe):
    client, sent = probe
    assert client.get("/api/v1/probe/200").status_code == 200
    assert _entries() == 0
    assert sent == []


def test_a_commit_that_fails_becomes_the_error_answer(app, monkeypatch):
    """Two users with one username pass the view (nothing is flushed) and fail at the
    commit: the answer is the JSON 500, nothing is stored, nothing announced."""
    from meetings.accounts.models import User

    sent = []
    monkeypatch.setattr("meetings.core.extensions.socketio.emit", lambda *a, **k: sent.append(a))

    def clash():
        db.session.add_all([User(username="twin", full_name="A", password_hash="x"),
                            User(username="twin", full_name="B", password_hash="x")])
        eventlog.notify(db.session, 1, "probe.notice", {})
        return {"ok": True}, 201

    app.add_url_rule("/api/v1/probe-clash", "probe_clash", clash, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    r = app.test_client().post("/api/v1/probe-clash")
    assert r.status_code == 500 and r.json["error"]["code"] == "internal_error"
    db.session.remove()
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0
    assert sent == []


def test_work_afterwards_runs_once_after_the_request_and_its_failure_is_not_the_answer(app, caplog):
    """A read that must cause a write asks for it afterwards: it runs once the read's own
    transaction has ended (so the read still wrote nothing), once however often asked."""
    from meetings.platform.http.commit import afterwards

    ran = []

    def work():
        ran.append(db.session().in_transaction())  # a fresh session: the request's one is gone
        record(db.session, "probe.afterwards", actor_id=None)
        db.session.commit()

    def failing():
        raise RuntimeError("the work failed")

    def read():
        assert _entries() == 0
        afterwards(work)
        afterwards(work)
        afterwards(failing)
        return {"ok": True}

    app.add_url_rule("/api/v1/probe-read", "probe_read", read)
    assert app.test_client().get("/api/v1/probe-read").status_code == 200
    assert ran == [False]
    assert _entries() == 1
    assert "work after GET /api/v1/probe-read failed" in caplog.text


def test_has_written_sees_flushes_and_statements_not_reads(app):
    """What decides whether a transaction may be ended early or a poll closed beside it."""
    from sqlalchemy import insert

    from meetings.core.db import has_written
    from meetings.platform.audit.models import AuditEntry as Entry

    with app.app_context():
        session = db.session
        session.execute(select(func.count()).select_from(Entry))
        assert not has_written(session)
        record(session, "probe.flushed", actor_id=None)
        session.flush()
        assert has_written(session)
        session.rollback()
        assert not has_written(session)  # a new transaction starts clean
        session.execute(insert(Entry.__table__).values(action="probe.core", prev_hash="", hash="x" * 64,
                                                        at=datetime.now(UTC)))
        assert has_written(session)  # an INSERT without a flush (as the event log writes)
        session.rollback()
