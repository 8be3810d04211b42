"""The reminders' periodic task run by the real consumer (`flask --app wsgi jobs worker`, its own
process) on the real clock: a meeting starting in 59 minutes is reminded once, by e-mail to the
SMTP server and in the app."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from meetings.core.db import utcnow
from meetings.core.extensions import db
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.notification_helpers import addresses, lines, note_app  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


def _start_consumer(app, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBS_", "SMTP_", "NOTIFY_"))}
    for key in ("DATABASE_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_SENDER", "JOBS_SQLITE_PATH", "PUBLIC_URL"):
        env[key] = str(app.config[key])
    env.update({"INSTANCE_PATH": str(tmp_path / "consumer"), "SECRET_KEY": "consumer", "JOBS_POLL_SECONDS": "0.1",
                "JOBS_WORKERS": "2", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    log = open(tmp_path / "consumer.log", "w")  # noqa: SIM115 (the child writes to it)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_the_consumer_sends_the_hour_before_reminder_once(note_app, world, mail_server, tmp_path):  # noqa: F811
    note_app.config["JOBS_SQLITE_PATH"] = str(tmp_path / "jobs.sqlite3")
    addresses(world)
    meeting = db.session.merge(world.meeting)
    meeting.starts_at = utcnow() + timedelta(minutes=59)
    db.session.commit()
    chair_id = world.users["chair"].id
    consumer = _start_consumer(note_app, tmp_path)  # at start it runs every periodic task once (catch-up)
    try:
        arrived = mail_server.wait_for(5, timeout=30)
        time.sleep(0.5)  # anything doubled would arrive now
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    assert arrived, (tmp_path / "consumer.log").read_text()[:6000]
    ids = mail_server.message_ids()
    assert len(ids) == 5 and set(ids.values()) == {1}
    assert {m["Subject"] for m in mail_server.messages} >= {"Nhắc lịch họp: Phiên họp thường kỳ tháng 12"}
    assert [n.kind for n in lines(chair_id)] == ["reminder"]
