"""Follow-up tasks in detail: reminders on a movable clock, what is refused and changes nothing,
the live ``task.changed`` event, and who sees what (tests/test_tasks_flow.py runs the whole story)."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from meetings.archive.bundle import write_bundle
from meetings.bodies.models import Body, Meeting
from meetings.core.extensions import db, socketio
from meetings.demo.tasks import load_demo_tasks
from meetings.notifications.inbox_models import ReminderMark
from meetings.platform import jobs
from meetings.platform.audit.models import AuditEntry
from meetings.tasks import board, reminders
from meetings.tasks.models import Task, TaskEntry, TaskFile
from tests.invitation_helpers import addresses
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.notification_helpers import deliver, note_app, outbox_rows  # noqa: F401  (fixture)
from tests.task_helpers import in_days, iso, make_office, make_units, new_task, pdf, report


def _tick(app, now: datetime) -> dict[str, int]:
    with app.app_context(), jobs.unit_of_work() as session:
        return reminders.tick(session, now=now)


def _counts() -> tuple[int, int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.like("task.%"))),
            db.session.scalar(select(func.count(TaskEntry.id))), db.session.scalar(select(func.count(TaskFile.id))))


def _setup(world, as_user):
    addresses(world)
    make_office(world)
    return make_units(world, as_user)


def test_reminders_before_the_deadline_and_overdue_fire_once_and_again_after_an_extension(
        note_app, world, as_user, mail_server):  # noqa: F811
    units = _setup(world, as_user)
    office = as_user("secretary")
    task = new_task(office, world.body.id, title="Lập kế hoạch kiểm tra", lead_unit_id=units.planning,
                    deadline=in_days(5))
    deadline = datetime.fromisoformat(task["deadline"])
    day = timedelta(days=1)
    assert _tick(note_app, deadline - 3 * day - timedelta(minutes=1)) == {"due": 0, "overdue": 0}
    assert _tick(note_app, deadline - 3 * day)["due"] == 1             # three days before: the unit's head
    assert _tick(note_app, deadline - 3 * day + timedelta(minutes=15))["due"] == 0
    assert _tick(note_app, deadline - day + timedelta(minutes=5))["due"] == 1  # the day before
    assert _tick(note_app, deadline - day + timedelta(minutes=20))["due"] == 0
    deliver(note_app)
    due = [m for m in mail_server.messages if m["Subject"].startswith("Sắp đến hạn")]
    assert [m["To"].addresses[0].username for m in due] == ["delegate2", "delegate2"]

    # overdue: once per deadline, to the head and the office
    assert _tick(note_app, deadline + timedelta(minutes=1))["overdue"] > 0
    assert _tick(note_app, deadline + timedelta(minutes=16))["overdue"] == 0
    db.session.rollback()
    marks = sorted(db.session.scalars(select(ReminderMark.key).where(ReminderMark.key.like(f"task:{task['id']}:%"))))
    stamp = int(deadline.timestamp())
    assert marks == [f"task:{task['id']}:due:1440:{stamp}", f"task:{task['id']}:due:4320:{stamp}",
                     f"task:{task['id']}:overdue:{stamp}"]
    # an approved extension: a new deadline is reminded again, and overdue again if passed
    head = as_user("delegate2")
    ext = head.post(f"/api/v1/tasks/{task['id']}/extensions",
                    json={"new_deadline": iso(deadline + 10 * day), "reason": "Đợi ý kiến Bộ"}).json
    assert office.post(f"/api/v1/task-extensions/{ext['id']}/decision", json={"approve": True}).status_code == 200
    assert _tick(note_app, deadline + 9 * day + timedelta(minutes=1))["due"] == 1
    assert _tick(note_app, deadline + 10 * day + timedelta(minutes=1))["overdue"] > 0
    # a task reported done is not reminded before its deadline
    done = new_task(office, world.body.id, title="Việc đã xong", lead_unit_id=units.planning, deadline=in_days(4))
    assert report(head, done["id"], "submit", text="Đã hoàn thành").status_code == 200
    assert _tick(note_app, datetime.fromisoformat(done["deadline"]) - day)["due"] == 0


def test_refusals_are_clear_and_change_nothing(note_app, world, as_user):  # noqa: F811
    units = _setup(world, as_user)
    office, head = as_user("secretary"), as_user("delegate")
    body = world.body.id
    bad = [
        ({"title": "X", "deadline": iso(in_days(3))}, "no_assignee"),
        ({"title": "X", "deadline": iso(in_days(-1)), "lead_unit_id": units.finance}, "deadline_past"),
        ({"title": "X", "deadline": iso(in_days(3)), "lead_unit_id": 999999}, "unknown_unit"),
        ({"title": "X", "deadline": iso(in_days(3)), "lead_unit_id": units.finance,
          "support_unit_ids": [units.finance]}, "lead_supports"),
        ({"title": "X", "deadline": iso(in_days(3)), "lead_unit_id": units.finance,
          "source": {"kind": "conclusion", "id": 999999}}, "unknown_source"),
        ({"title": "X", "deadline": iso(in_days(3)), "lead_unit_id": units.finance,
          "source": {"kind": "conclusion"}}, "no_source"),
    ]
    before = _counts()
    for data, code in bad:
        r = office.post(f"/api/v1/bodies/{body}/tasks", json=data)
        assert r.status_code == 422 and r.json["error"]["code"] == code, (data, r.json)
    assert office.post(f"/api/v1/bodies/{body}/tasks", json={"title": "X", "deadline": iso(in_days(3)),
                                                             "priority": "rất cao"}).status_code == 422
    assert _counts() == before
    # an inactive unit takes no new task
    assert office.delete(f"/api/v1/units/{units.planning}").status_code == 200
    r = office.post(f"/api/v1/bodies/{body}/tasks", json={"title": "X", "deadline": iso(in_days(3)),
                                                          "lead_unit_id": units.planning})
    assert r.json["error"]["code"] == "inactive_unit"

    task = new_task(office, body, title="Tổng hợp báo cáo", lead_unit_id=units.finance)
    before = _counts()
    assert office.post(f"/api/v1/tasks/{task['id']}/accept", json={}).status_code == 409      # not submitted
    assert report(head, task["id"], text="").status_code == 422                              # empty report
    assert report(head, task["id"], "submit", text="Xong", files=[b"%PDF-1.7 broken"]).status_code in (415, 422)
    assert head.post(f"/api/v1/tasks/{task['id']}/extensions", json={
        "new_deadline": iso(in_days(1)), "reason": "Sớm hơn"}).json["error"]["code"] == "not_later"
    assert _counts() == before
    t = db.session.get(Task, task["id"])
    assert t.status == "assigned" and t.progress == 0
    # a refused extension keeps the deadline and needs a reason
    ext = head.post(f"/api/v1/tasks/{task['id']}/extensions",
                    json={"new_deadline": iso(in_days(30)), "reason": "Thiếu nhân lực"}).json
    assert office.post(f"/api/v1/task-extensions/{ext['id']}/decision", json={"approve": False}).status_code == 422
    r = office.post(f"/api/v1/task-extensions/{ext['id']}/decision",
                    json={"approve": False, "answer": "Nhiệm vụ cấp bách"})
    assert r.status_code == 200 and r.json["status"] == "refused"
    assert head.get(f"/api/v1/tasks/{task['id']}").json["deadline"] == task["deadline"]
    assert office.post(f"/api/v1/task-extensions/{ext['id']}/decision", json={"approve": True}).status_code == 409


def test_office_edits_reassign_and_the_new_unit_sees_it(note_app, world, as_user):  # noqa: F811
    units = _setup(world, as_user)
    office = as_user("secretary")
    task = new_task(office, world.body.id, title="Kiểm tra hiện trường", lead_unit_id=units.finance)
    assert as_user("delegate2").get(f"/api/v1/tasks/{task['id']}").status_code == 404
    r = office.patch(f"/api/v1/tasks/{task['id']}", json={"lead_unit_id": units.planning, "priority": "urgent",
                                                         "assignee_id": world.users["observer"].id})
    assert r.status_code == 200 and r.json["lead_unit_name"] == "Sở Kế hoạch và Đầu tư"
    assert as_user("delegate2").get(f"/api/v1/tasks/{task['id']}").status_code == 200
    assert as_user("delegate").get(f"/api/v1/tasks/{task['id']}").status_code == 404  # no longer the finance unit's
    # the person assigned may report even outside the unit
    assert report(as_user("observer"), task["id"], "submit", text="Đã kiểm tra").status_code == 200
    assert office.post(f"/api/v1/tasks/{task['id']}/accept", json={}).status_code == 200
    assert office.patch(f"/api/v1/tasks/{task['id']}", json={"title": "Khác"}).status_code == 409
    # the new assignees were told (in-app line, e-mail row)
    assert any(m.kind == "task.assigned" and m.user_id == world.users["delegate2"].id
               for m in outbox_rows(kind="task.assigned"))


def test_task_changed_reaches_followers_live_not_strangers(note_app, world, as_user):  # noqa: F811
    units = _setup(world, as_user)
    office = as_user("secretary")
    for name in ("delegate", "delegate2", "chair"):
        as_user.token(name)
    head = socketio.test_client(note_app, auth={"token": as_user.token("delegate")})
    chair = socketio.test_client(note_app, auth={"token": as_user.token("chair")})
    stranger = socketio.test_client(note_app, auth={"token": as_user.token("delegate2")})
    for c in (head, chair, stranger):
        assert c.is_connected()
        c.get_received()
    task = new_task(office, world.body.id, title="Báo cáo nhanh", lead_unit_id=units.finance)
    assert report(as_user("delegate"), task["id"], text="Đang làm", progress=50).status_code == 201

    def changes(client):
        return [(m["args"][0]["task_id"], m["args"][0]["change"]) for m in client.get_received()
                if m["name"] == "task.changed"]

    assert changes(head) == [(task["id"], "created"), (task["id"], "progress")]
    assert changes(chair) == [(task["id"], "created"), (task["id"], "progress")]
    assert changes(stranger) == []  # another unit's head hears nothing of it
    for c in (head, chair, stranger):
        c.disconnect()


def test_the_meetings_bag_carries_its_tasks_with_their_history(note_app, world, as_user):  # noqa: F811

    units = _setup(world, as_user)
    office, head = as_user("secretary"), as_user("delegate")
    task = new_task(office, world.body.id, title="Tổng kết công tác năm", lead_unit_id=units.finance,
                    source={"kind": "manual", "meeting_id": world.meeting.id, "label": "Giao tại phiên họp"})
    new_task(office, world.body.id, title="Việc không thuộc phiên họp", lead_unit_id=units.finance)
    assert report(head, task["id"], "submit", text="Đã tổng kết", files=[pdf("Báo cáo tổng kết")]).status_code == 200
    out = io.BytesIO()
    with note_app.app_context():
        meeting = db.session.get(Meeting, world.meeting.id)
        write_bundle(db.session, meeting, note_app.config, out, db.session.merge(world.admin))
    bag = zipfile.ZipFile(out)
    names = bag.namelist()
    data = json.loads(bag.read(next(n for n in names if n.endswith("data/tasks/tasks.json"))))
    assert [t["title"] for t in data["tasks"]] == ["Tổng kết công tác năm"]  # only the meeting's own
    assert [h["kind"] for h in data["tasks"][0]["history"]] == ["created", "submitted"]
    stored = data["tasks"][0]["files"][0]
    pdf_name = next(n for n in names if n.endswith("data/tasks/" + stored["path"]))
    assert hashlib.sha256(bag.read(pdf_name)).hexdigest() == stored["sha256"]
    manifest = bag.read(next(n for n in names if n.endswith("manifest-sha256.txt"))).decode()
    assert "data/tasks/tasks.csv" in manifest  # in the bag's manifest, so its integrity is checked


def test_demo_units_and_tasks_one_overdue_safe_to_run_twice(note_app, world, as_user):  # noqa: F811
    make_office(world)
    users = {"secretary": world.secretary, "delegate3": world.delegate, "delegate5": world.delegate2,
             "delegate4": world.observer}
    with note_app.app_context():
        users = {k: db.session.merge(v) for k, v in users.items()}
        body = db.session.get(Body, world.body.id)
        assert load_demo_tasks(db.session, body, users) == 4
        db.session.commit()
        assert load_demo_tasks(db.session, body, users) == 0
        db.session.commit()
    dash = as_user("chair").get(f"/api/v1/bodies/{world.body.id}/tasks/dashboard").json
    assert dash["total"] == 4 and dash["overdue_count"] == 1 and dash["by_status"]["accepted"] == 1
    assert dash["overdue"][0]["title"] == "Báo cáo tình hình giải ngân vốn đầu tư công quý IV"
    assert {u["unit_name"] for u in dash["by_unit"]} == {"Sở Tài chính", "Sở Xây dựng", "Sở Nội vụ"}


def test_overdue_and_on_time_rules():
    now = datetime(2030, 1, 10, 1, 0, tzinfo=UTC)
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    assert board.is_overdue(Task(status="in_progress", deadline=past), now)
    assert board.is_overdue(Task(status="submitted", deadline=past), now)  # done is what the office accepts
    assert not board.is_overdue(Task(status="accepted", deadline=past, accepted_at=now), now)
    assert not board.is_overdue(Task(status="assigned", deadline=future), now)
    assert board.on_time(Task(status="accepted", deadline=future, accepted_at=now)) is True
    assert board.on_time(Task(status="accepted", deadline=past, accepted_at=now)) is False
    assert board.on_time(Task(status="submitted", deadline=future)) is None


def test_the_reminder_job_is_registered_every_quarter_hour(app):
    from meetings.platform.jobs.registry import JOBS

    job = JOBS[reminders.TICK]
    assert job.with_session and job.crontab["minute"] == "*/15"
