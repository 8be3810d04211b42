"""The units page (/bodies/<id>/units): the body's office opens it, everyone else gets the REST's answer."""
from __future__ import annotations

import json
import re

from tests.factories import page_client
from tests.task_helpers import make_office, other_body_member


def _boot(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>', html, re.S).group(1))


def _strings(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="i18n-strings">(.*?)</script>', html,
                                re.S).group(1))


def test_office_sees_the_units_of_its_body(app, world, as_user):
    make_office(world)
    office = as_user("secretary")
    finance = office.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Sở Tài chính", "short_name": "STC"})
    assert finance.status_code == 201, finance.json
    old = office.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Ban Quản lý dự án cũ"}).json
    assert office.post(f"/api/v1/units/{finance.json['id']}/members",
                       json={"user_id": world.delegate.id, "is_head": True}).status_code == 201
    assert office.delete(f"/api/v1/units/{old['id']}").status_code == 200

    r = page_client(app, "secretary").get(f"/bodies/{world.body.id}/units")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<title>Đơn vị · Ủy ban nhân dân tỉnh Thử Nghiệm</title>" in html
    assert 'src="/static/js/units/main.js"' in html
    boot = _boot(html)
    assert boot["body_id"] == world.body.id
    # every unit, the deactivated one too (the office may bring it back), with its members and head
    listed = {u["name"]: u for u in boot["units"]}
    assert set(listed) == {"Sở Tài chính", "Ban Quản lý dự án cũ"}
    assert listed["Ban Quản lý dự án cũ"]["active"] is False and listed["Sở Tài chính"]["short_name"] == "STC"
    assert listed["Sở Tài chính"]["members"] == [{"user_id": world.delegate.id, "username": "delegate",
                                                   "full_name": "Người dùng delegate", "is_head": True}]
    # the script's strings come from the catalogue, in the page's language
    assert _strings(html)["err_unit_exists"] == "Cơ quan đã có đơn vị tên “{name}”."

    # the administrator is the office of every body
    assert page_client(app, "admin").get(f"/bodies/{world.body.id}/units").status_code == 200


def test_everyone_else_gets_the_rest_answer(app, world, as_user, client):
    make_office(world)
    other_body_member(world)  # the outsider: secretariat of another body, not of this one
    path = f"/bodies/{world.body.id}/units"
    for name in ("delegate", "chair", "outsider"):
        assert page_client(app, name).get(path).status_code == 403, name
        # the same refusal as the REST gives the same caller for a change of the body's units
        assert as_user(name).post(f"/api/v1{path}", json={"name": "Sở Y tế"}).status_code == 403, name
    assert page_client(app, "secretary").get("/bodies/999999/units").status_code == 404

    r = client.get(path)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_links_reach_the_page_only_for_the_office(app, world):
    make_office(world)
    link = f'href="/bodies/{world.body.id}/units"'
    for name, sees in (("secretary", True), ("admin", True), ("chair", False), ("delegate", False)):
        home = page_client(app, name).get("/").get_data(as_text=True)
        assert (link in home) is sees, name
    for name, sees in (("secretary", True), ("chair", False)):  # both see the task dashboard
        dashboard = page_client(app, name).get(f"/bodies/{world.body.id}/tasks").get_data(as_text=True)
        assert (link in dashboard) is sees, name
