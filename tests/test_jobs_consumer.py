"""The consumer as its own process (`flask --app wsgi jobs worker`), on SQLite and on Redis storage.

The drill of the issue: 200 e-mails queued, the consumer killed with SIGKILL in the middle of
the batch, started again: every message arrives exactly once (Message-IDs counted at the SMTP
server). The kill is made from inside the SMTP server, on the message that reaches a count,
once every message accepted before it is recorded as sent: so it lands between two messages
of a worker, never in the residual window (accepted by the server, not yet recorded), which
docs/deployment.md describes and no queue can close without the far side's help.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from meetings.accounts.models import User
from meetings.core.extensions import db
from meetings.notifications import delivery, outbox
from meetings.notifications.models import OutboxMessage
from meetings.platform import jobs
from tests.mail_server import mail_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/7"
BATCH = 200
KILL_AT = 60


@pytest.fixture(params=["sqlite", "redis"])
def storage(request, tmp_path):
    """The queue's settings: a SQLite file of this test, or a Redis queue of its own name."""
    if request.param == "sqlite":
        yield {"JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3")}
        return
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as err:
        pytest.fail(f"Redis is needed at {REDIS_URL}: {err}")
    yield {"JOBS_REDIS_URL": REDIS_URL, "JOBS_NAME": f"test-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def queue_app(app, mail_server, storage, tmp_path):  # noqa: F811
    app.config.update({**mail_server.smtp_settings, **storage, "OUTBOX_LEASE_SECONDS": 2,
                       "OUTBOX_SWEEP_GRACE_SECONDS": 0})
    with app.app_context():
        yield app
        jobs.huey_for(app).flush()  # a Redis queue leaves nothing behind


def _consumer(app, tmp_path, log_name: str) -> subprocess.Popen:
    """`flask --app wsgi jobs worker` over the test's database and queue, in its own process group."""
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_REDIS_URL", "JOBS_SQLITE_PATH")}
    settings = {key: app.config[key] for key in ("DATABASE_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_SENDER",
                                                 "OUTBOX_LEASE_SECONDS", "OUTBOX_SWEEP_GRACE_SECONDS", "JOBS_NAME")}
    for key in ("JOBS_SQLITE_PATH", "JOBS_REDIS_URL"):
        if app.config.get(key):
            settings[key] = app.config[key]
    env.update({k: str(v) for k, v in settings.items()})
    env.update({"INSTANCE_PATH": str(tmp_path / "consumer"), "SECRET_KEY": "consumer-test", "JOBS_WORKERS": "4",
                "JOBS_POLL_SECONDS": "0.1", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    log = open(tmp_path / log_name, "w")  # noqa: SIM115 (kept open for the child)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _people(count: int) -> list[User]:
    users = [User(username=f"p{i}", full_name=f"Đại biểu {i}", email=f"p{i}@meetings.test", password_hash="x")
             for i in range(count)]
    db.session.add_all(users)
    db.session.commit()
    return users


def _statuses() -> dict[int, str]:
    db.session.rollback()
    return dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())


def _attempts() -> dict[int, tuple[str, int]]:
    db.session.rollback()
    return {i: (s, n) for i, s, n in db.session.execute(select(OutboxMessage.id, OutboxMessage.status,
                                                              OutboxMessage.attempts))}


def _wait(condition, timeout: float, what: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    logs = "\n".join(p.read_text()[-3000:] for p in tmp_path.glob("consumer*.log"))
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def test_killed_mid_batch_and_restarted_each_message_arrives_once(queue_app, mail_server, tmp_path):  # noqa: F811
    for user in _people(BATCH):
        outbox.queue_email(db.session, user=user, kind="invitation", dedupe_key=f"inv:{user.id}",
                           subject="Giấy mời họp", text="Kính mời " + user.full_name, html="<p>Kính mời</p>")
    db.session.commit()
    huey = jobs.huey_for()
    assert huey.pending_count() == BATCH
    engine = db.engine
    consumer = _consumer(queue_app, tmp_path, "consumer-1.log")
    killed: dict[str, int] = {}

    def recorded(message_id: int) -> bool:
        if huey.get(delivery.sent_record(message_id), peek=True) is not None:
            return True
        with engine.connect() as conn:
            return conn.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id)) == "sent"

    def kill_mid_batch(envelope) -> bool:
        if killed:
            # Data a dead consumer had sent already reaches the server afterwards: not accepted, since
            # that consumer can no longer hear the answer (a real server would accept it: the residual window).
            return killed.get("restarted", False)
        if len(mail_server.raw) < KILL_AT:
            return True
        accepted = [int(m["Message-ID"].split("-")[1].split("@")[0]) for m in mail_server.messages]
        deadline = time.monotonic() + 10
        while not all(recorded(i) for i in accepted) and time.monotonic() < deadline:
            time.sleep(0.01)  # the server's loop waits here: no other message is accepted meanwhile
        _stop(consumer)
        killed["accepted"] = len(accepted)
        return False

    mail_server.before_accept = kill_mid_batch
    try:
        _wait(lambda: killed, 60, "the kill", tmp_path)
        states = _statuses()
        assert killed["accepted"] == KILL_AT
        assert list(states.values()).count("sent") <= KILL_AT < BATCH  # the batch was cut in its middle
        killed["restarted"] = True
        restarted = _consumer(queue_app, tmp_path, "consumer-2.log")
        try:
            _wait(lambda: set(_statuses().values()) == {"sent"}, 60, "every message sent", tmp_path)
        finally:
            _stop(restarted)
    finally:
        _stop(consumer)
    ids = mail_server.message_ids()
    assert len(ids) == BATCH, "a message was lost"
    assert set(ids.values()) == {1}, [k for k, n in ids.items() if n > 1]


def test_smtp_down_then_up_through_the_consumer(queue_app, mail_server, tmp_path):  # noqa: F811
    users = _people(3)
    mail_server.stop()
    for user in users:
        outbox.queue_email(db.session, user=user, kind="reminder", dedupe_key=f"r:{user.id}", subject="Nhắc họp",
                           text="Ngày mai họp.")
    db.session.commit()
    consumer = _consumer(queue_app, tmp_path, "consumer-down.log")
    try:
        _wait(lambda: set(_attempts().values()) == {("pending", 1)}, 30, "the failed attempts", tmp_path)
        mail_server.start()
        # The retry is 30 s away: bring it forward, as if the time had passed (the consumer's schedule holds
        # a task for then; the sweep, run at its start, queues rows that are due).
        db.session.rollback()  # a fresh transaction that writes first (SQLite: no stale read snapshot)
        db.session.execute(update(OutboxMessage).values(next_attempt_at=OutboxMessage.created_at))
        db.session.commit()
        _stop(consumer)
        consumer = _consumer(queue_app, tmp_path, "consumer-up.log")
        _wait(lambda: set(_statuses().values()) == {"sent"}, 30, "delivery once the server is up", tmp_path)
    finally:
        _stop(consumer)
    assert sorted(mail_server.message_ids().values()) == [1, 1, 1]
