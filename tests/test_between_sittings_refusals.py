"""What holds between sittings: a supporting unit, another body's office and recipients against the lead-only,
office-only and after-publication parts of tasks and opinions, and the bad input they are refused."""
from __future__ import annotations

from sqlalchemy import func, select

from meetings.core.extensions import db
from meetings.opinions.models import OpinionAnswer
from meetings.tasks.models import TaskEntry
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.notification_helpers import note_app  # noqa: F401  (fixture)
from tests.opinion_helpers import agree_and_choose, body12, form_body  # noqa: F401  (fixtures)
from tests.task_helpers import in_days, iso, make_office, make_units, new_task, other_body_member, pdf, report


def test_supporters_strangers_and_bad_input_on_tasks(note_app, world, as_user):  # noqa: F811
    make_office(world)
    units = make_units(world, as_user)
    other_body_member(world)  # the outsider runs another body's office
    office, supporter, stranger = as_user("secretary"), as_user("delegate2"), as_user("outsider")
    task = new_task(office, world.body.id, title="Thẩm định dự án", lead_unit_id=units.finance,
                    support_unit_ids=[units.planning])
    url = f"/api/v1/tasks/{task['id']}"
    assert report(as_user("delegate"), task["id"], text="Hồ sơ", files=[pdf()]).status_code == 201
    file_id = as_user("delegate").get(url).json["files"][0]["id"]
    # the supporting unit sees, reads the files and reports; it neither submits nor asks for time nor decides
    assert supporter.get(url).status_code == 200
    assert supporter.get(f"{url}/files/{file_id}").status_code == 200
    assert report(supporter, task["id"], text="Đã phối hợp").status_code == 201
    assert report(supporter, task["id"], "submit", text="Xong").status_code == 403
    more = {"new_deadline": iso(in_days(30)), "reason": "x"}
    assert supporter.post(f"{url}/extensions", json=more).status_code == 403
    assert supporter.patch(url, json={"priority": "low"}).status_code == 403
    # another body's office, and ids that do not exist, learn nothing
    for path in (url, f"{url}/files/{file_id}", "/api/v1/tasks/999999", f"/api/v1/tasks/999999/files/{file_id}"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.patch(url, json={"priority": "low"}).status_code == 404
    for path in ("tasks", "tasks/dashboard", "tasks/export.csv", "tasks/report.pdf"):
        assert stranger.get(f"/api/v1/bodies/{world.body.id}/{path}").status_code == 403, path
    assert stranger.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Sở X"}).status_code == 403
    join = {"user_id": world.outsider.id}
    assert stranger.post(f"/api/v1/units/{units.finance}/members", json=join).status_code == 403
    assert as_user(None).get(url).status_code == 401
    # bad input changes nothing
    before = db.session.scalar(select(func.count(TaskEntry.id)))
    for fields in ({"text": "x", "progress": "-1"}, {"text": "x", "progress": "101"}, {"text": "x", "progress": "1e3"},
                   {"text": "x" * 20001}):
        r = as_user("delegate").post(f"{url}/progress", data=fields, content_type="multipart/form-data")
        assert r.status_code == 422, (fields, r.json)
    for body in ({"text": "x", "progress": True}, {"text": "x", "progress": 50, "status": "accepted"}):
        assert as_user("delegate").post(f"{url}/progress", json=body).status_code == 422, body
    for patch in ({"title": "x" * 501}, {"lead_unit_id": -1}, {"support_unit_ids": [2**31]},
                  {"deadline": "ngày mai"}, {"progress": 100}, {"status": "accepted"}):
        assert office.patch(url, json=patch).status_code == 422, patch
    db.session.rollback()
    assert db.session.scalar(select(func.count(TaskEntry.id))) == before


def test_recipients_and_strangers_on_opinions(app, body12, as_user):  # noqa: F811
    world = body12
    office = as_user("secretary")
    form = office.post(f"/api/v1/bodies/{world.body.id}/opinion-forms",
                       json=form_body(world, allow_change=False)).get_json()
    other = office.post(f"/api/v1/bodies/{world.body.id}/opinion-forms", json=form_body(world)).get_json()
    assert office.post(f"/api/v1/opinion-forms/{form['id']}/open").status_code == 200
    url = f"/api/v1/opinion-forms/{form['id']}"
    q1, q2 = form["questions"]
    bad = [[{"question_id": q1["id"], "choice": "agree"}, {"question_id": q1["id"], "choice": "agree"}],
           [{"question_id": q1["id"], "choice": "agree"}, {"question_id": q2["id"], "options": ["o9"]}],
           [{"question_id": q1["id"], "choice": "agree"}, {"question_id": q2["id"], "options": ["o1", "o1"]}],
           [{"question_id": q1["id"], "choice": "other", "comment": " "}, {"question_id": q2["id"], "options": ["o1"]}],
           [{"question_id": q1["id"], "choice": "agree", "comment": "x" * 2001},
            {"question_id": q2["id"], "options": ["o1"]}],
           [{"question_id": other["questions"][0]["id"], "choice": "agree"},
            {"question_id": q2["id"], "options": ["o1"]}]]
    for answers in bad:
        assert as_user("delegate").put(f"{url}/answer", json={"answers": answers}).status_code == 422, answers
    assert as_user("delegate").put(f"{url}/answer", json={"answers": agree_and_choose(form)}).status_code == 200
    again = as_user("delegate").put(f"{url}/answer", json={"answers": agree_and_choose(form, "disagree")})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "answer_final"
    # a recipient sees neither the tally nor others' answers before publication; a stranger sees nothing
    member = as_user("delegate2")
    for path in ("tally", "answers", "report", "bundle", f"answers/{world.delegate.id}/paper"):
        assert member.get(f"{url}/{path}").status_code in (403, 404), path
    for path in ("", "/tally", "/answers", "/bundle", f"/attachments/{1}"):
        assert as_user("other").get(f"{url}{path}").status_code == 404, path
    assert member.get(f"/api/v1/opinion-forms/{other['id']}").status_code == 404  # a draft
    assert member.post(f"{url}/close").status_code == 403
    assert member.patch(url, json={"closes_at": iso(in_days(9))}).status_code == 403
    db.session.rollback()
    assert db.session.scalar(select(func.count(OpinionAnswer.id))) == 1
