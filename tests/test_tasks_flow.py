"""The whole follow-up flow through the public API, as issue 18 tells it.

A sitting → its conclusion notice (meetings.conclusions) → 3 tasks for 2 units → progress with
a file, an extension approved, done, returned, done again → accepted; one task overdue, with
the overdue e-mail received by the real SMTP server; the chair's dashboard figures; CSV and
PDF exports (pdftotext reads the Vietnamese); who is refused.
"""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.platform import jobs
from meetings.platform.audit.models import AuditEntry
from meetings.tasks import reminders
from meetings.tasks.models import TaskFile
from tests.factories import move_meeting
from tests.invitation_helpers import addresses
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.minutes_support import pdftotext
from tests.notification_helpers import deliver, note_app  # noqa: F401  (fixture)
from tests.task_helpers import in_days, iso, make_office, make_units, new_task, other_body_member, pdf, report


def _tick(app, now: datetime) -> dict[str, int]:
    with app.app_context(), jobs.unit_of_work() as session:
        return reminders.tick(session, now=now)


def _notice(world, as_user) -> list[dict]:
    """Hold and close the sitting with a conclusion on each item; compose its conclusion notice."""
    secretary = db.session.merge(world.secretary)
    move_meeting(db.session, world.meeting, secretary, "in_progress")
    chair = as_user("chair")
    texts = ["Giao Sở Tài chính tham mưu phương án phân bổ vốn đầu tư công năm 2027.",
             "Giao Sở Kế hoạch và Đầu tư rà soát danh mục dự án trọng điểm.",
             "Sở Tài chính báo cáo tình hình giải ngân quý IV."]
    for item, text in zip(world.items, texts, strict=True):
        assert chair.patch(f"/api/v1/items/{item.id}", json={"conclusion": text}).status_code == 200
    db.session.expire_all()
    move_meeting(db.session, db.session.get(Meeting, world.meeting.id), secretary, "closed")
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/conclusion-notice")
    assert r.status_code == 201, r.json
    return r.json["items"]


