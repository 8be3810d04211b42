"""End to end: the secretariat publishes over REST, the job consumer runs as its own process
(`flask --app wsgi jobs worker`) and delivers every invitation to the SMTP server once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from meetings.core.extensions import db
from meetings.notifications.models import OutboxMessage
from tests.invitation_helpers import (
    calendar_part,
    draft,  # noqa: F401  (fixture)
    inv_app,  # noqa: F401  (fixture)
    second_parser,
    status,
)
from tests.mail_server import mail_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


def _start_consumer(app, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBS_", "SMTP_"))}
    for key in ("DATABASE_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_SENDER", "JOBS_SQLITE_PATH"):
        env[key] = str(app.config[key])
    # One worker: this test is about what arrives; concurrent workers are tests/test_jobs_consumer.py's drill.
    env.update({"INSTANCE_PATH": str(tmp_path / "consumer"), "SECRET_KEY": "consumer", "JOBS_POLL_SECONDS": "0.1",
                "JOBS_WORKERS": "1",
                "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    log = open(tmp_path / "consumer.log", "w")  # noqa: SIM115 (the child writes to it)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _invitations(server) -> list:
    """The received e-mails that carry a calendar entry (the consumer's reminder tick may send others)."""
    return [m for m in list(server.messages) if any(p.get_content_type() == "text/calendar" for p in m.walk())]


def test_published_invitations_reach_the_mail_server_through_the_consumer(inv_app, draft, as_user,  # noqa: F811
                                                                          mail_server, tmp_path):  # noqa: F811
    inv_app.config["JOBS_SQLITE_PATH"] = str(tmp_path / "jobs.sqlite3")
    _, meeting_id = draft
    status(as_user, meeting_id, "scheduled")  # the rows commit with the status; their tasks are queued after
    consumer = _start_consumer(inv_app, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(_invitations(mail_server)) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        arrived = len(_invitations(mail_server)) >= 5
        time.sleep(0.5)  # anything doubled would arrive now
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    assert arrived, (tmp_path / "consumer.log").read_text()[:6000]
    ids = mail_server.message_ids()
    assert set(ids.values()) == {1}  # nothing doubled
    # The consumer's reminder tick may also remind them of a meeting this close: count the invitations.
    invitations = _invitations(mail_server)
    assert len(invitations) == 5
    for mail in invitations:
        method, event, raw = calendar_part(mail)
        assert method == "REQUEST" and second_parser(raw).uid == str(event["UID"])
    db.session.rollback()
    kinds = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.kind)).all())
    assert sum(kind == "invitation" for kind in kinds.values()) == 5
    assert set(db.session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "invitation"))) == {"sent"}
