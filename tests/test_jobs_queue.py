"""The job queue's own parts: registration, the unit of work, retries, immediate mode, storage choice."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import func, select

from meetings import create_app
from meetings.accounts.models import User
from meetings.core.extensions import db
from meetings.notifications import delivery, outbox
from meetings.platform import jobs
from meetings.platform.jobs.registry import JOBS
from meetings.platform.jobs.worker import make_consumer
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.outbox_helpers import person, row

CALLS: list = []


@jobs.task("test.remember", with_session=True)
def _remember(session, username):
    session.add(User(username=username, full_name=username, password_hash="x"))
    CALLS.append(username)
    if username.startswith("bad"):
        raise RuntimeError("the task failed")


@jobs.periodic("test.every_minute")
def _tick(session):
    CALLS.append("tick")


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    yield


def _users() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User))


def test_a_task_runs_in_a_unit_of_work_committed_or_rolled_back(app):
    huey = jobs.huey_for(app)
    with app.app_context():
        jobs.enqueue("test.remember", "ok1")
        jobs.enqueue("test.remember", "bad1")
        assert huey.pending_count() == 2
        for _ in range(2):
            huey.execute(huey.dequeue())
        assert CALLS == ["ok1", "bad1"]
        names = set(db.session.scalars(select(User.username)))
        assert names == {"ok1"}  # the failed task's write was rolled back


def test_a_task_that_fails_is_retried_with_back_off(app):
    huey = jobs.huey_for(app)
    JOBS["test.retried"] = JOBS["test.remember"].__class__("test.retried", _remember, retries=2, with_session=True)
    try:
        with app.app_context():
            jobs.enqueue("test.retried", "bad2")
            huey.execute(huey.dequeue())
            (again,) = huey.scheduled()  # put back with a delay (30 s, then doubling)
            waits = (again.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
            assert again.retries == 1 and 25 < waits <= 30  # the first retry after 30 s
            assert again.retry_delay == 60  # the next one after twice as long
    finally:
        del JOBS["test.retried"]


def test_periodic_tasks_are_registered_and_run_once_at_the_consumers_start(app):
    huey = jobs.huey_for(app)
    periodic = {t.name for t in huey.read_periodic(datetime.now(UTC))}  # every-minute tasks are due at any minute
    assert {"test.every_minute", delivery.SWEEP_TASK} <= periodic
    make_consumer(app, workers=1)  # not started: only its catch-up
    queued = sorted(t.name for t in huey.pending())
    assert queued == sorted(j.name for j in JOBS.values() if j.crontab is not None)
    with app.app_context():
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
    assert "tick" in CALLS


def test_storage_follows_the_settings(tmp_path, database_url):
    sqlite_app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "i"),
                             "STORAGE_PATH": str(tmp_path / "s"), "SECRET_KEY": "x", "TESTING": True})
    huey = jobs.huey_for(sqlite_app)
    assert isinstance(huey, SqliteHuey) and huey.storage.filename == str(tmp_path / "i" / "jobs.sqlite3")
    redis_app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "j"),
                            "STORAGE_PATH": str(tmp_path / "s"), "SECRET_KEY": "x",
                            "TESTING": True, "JOBS_REDIS_URL": "redis://127.0.0.1:6379/7", "JOBS_NAME": "t-storage"})
    assert isinstance(jobs.huey_for(redis_app), RedisHuey)
    assert jobs.huey_for(redis_app).name == "t-storage"


def test_immediate_mode_delivers_right_after_the_commit(app, mail_server):  # noqa: F811
    app.config.update(JOBS_IMMEDIATE=True, **mail_server.smtp_settings)
    with app.app_context():
        user = person("an")
        message = outbox.queue_email(db.session, user=user, kind="x", dedupe_key="now", subject="s", text="t")
        assert mail_server.raw == []  # nothing leaves before the commit
        db.session.commit()
        assert len(mail_server.raw) == 1 and row(message.id).status == "sent"


def test_the_queue_down_at_commit_leaves_the_row_for_the_sweep(app, mail_server, monkeypatch):  # noqa: F811
    app.config.update(mail_server.smtp_settings)

    def unreachable(*args, **kwargs):
        raise ConnectionError("queue storage down")

    with app.app_context():
        user = person("binh")
        monkeypatch.setattr(jobs, "enqueue", unreachable)
        message = outbox.queue_email(db.session, user=user, kind="x", dedupe_key="q", subject="s", text="t")
        db.session.commit()  # the change commits although its hand-over failed
        monkeypatch.undo()
        assert row(message.id).status == "pending" and jobs.pending_count() == (0, 0)
        app.config["OUTBOX_SWEEP_GRACE_SECONDS"] = 0
        assert delivery.sweep() == 1
        assert delivery.deliver(message.id) == "sent"
