"""Assigning tasks from the UI, server side: the body's task list filtered by source (the tasks of one
conclusion or one opinion form), and the pages that offer "Giao nhiệm vụ" only to the office
(the same test as the task REST's policy; the REST refuses everyone else anyway)."""
from __future__ import annotations

import json
import re

from meetings.bodies.models import Body, Meeting
from meetings.core.extensions import db
from meetings.tasks import policy
from tests.factories import PASSWORD
from tests.opinion_helpers import form_body
from tests.task_helpers import make_office, make_units, new_task


def _forms(world, as_user, n: int = 2) -> list[int]:
    """``n`` written opinion forms of the world's body, made by the office (REST, as the page does)."""
    ids = []
    for i in range(n):
        r = as_user("secretary").post(f"/api/v1/bodies/{world.body.id}/opinion-forms",
                                      json=form_body(world, title=f"Phiếu {i}"))
        assert r.status_code == 201, r.json
        ids.append(r.json["id"])
    return ids


def _page_boot(app, username: str, path: str) -> tuple[int, dict | None, str]:
    """The page as ``username`` sees it (cookie login): status, its boot JSON (if any), its HTML."""
    c = app.test_client()
    token = c.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    r = c.get(path)
    html = r.get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', html, re.S)
    return r.status_code, (json.loads(found.group(1)) if found else None), html


def test_list_filtered_by_source(app, world, as_user):
    make_office(world)
    units = make_units(world, as_user)
    office = as_user("secretary")
    a, b = _forms(world, as_user)
    made_a = [new_task(office, world.body.id, title=f"Từ phiếu A {i}", lead_unit_id=units.finance,
                       source={"kind": "opinion", "id": a})["id"] for i in range(2)]
    new_task(office, world.body.id, title="Từ phiếu B", lead_unit_id=units.planning,
             source={"kind": "opinion", "id": b})
    new_task(office, world.body.id, title="Giao trực tiếp", lead_unit_id=units.planning)

    url = f"/api/v1/bodies/{world.body.id}/tasks"
    r = office.get(f"{url}?source_kind=opinion&source_id={a}")
    assert r.status_code == 200, r.json
    assert sorted(t["id"] for t in r.json) == sorted(made_a)
    assert {t["source_kind"] for t in r.json} == {"opinion"} and {t["source_id"] for t in r.json} == {a}
    assert len(office.get(f"{url}?source_kind=opinion").json) == 3
    assert [t["title"] for t in office.get(f"{url}?source_kind=manual").json] == ["Giao trực tiếp"]
    assert office.get(f"{url}?source_kind=conclusion&source_id={a}").json == []  # same id, other kind
    dash = office.get(f"{url}/dashboard?source_kind=opinion&source_id={a}").json
    assert dash["total"] == 2

    # a bare id or an unknown kind names nothing: refused, not ignored
    assert office.get(f"{url}?source_id={a}").status_code == 422
    assert office.get(f"{url}?source_kind=decision").status_code == 422
    # the filter opens nothing: a unit head who is not the office sees no body list, filtered or not
    assert as_user("delegate").get(f"{url}?source_kind=opinion&source_id={a}").status_code == 403
    assert as_user("outsider").get(f"{url}?source_kind=opinion&source_id={a}").status_code in (403, 404)


def test_pages_offer_assignment_to_the_office_only(app, world, as_user):
    make_office(world)
    make_units(world, as_user)
    body = db.session.get(Body, world.body.id)
    meeting = db.session.get(Meeting, world.meeting.id)
    for name in ("secretary", "chair", "delegate", "admin"):
        status, boot, _ = _page_boot(app, name, f"/meetings/{meeting.id}/conclusions")
        assert status == 200
        # the page's flag is the task REST's own policy
        assert boot["task_office"] is policy.is_office(db.session, body.id, world.users[name]), name
    assert _page_boot(app, "secretary", f"/meetings/{meeting.id}/conclusions")[1]["task_office"] is True
    assert _page_boot(app, "delegate", f"/meetings/{meeting.id}/conclusions")[1]["task_office"] is False

    (form_id,) = _forms(world, as_user, 1)
    assert as_user("secretary").post(f"/api/v1/opinion-forms/{form_id}/open").status_code == 200
    _, boot, html = _page_boot(app, "secretary", f"/opinions/{form_id}")
    assert boot is None and 'id="opinion-assign"' not in html  # open: no result to assign from yet
    assert as_user("secretary").post(f"/api/v1/opinion-forms/{form_id}/close").status_code == 200
    _, boot, html = _page_boot(app, "secretary", f"/opinions/{form_id}")
    assert 'id="opinion-assign"' in html
    assert boot == {"locale": "vi", "body_id": body.id, "form_id": form_id, "title": "Phiếu 0"}
    status, boot, html = _page_boot(app, "delegate", f"/opinions/{form_id}")
    assert status == 200 and boot is None and 'id="opinion-assign"' not in html

    # and the REST refuses whoever the page does not offer it to
    r = as_user("delegate").post(f"/api/v1/bodies/{body.id}/tasks", json={
        "title": "Không được giao", "deadline": "2099-01-01T00:00:00+07:00", "lead_unit_id": None,
        "assignee_id": world.users["delegate"].id, "source": {"kind": "opinion", "id": form_id}})
    assert r.status_code == 403
