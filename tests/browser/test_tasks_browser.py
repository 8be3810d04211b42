"""The chair's dashboard of follow-up tasks in Chromium: figures, the overdue list, a live update when the
office assigns a task, a filter; and the screenshot docs/screenshots/tasks-dashboard.png (1280×800)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from meetings import create_app
from meetings.accounts.models import User
from meetings.bodies.models import BodyMember, Meeting
from meetings.core.extensions import db
from meetings.demo.tasks import load_demo_tasks

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def body_id(seeded, database_url, server_dir):
    """The seeded world's body with the demo's units and four tasks (one overdue), the secretary as its office."""
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(server_dir / "tasks-instance"),
                      "STORAGE_PATH": str(server_dir / "storage"), "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        meeting = db.session.get(Meeting, seeded.meeting_id)
        ids = seeded.user_ids
        db.session.execute(select(BodyMember).where(BodyMember.body_id == meeting.body_id,
                                                    BodyMember.user_id == ids["secretary"])).scalar_one(
                                                    ).is_secretariat = True
        users = {name: db.session.get(User, ids[who]) for name, who in
                 (("secretary", "secretary"), ("delegate3", "delegate"), ("delegate5", "delegate2"),
                  ("delegate4", "observer"))}
        assert load_demo_tasks(db.session, meeting.body, users) == 4
        db.session.commit()
        found = meeting.body_id
    db.session.remove()
    db.engine.dispose()
    return found


def _figure(page, name: str):
    return page.get_by_test_id(f"fig-{name}").locator(".value")


def test_dashboard_figures_live_update_filter_and_screenshot(tablet, body_id, screenshots):
    chair = tablet("chair", viewport={"width": 1280, "height": 800})
    chair.goto(f"/bodies/{body_id}/tasks")
    expect(_figure(chair, "total")).to_have_text("4")
    expect(_figure(chair, "overdue")).to_have_text("1")
    expect(_figure(chair, "accepted")).to_have_text("1")
    expect(_figure(chair, "rate")).to_have_text("100,0%")
    expect(chair.locator("#overdue li")).to_contain_text("Báo cáo tình hình giải ngân vốn đầu tư công quý IV")
    expect(chair.locator("#all tr")).to_have_count(4)
    expect(chair.locator("#all tr.overdue")).to_have_count(1)
    expect(chair.locator("#by-unit")).to_contain_text("Sở Tài chính")
    expect(chair.locator("#new-task")).to_be_hidden()  # the chair follows; the office assigns
    expect(chair.locator("h2#overdue-h")).to_have_text("Nhiệm vụ quá hạn")
    assert chair.locator("#export-pdf").get_attribute("href").startswith(f"/api/v1/bodies/{body_id}/tasks/report.pdf")
    chair.screenshot(path=str(screenshots / "tasks-dashboard.png"))
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    chair.screenshot(path=str(DOCS_SHOTS / "tasks-dashboard.png"))

    # the office assigns a task on its own page: the chair's figures follow without a reload
    office = tablet("secretary", viewport={"width": 1280, "height": 800})
    office.goto(f"/bodies/{body_id}/tasks")
    expect(office.locator("#new-task")).to_be_visible()
    office.fill("#n-title", "Kiểm tra tiến độ dự án đường cao tốc")
    office.select_option("#n-lead", label="Sở Xây dựng")
    office.fill("#n-deadline", "2099-12-31")
    office.click("#new-form button[type=submit]")
    expect(office.locator("#new-status")).to_have_text("Đã gửi.")
    expect(_figure(chair, "total")).to_have_text("5")
    expect(_figure(chair, "assigned")).to_have_text("1")  # the demo's four are all under way

    # a filter: only the overdue ones
    chair.select_option("#f-status", value="overdue")
    chair.click("#filters button[type=submit]")
    expect(chair.locator("#all tr")).to_have_count(1)
    expect(_figure(chair, "total")).to_have_text("1")
    assert chair.errors == [] and office.errors == []


def test_a_unit_head_sees_my_tasks_and_not_the_dashboard(tablet, body_id):
    # the finance director, reading English: two tasks his unit leads and one it supports
    head = tablet("delegate", locale="en-US")
    head.goto("/tasks")
    expect(head.locator("#mine tr")).to_have_count(3)
    expect(head.locator("h1")).to_have_text("My tasks")
    expect(head.locator("#mine tr.overdue")).to_have_count(1)
    head.locator("#mine tr.overdue a").click()
    expect(head.get_by_test_id("task-status")).to_contain_text("Overdue")
    expect(head.locator("#report-form")).to_be_visible()
    head.fill("#report-text", "Đã tổng hợp số liệu giải ngân")
    head.fill("#report-progress", "60")
    head.click("#send-progress")
    expect(head.locator("#history li").last).to_contain_text("Đã tổng hợp số liệu giải ngân")
    response = head.goto(f"/bodies/{body_id}/tasks")
    assert response.status == 403
    assert head.errors == []