def test_conclusions_to_tasks_to_done_with_an_overdue_one(note_app, world, as_user, mail_server):  # noqa: F811
    addresses(world)
    make_office(world)
    units = make_units(world, as_user)
    conclusions = _notice(world, as_user)
    body = world.body.id
    office, head, planning = as_user("secretary"), as_user("delegate"), as_user("delegate2")

    # ---- three tasks for two units, from the notice's numbered conclusions
    t1 = new_task(office, body, title="Tham mưu phương án phân bổ vốn đầu tư công", lead_unit_id=units.finance,
                  support_unit_ids=[units.planning], deadline=in_days(10), priority="high",
                  source={"kind": "conclusion", "id": conclusions[0]["id"]})
    assert t1["source_label"].startswith("Kết luận 1") and t1["meeting_id"] == world.meeting.id
    assert t1["status"] == "assigned" and t1["support_unit_names"] == ["Sở Kế hoạch và Đầu tư"]
    t2 = new_task(office, body, title="Rà soát danh mục dự án trọng điểm", lead_unit_id=units.planning,
                  deadline=in_days(5), source={"kind": "conclusion", "id": conclusions[1]["id"]})
    t3 = new_task(office, body, title="Báo cáo tình hình giải ngân quý IV", lead_unit_id=units.finance,
                  deadline=utcnow() + timedelta(seconds=2), source={"kind": "conclusion", "id": conclusions[2]["id"]})

    # ---- "Việc của tôi": the finance head sees its two tasks; the planning head its own and the one it supports
    assert [t["id"] for t in head.get("/api/v1/me/tasks").json] == [t3["id"], t1["id"]]
    assert {t["id"] for t in planning.get("/api/v1/me/tasks").json} == {t1["id"], t2["id"]}

    # ---- progress with a file (through the document intake: a PDF, stored content-addressed)
    r = report(head, t1["id"], text="Đã xây dựng dự thảo phương án", progress=40, files=[pdf()])
    assert r.status_code == 201, r.json
    assert r.json["status"] == "in_progress" and r.json["progress"] == 40 and len(r.json["files"]) == 1
    got = head.get(f"/api/v1/tasks/{t1['id']}/files/{r.json['files'][0]['id']}")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    # a file that is not a PDF is refused and nothing is recorded
    bad = report(head, t1["id"], text="Tệp hỏng", files=[b"MZ\x90\x00 not a pdf"])
    assert bad.status_code in (415, 422), bad.json
    assert db.session.scalar(select(func.count(TaskFile.id))) == 1

    # ---- an extension, approved by the office: the deadline moves
    old = datetime.fromisoformat(t1["deadline"])
    r = head.post(f"/api/v1/tasks/{t1['id']}/extensions",
                  json={"new_deadline": iso(old + timedelta(days=7)), "reason": "Chờ số liệu quyết toán"})
    assert r.status_code == 201 and r.json["status"] == "pending"
    ext = r.json["id"]
    assert head.post(f"/api/v1/tasks/{t1['id']}/extensions", json={
        "new_deadline": iso(old + timedelta(days=9)), "reason": "Lần nữa"}).status_code == 409  # one at a time
    assert head.post(f"/api/v1/task-extensions/{ext}/decision", json={"approve": True}).status_code == 403
    r = office.post(f"/api/v1/task-extensions/{ext}/decision", json={"approve": True, "answer": "Đồng ý"})
    assert r.status_code == 200 and r.json["status"] == "approved"
    t1_now = head.get(f"/api/v1/tasks/{t1['id']}").json
    assert datetime.fromisoformat(t1_now["deadline"]) == old + timedelta(days=7)
    assert datetime.fromisoformat(t1_now["original_deadline"]) == old

    # ---- done with evidence → sent back → done again → accepted
    assert report(head, t1["id"], "submit").status_code == 422  # no evidence
    r = report(head, t1["id"], "submit", text="Đã trình UBND tỉnh phương án", files=[pdf("Tờ trình số 15")])
    assert r.status_code == 200 and r.json["status"] == "submitted"
    assert office.post(f"/api/v1/tasks/{t1['id']}/return", json={"reason": ""}).status_code == 422
    r = office.post(f"/api/v1/tasks/{t1['id']}/return", json={"reason": "Bổ sung ý kiến của Sở Xây dựng"})
    assert r.status_code == 200 and r.json["status"] == "returned"
    r = report(head, t1["id"], "submit", text="Đã bổ sung ý kiến Sở Xây dựng")
    assert r.status_code == 200 and r.json["status"] == "submitted"
    r = office.post(f"/api/v1/tasks/{t1['id']}/accept", json={"text": "Hoàn thành"})
    assert r.status_code == 200 and r.json["status"] == "accepted" and r.json["on_time"] is True
    assert [e["kind"] for e in r.json["entries"]] == [
        "created", "progress", "extension_requested", "extension_approved", "submitted", "returned", "submitted",
        "accepted"]
    assert office.post(f"/api/v1/tasks/{t1['id']}/accept", json={}).status_code == 409  # once

    assert report(planning, t2["id"], "submit", text="Đã rà soát 42 dự án").status_code == 200
    assert office.post(f"/api/v1/tasks/{t2['id']}/accept", json={}).status_code == 200

    # ---- the third passes its deadline: flagged, and the overdue notice e-mailed once
    while utcnow() <= datetime.fromisoformat(t3["deadline"]):
        time.sleep(0.2)
    mail_server.raw.clear()
    deliver(note_app)  # what was queued before (assignments, decisions) goes first
    mail_server.raw.clear()
    reached = _tick(note_app, utcnow())
    assert reached["overdue"] >= 2  # the finance head (delegate) and the office (secretary), each on each channel
    assert _tick(note_app, utcnow())["overdue"] == 0  # once
    deliver(note_app)
    assert mail_server.wait_for(2)
    # each in their language: the delegate reads English (tests/invitation_helpers.ENGLISH)
    overdue_mails = {m["To"].addresses[0].username: m for m in mail_server.messages
                     if "quá hạn" in m["Subject"] or "overdue" in m["Subject"]}
    assert sorted(overdue_mails) == ["delegate", "secretary"]
    assert overdue_mails["secretary"]["Subject"] == "Nhiệm vụ quá hạn: Báo cáo tình hình giải ngân quý IV"
    assert overdue_mails["delegate"]["Subject"] == "Task overdue: Báo cáo tình hình giải ngân quý IV"
    assert "/tasks/" in overdue_mails["secretary"].get_body(("plain",)).get_content()
    assert head.get(f"/api/v1/tasks/{t3['id']}").json["overdue"] is True

    # ---- the chair's dashboard
    chair = as_user("chair")
    dash = chair.get(f"/api/v1/bodies/{body}/tasks/dashboard").json
    assert dash["total"] == 3 and dash["by_status"]["accepted"] == 2 and dash["by_status"]["assigned"] == 1
    assert dash["overdue_count"] == 1 and [t["id"] for t in dash["overdue"]] == [t3["id"]]
    assert dash["accepted"] == 2 and dash["accepted_on_time"] == 2 and dash["on_time_rate"] == 1.0
    by_unit = {u["unit_name"]: u for u in dash["by_unit"]}
    assert by_unit["Sở Tài chính"]["total"] == 2 and by_unit["Sở Tài chính"]["overdue"] == 1
    assert by_unit["Sở Kế hoạch và Đầu tư"]["by_status"]["accepted"] == 1
    assert chair.get(f"/api/v1/bodies/{body}/tasks/dashboard?unit_id={units.planning}").json["total"] == 2
    assert chair.get(f"/api/v1/bodies/{body}/tasks/dashboard?status=overdue").json["total"] == 1
    assert chair.get(f"/api/v1/bodies/{body}/tasks/dashboard?meeting_id={world.meeting.id}").json["total"] == 3
    period = f"from={iso(in_days(1)).replace('+', '%2B')}&to={iso(in_days(6)).replace('+', '%2B')}"
    assert [t["id"] for t in chair.get(f"/api/v1/bodies/{body}/tasks?{period}").json] == [t2["id"]]

    # ---- exports
    r = chair.get(f"/api/v1/bodies/{body}/tasks/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Mã", "Nhiệm vụ", "Nguồn", "Đơn vị chủ trì"] and len(rows) == 4
    assert {row[1] for row in rows[1:]} == {t1["title"], t2["title"], t3["title"]}
    assert [row[11] for row in rows if row[0] == str(t3["id"])] == ["Có"]
    r = chair.get(f"/api/v1/bodies/{body}/tasks/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = " ".join(pdftotext(r.data).split())
    for words in ("BÁO CÁO", "Tình hình thực hiện nhiệm vụ", "Sở Tài chính", "Sở Kế hoạch và Đầu tư",
                  "NHIỆM VỤ QUÁ HẠN", "Báo cáo tình hình giải ngân quý IV", "100,0%",
                  "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số: ……/BC-UBND"):
        assert words in text, words
    # Each deadline whole in its column (not "02/12/202 6"): the overdue one in both tables.
    t3_day = datetime.fromisoformat(t3["deadline"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")
    assert text.count(t3_day) >= 3, t3_day  # (and the footer: t3 is due today)

    # ---- who is refused
    other_body_member(world)
    assert planning.get(f"/api/v1/tasks/{t3['id']}").status_code == 404        # an assignee of another unit
    assert report(planning, t3["id"], text="Không phải việc của tôi").status_code == 404
    assert as_user("delegate").get(f"/api/v1/bodies/{body}/tasks/dashboard").status_code == 403
    # a delegate in no unit: sees no task
    for name in ("outsider", "archivist"):
        assert as_user(name).get(f"/api/v1/tasks/{t3['id']}").status_code == 404
        assert as_user(name).get(f"/api/v1/bodies/{body}/tasks/dashboard").status_code == 403
        assert as_user(name).get(f"/api/v1/bodies/{body}/tasks/report.pdf").status_code == 403
    assert chair.post(f"/api/v1/tasks/{t3['id']}/accept", json={}).status_code == 403  # sees, changes nothing
    assert head.patch(f"/api/v1/tasks/{t3['id']}", json={"title": "Đổi"}).status_code == 403
    # the observer works in the finance unit: sees its task and may report, but the head is not the only one
    assert as_user("observer").get(f"/api/v1/tasks/{t3['id']}").status_code == 200

    db.session.rollback()
    actions = [a for (a,) in db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("task.%")))]
    assert actions.count("task.created") == 3 and actions.count("task.accepted") == 2
    assert actions.count("task.overdue") == 1  # by the job, once for its deadline
    assert {"task.progress", "task.extension_requested", "task.extension_approved", "task.submitted",
            "task.returned"} <= set(actions)
