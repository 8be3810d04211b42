"""`make run`'s server starts the job consumer beside gunicorn (gunicorn.conf.py) with no command of its own.

Without a mail server the e-mails wait and the console says so once; killing the arbiter
with SIGKILL takes the consumer with it; the next server (now with SMTP) delivers what waited.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from meetings import create_app
from meetings.core.extensions import db
from meetings.notifications import outbox
from meetings.notifications.models import OutboxMessage
from tests.live_server import start_server
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.outbox_helpers import person


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _until(condition, timeout: float, what: str, log=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{log()}")


@pytest.mark.slow
def test_the_server_runs_the_consumer_which_waits_without_smtp_and_dies_with_it(tmp_path, mail_server):  # noqa: F811
    instance = tmp_path / "instance"
    env = {"JOBS_CONSUMER": "1", "JOBS_POLL_SECONDS": "0.2", "OUTBOX_SWEEP_GRACE_SECONDS": "0",
           "LOG_LEVEL": "WARNING", "SMTP_HOST": ""}
    server = start_server(tmp_path, env)
    consumer = None
    try:
        _until(lambda: any("jobs worker" in cmd for _, cmd in _children(server.process.pid)), 30,
               "the consumer", server.log)
        (consumer,) = [pid for pid, cmd in _children(server.process.pid) if "jobs worker" in cmd]
        app = create_app({"DATABASE_URL": f"sqlite:///{instance / 'meetings.sqlite3'}", "INSTANCE_PATH": str(instance),
                          "STORAGE_PATH": str(instance / "storage"), "SECRET_KEY": "x", "TESTING": True})
        with app.app_context():
            user = person("an")
            for key in ("a", "b"):
                outbox.queue_email(db.session, user=user, kind="invitation", dedupe_key=key, subject="s", text="t")
            db.session.commit()
        _until(lambda: "SMTP not configured (SMTP_HOST): 2 e-mails waiting in the outbox" in server.log(), 30,
               "the console's notice", server.log)
        assert server.log().count("SMTP not configured") == 1
        os.kill(server.process.pid, signal.SIGKILL)  # the arbiter only: the consumer must follow by itself
        server.process.wait(timeout=10)
        _until(lambda: not _alive(consumer), 10, "the consumer to die with the arbiter")
    finally:
        server.stop()
        if consumer is not None and _alive(consumer):  # a red run leaves no orphan behind
            os.kill(consumer, signal.SIGKILL)
    again = start_server(tmp_path, {**env, **{k: str(v) for k, v in mail_server.smtp_settings.items()}}, migrate=False)
    try:
        assert mail_server.wait_for(2, timeout=30), again.log()

        def all_sent() -> bool:  # the mark follows the server's acceptance by a moment
            with app.app_context():
                return set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}

        _until(all_sent, 10, "the rows marked sent", again.log)
    finally:
        again.stop()
    assert len(mail_server.message_ids()) == 2
