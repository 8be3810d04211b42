"""Sending 1,000 invitation-sized e-mails through the job consumer to a real SMTP server.

A scratch SQLite database (or PostgreSQL with --postgresql) and Huey queue in a temporary folder;
1,000 users; one transaction queues 1,000 e-mails (text, HTML and an .ics, about 12 KB each, like
an invitation); then `flask --app wsgi jobs worker` runs as its own process and aiosmtpd, in this
process, receives. Measured: from the consumer's start to the last message accepted, and the
queueing transaction itself. Prints one JSON line; ``--json FILE`` writes it too.

    .venv/bin/python bench/outbox_send.py [--count 1000] [--workers 4] [--postgresql] [--redis]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import load_average, scratch_postgresql, write_json  # noqa: E402

TEXT = ("Kính gửi đồng chí,\n\nVăn phòng trân trọng kính mời đồng chí dự phiên họp thường kỳ tháng 12 "
        "của Ủy ban nhân dân tỉnh.\n\n" + "Nội dung: báo cáo tình hình kinh tế - xã hội.\n" * 30)
HTML = "<html><body>" + "<p>Kính mời đồng chí dự <b>phiên họp thường kỳ</b>; chương trình kèm theo.</p>" * 70
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
       "UID:meeting-1-bench@meetings.test\r\nSEQUENCE:0\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270110T020000Z\r\n"
       "DTEND:20270110T050000Z\r\nSUMMARY:Phiên họp thường kỳ\r\nLOCATION:Phòng họp số 1\r\n"
       + "DESCRIPTION:" + "Báo cáo kinh tế - xã hội\\n" * 20 + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def run(count: int, workers: int, database_url: str | None, redis_url: str | None) -> dict:
    from meetings import create_app
    from meetings.accounts.models import User
    from meetings.core.extensions import db
    from meetings.core.migrate import upgrade
    from meetings.notifications import outbox
    from meetings.platform import jobs
    from tests.mail_server import MailServer

    work = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    url = database_url or f"sqlite:///{work / 'meetings.sqlite3'}"
    upgrade(url)
    mail = MailServer()
    mail.start()
    queue = ({"JOBS_REDIS_URL": redis_url, "JOBS_NAME": f"bench-{uuid.uuid4().hex[:8]}"} if redis_url
             else {"JOBS_SQLITE_PATH": str(work / "jobs.sqlite3")})
    settings = {"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"), "STORAGE_PATH": str(work / "storage"),
                "SECRET_KEY": "bench",
                **mail.smtp_settings, **queue}
    app = create_app(settings)
    with app.app_context():
        users = [User(username=f"d{i}", full_name=f"Đại biểu {i}", email=f"d{i}@meetings.test", password_hash="x")
                 for i in range(count)]
        db.session.add_all(users)
        db.session.commit()
        started = time.perf_counter()
        for user in users:
            outbox.queue_email(db.session, user=user, kind="invitation", dedupe_key=f"inv:{user.id}",
                               subject="Giấy mời họp: phiên họp thường kỳ tháng 12", text=TEXT, html=HTML,
                               attachments=[outbox.attachment("invite.ics", "text/calendar; method=REQUEST", ICS)])
        db.session.commit()
        queued_s = time.perf_counter() - started
        size = len(TEXT.encode()) + len(HTML.encode()) + len(ICS.encode())
    env = {**os.environ, **{k: str(v) for k, v in settings.items()}, "JOBS_WORKERS": str(workers),
           "JOBS_POLL_SECONDS": "0.1", "LOG_LEVEL": "WARNING"}
    env.pop("INSTANCE_PATH", None)
    env["INSTANCE_PATH"] = str(work / "consumer")
    start = time.perf_counter()
    consumer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        ok = mail.wait_for(count, timeout=600)
        elapsed = time.perf_counter() - start
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
        mail.stop()
        with contextlib.suppress(Exception), app.app_context():
            jobs.huey_for(app).flush()
            db.engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    ids = mail.message_ids()
    return {"scenario": "outbox_send", "count": count, "workers": workers,
            "database": "postgresql" if database_url else "sqlite", "queue": "redis" if redis_url else "sqlite",
            "delivered": len(ids), "doubled": sum(n - 1 for n in ids.values()), "complete": ok,
            "seconds": round(elapsed, 2), "per_second": round(len(ids) / elapsed, 1),
            "queueing_transaction_s": round(queued_s, 2), "message_kb": round(size / 1024, 1),
            "load": load_average()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--redis", action="store_true", help="Redis queue at 127.0.0.1:6379/8")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    redis_url = "redis://127.0.0.1:6379/8" if args.redis else None
    if args.postgresql:
        with scratch_postgresql("outbox") as url:
            result = run(args.count, args.workers, url, redis_url)
    else:
        result = run(args.count, args.workers, None, redis_url)
    print(json.dumps(result, ensure_ascii=False))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
