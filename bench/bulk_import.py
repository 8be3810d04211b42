"""Bulk import of 1,000 participants (XLSX) and the roll call of 1,000 in one call, over the REST API.

A scratch SQLite database (or PostgreSQL with --postgresql); the application's own test client
(views, services, the commit point: everything but the socket), an administrator and a
secretary. Measured, each as one request:
- the dry run and the apply of an XLSX of ``--rows`` people (new accounts, 20 units) into a draft
  meeting, then the same apply again (nothing to change);
- the apply of another list into a published meeting (each new participant is sent an invitation:
  ``participants_added`` → notifications owes them their invitations, composed by the job queue after the commit);
- a body of ``--rows`` members into a meeting (``participants/from-body``);
- ``PUT /meetings/<id>/attendance`` marking all of them present, against ``--single`` single
  ``PUT …/attendance/<user_id>`` with the whole roll as answer (as before) and with ``?roll=false``.
Prints one JSON line; ``--json FILE`` writes it too.

    .venv/bin/python bench/bulk_import.py [--rows 1000] [--single 50] [--postgresql]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import load_average, scratch_postgresql, write_json  # noqa: E402

HEADER = ["Họ và tên", "Tên đăng nhập", "Thư điện tử", "Điện thoại", "Đơn vị", "Vai trò", "Quyền biểu quyết",
          "Trọng số"]


def xlsx(rows: int, prefix: str) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append([f"Nguyễn Thị Đại Biểu {i}", f"{prefix}{i:05d}", f"{prefix}{i:05d}@ubnd.vn", f"849{i:08d}",
                      f"Sở Ban ngành số {i % 20}", "đại biểu", "có", 1])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _timed(call):
    started = time.perf_counter()
    answer = call()
    return round(time.perf_counter() - started, 3), answer


def run(rows: int, single: int, database_url: str | None) -> dict:
    from sqlalchemy import select

    from meetings import create_app
    from meetings.accounts.service import create_user, issue_token
    from meetings.bodies.models import Body, BodyMember, Meeting, Participant
    from meetings.bodies.sittings import change_status
    from meetings.core.db import utcnow
    from meetings.core.extensions import db
    from meetings.core.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="bulk-import-bench-"))
    url = database_url or f"sqlite:///{work / 'meetings.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"),
                      "STORAGE_PATH": str(work / "storage"), "SECRET_KEY": "bench", "MFA_REQUIRED_ROLES": "",
                      "PUBLIC_URL": "https://hop.example.vn", "JOBS_SQLITE_PATH": str(work / "jobs.sqlite3"),
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    out: dict = {"rows": rows, "database": "postgresql" if database_url else "sqlite"}
    try:
        with app.app_context():
            create_user(db.session, "bench-admin", "Mật-khẩu-dài-dài-1", "Quản trị", global_role="admin")
            secretary = create_user(db.session, "bench-thuky", "Mật-khẩu-dài-dài-2", "Thư ký")
            body = Body(name="Ủy ban nhân dân tỉnh Thử Nghiệm")
            db.session.add(body)
            db.session.flush()
            db.session.add(BodyMember(body_id=body.id, user_id=secretary.id, is_secretariat=True))
            meetings = [Meeting(body_id=body.id, title=f"Phiên họp {n}", starts_at=utcnow() + timedelta(days=3),
                                status="draft", created_by_id=secretary.id) for n in range(3)]
            db.session.add_all(meetings)
            db.session.flush()
            draft_id, published_id, roster_id = (m.id for m in meetings)
            change_status(db.session, meetings[1], secretary, status="scheduled")
            token = issue_token(db.session, secretary, 2)[0]
            db.session.commit()
            body_id = body.id
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

        def upload(meeting_id: int, data: bytes, mode: str) -> dict:
            r = client.post(f"/api/v1/meetings/{meeting_id}/participants/import", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(data), "danh-sach.xlsx"), "mode": mode})
            assert r.status_code == 200, r.get_data(as_text=True)[:500]
            return r.get_json()

        data = xlsx(rows, "db")
        out["xlsx_bytes"] = len(data)
        out["dry_run_s"], preview = _timed(lambda: upload(draft_id, data, "dry_run"))
        out["apply_s"], applied = _timed(lambda: upload(draft_id, data, "apply"))
        out["reapply_s"], again = _timed(lambda: upload(draft_id, data, "apply"))
        assert applied["counts"]["participants_added"] == rows and again["counts"]["participants_added"] == 0
        out["dry_run_plus_apply_s"] = round(out["dry_run_s"] + out["apply_s"], 3)
        out["apply_published_s"], pub = _timed(lambda: upload(published_id, xlsx(rows, "pub"), "apply"))
        out["published_users_created"] = pub["counts"]["users_created"]

        with app.app_context():  # the first meeting's people become the body's members
            db.session.execute(BodyMember.__table__.insert(), [
                {"body_id": body_id, "user_id": uid, "is_secretariat": False} for uid in db.session.scalars(
                    select(Participant.user_id).where(Participant.meeting_id == draft_id))])
            db.session.commit()
        out["from_body_s"], roster = _timed(lambda: client.post(
            f"/api/v1/meetings/{roster_id}/participants/from-body", json={}).get_json())
        out["from_body_added"] = roster["added"]

        with app.app_context():
            for step in ("scheduled", "in_progress"):
                change_status(db.session, db.session.get(Meeting, draft_id), db.session.merge(secretary), status=step)
            db.session.commit()
            ids = list(db.session.scalars(select(Participant.user_id).where(Participant.meeting_id == draft_id)
                                          .order_by(Participant.id)))
        out["group_present_s"], group = _timed(lambda: client.put(
            f"/api/v1/meetings/{draft_id}/attendance", json={"all": True, "status": "present"}).get_json())
        out["group_marked"] = len(group["marked"])
        for label, suffix in (("single_put_full_roll_ms", ""), ("single_put_short_ms", "?roll=false")):
            started = time.perf_counter()
            for uid in ids[:single]:
                r = client.put(f"/api/v1/meetings/{draft_id}/attendance/{uid}{suffix}", json={"status": "absent"})
                assert r.status_code == 200
            out[label] = round((time.perf_counter() - started) * 1000 / single, 1)
        out["one_by_one_full_roll_estimate_s"] = round(out["single_put_full_roll_ms"] * len(ids) / 1000, 1)
        out["one_by_one_short_estimate_s"] = round(out["single_put_short_ms"] * len(ids) / 1000, 1)
        out["goal_met"] = out["dry_run_plus_apply_s"] <= 5
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--single", type=int, default=50, help="single PUTs timed to estimate marking one by one")
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    load = load_average()
    with (scratch_postgresql("bulk_import") if args.postgresql else contextlib.nullcontext()) as pg_url:
        result = run(args.rows, args.single, pg_url)
    result["load_before"] = load
    print(json.dumps(result, ensure_ascii=False))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
