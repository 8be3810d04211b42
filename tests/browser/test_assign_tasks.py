"""The office assigns follow-up tasks from the UI, in Chromium (static/js/tasks/assign.js): from a numbered
conclusion of a published notice, from a closed opinion form's result, and by hand on the dashboard; the
REST's refusals show inline and keep what was typed; a delegate is offered nothing."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from meetings import create_app
from meetings.accounts.models import User
from meetings.bodies import units
from meetings.bodies.models import BodyMember, Meeting
from meetings.conclusions.service import items_of
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.demo.conclusions import ITEMS, load_demo_notice
from meetings.minutes import keys
from meetings.minutes.signers import issue_key
from meetings.opinions import service as opinions

CA_PASS = "ca-assign-pass"
SIGN_PASS = "chair-assign-pass"
UNITS = ["Sở Tài chính", "Sở Xây dựng", "Sở Nội vụ"]


@pytest.fixture(scope="module")
def world(seeded, database_url, server_dir):
    """A published, chair-signed notice of a held sitting (the demo's three conclusions), the body's units,
    a closed opinion form, and the secretary as the body's office."""
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(server_dir / "assign-instance"),
                      "STORAGE_PATH": str(server_dir / "storage"), "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        meeting = db.session.get(Meeting, seeded.meeting_id)
        body = meeting.body
        ids = seeded.user_ids
        db.session.execute(select(BodyMember).where(BodyMember.body_id == body.id,
                                                    BodyMember.user_id == ids["secretary"])).scalar_one(
                                                    ).is_secretariat = True
        secretary, chair = db.session.get(User, ids["secretary"]), db.session.get(User, ids["chair"])
        keys.init_ca(app.config["INSTANCE_PATH"], body.name, CA_PASS)
        issue_key(db.session, app.config, chair, ca_passphrase=CA_PASS, passphrase=SIGN_PASS)
        notice = load_demo_notice(db.session, app.config, body.name, SIGN_PASS)
        assert notice.status == "published"
        units.find_or_create_by_names(db.session, body, UNITS, actor=secretary)
        form = opinions.create_form(db.session, body, secretary, {
            "title": "Xin ý kiến về Quy chế quản lý cụm công nghiệp", "closes_at": utcnow() + timedelta(days=1),
            "chair_id": chair.id, "signer_id": chair.id, "signer_title": "CHỦ TỊCH",
            "questions": [{"kind": "agree", "text": "Đồng ý ban hành Quy chế theo dự thảo?"}]})
        opinions.open_form(db.session, form, secretary)
        opinions.close_form(db.session, form, secretary)
        db.session.commit()
        found = {"meeting_id": notice.meeting_id, "body_id": body.id, "form_id": form.id,
                 "items": [i.id for i in items_of(notice)], "number": notice.number}
    db.session.remove()
    db.engine.dispose()
    return found


def test_secretariat_assigns_from_conclusion_2(tablet, world, screenshots):
    page = tablet("secretary")
    page.goto(f"/meetings/{world['meeting_id']}/conclusions")
    expect(page.locator("#cn-state")).to_have_text("Đã ban hành")
    second = page.locator("#cn-items > li").nth(1)
    expect(second.get_by_test_id("source-task-count")).to_have_text("0 nhiệm vụ")
    second.get_by_role("button", name="Giao nhiệm vụ").click()
    form = second.locator("form.assign-form")
    prefix = f"#cn-task-{world['items'][1]}"
    title = form.locator(f"{prefix}-title")
    # the title comes from the conclusion's text, shortened; the whole text goes to the description
    expect(title).to_have_value(re.compile(r"^Giao Sở Tài chính và Sở Xây dựng đôn đốc .*…$"))
    assert len(title.input_value()) <= 120 < len(ITEMS[1][1])
    expect(form.locator(f"{prefix}-desc")).to_have_value(ITEMS[1][1])

    # the REST's refusal (a deadline in the past) shows inline; nothing typed is lost
    title.fill("Đôn đốc giải ngân vốn đầu tư công")
    form.locator(f"{prefix}-lead").select_option(label="Sở Xây dựng")
    form.locator(f"{prefix}-support").select_option(label="Sở Tài chính")
    form.locator(f"{prefix}-deadline").fill("2020-01-01")
    form.get_by_role("button", name="Giao nhiệm vụ").click()
    expect(form.locator(f"{prefix}-status")).to_have_text("Hạn xử lý phải là một ngày trong tương lai.")
    expect(form.locator(f"{prefix}-status")).to_have_attribute("role", "alert")
    expect(title).to_have_value("Đôn đốc giải ngân vốn đầu tư công")
    expect(second.get_by_test_id("source-task-count")).to_have_text("0 nhiệm vụ")

    page.screenshot(path=str(screenshots / "assign-task-refused.png"), full_page=True)
    form.locator(f"{prefix}-deadline").fill("2099-12-31")
    form.locator(f"{prefix}-priority").select_option(value="high")
    form.get_by_role("button", name="Giao nhiệm vụ").click()
    expect(form.locator(f"{prefix}-status")).to_have_text("Đã giao nhiệm vụ.")
    expect(second.get_by_test_id("source-task-count")).to_have_text("1 nhiệm vụ")
    link = second.locator("ul.source-tasks a")
    expect(link).to_have_text("Đôn đốc giải ngân vốn đầu tư công")
    href = link.get_attribute("href")
    assert href.startswith("/tasks/")
    # after a reload too: conclusion 2 has it, the others have none
    page.reload()
    counts = page.locator("#cn-items > li [data-testid=source-task-count]")
    expect(counts).to_have_text(["0 nhiệm vụ", "1 nhiệm vụ", "0 nhiệm vụ"])
    assert page.errors == []

    # on its page and on the dashboard, with its source
    page.goto(href)
    expect(page.locator("body")).to_contain_text("Đôn đốc giải ngân vốn đầu tư công")
    page.goto(f"/bodies/{world['body_id']}/tasks")
    row = page.locator("#all tr", has_text="Đôn đốc giải ngân vốn đầu tư công")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Kết luận 2, Thông báo kết luận số {world['number']}")
    expect(row).to_contain_text("Sở Xây dựng / Sở Tài chính")
    assert page.errors == []


def test_delegate_is_offered_no_assignment(tablet, world):
    page = tablet("delegate")
    page.goto(f"/meetings/{world['meeting_id']}/conclusions")
    expect(page.locator("#cn-state")).to_have_text("Đã ban hành")
    expect(page.locator("#cn-items > li")).to_have_count(3)
    expect(page.locator(".source-tasks-box")).to_have_count(0)
    expect(page.get_by_role("button", name="Giao nhiệm vụ")).to_have_count(0)
    page.goto(f"/opinions/{world['form_id']}")
    expect(page.locator("h1")).to_have_text("Xin ý kiến về Quy chế quản lý cụm công nghiệp")
    expect(page.locator("#opinion-assign")).to_have_count(0)
    assert page.errors == []


def test_assign_from_opinion_result_to_a_person(tablet, world):
    page = tablet("secretary")
    page.goto(f"/opinions/{world['form_id']}")
    expect(page.locator("#opinion-assign-h")).to_have_text("Giao nhiệm vụ từ kết quả lấy ý kiến")
    box = page.locator("#opinion-assign")
    box.get_by_role("button", name="Giao nhiệm vụ").click()
    expect(page.locator("#op-task-title")).to_have_value("Xin ý kiến về Quy chế quản lý cụm công nghiệp")
    page.fill("#op-task-title", "Hoàn thiện Quy chế theo ý kiến các thành viên")
    page.select_option("#op-task-person", label="Người dùng delegate2")
    page.fill("#op-task-deadline", "2099-06-30")
    box.locator("form").get_by_role("button", name="Giao nhiệm vụ").click()
    expect(page.locator("#op-task-status")).to_have_text("Đã giao nhiệm vụ.")
    expect(box.get_by_test_id("source-task-count")).to_have_text("1 nhiệm vụ")
    expect(box.locator("ul.source-tasks")).to_contain_text("Hoàn thiện Quy chế theo ý kiến các thành viên")
    expect(box.locator("ul.source-tasks")).to_contain_text("Người dùng delegate2")
    assert page.errors == []


def test_dashboard_manual_task_and_english(tablet, world):
    page = tablet("secretary")
    page.goto(f"/bodies/{world['body_id']}/tasks")
    expect(page.locator("#new-h")).to_have_text("Tạo nhiệm vụ")
    page.fill("#n-title", "Chuẩn bị báo cáo kinh tế – xã hội năm 2026")
    page.fill("#n-deadline", "2099-03-31")
    page.click("#new-form button[type=submit]")
    # neither a unit nor a person: the service refuses, the page says why, the title stays
    expect(page.locator("#new-status")).to_have_text("Chọn đơn vị chủ trì hoặc cá nhân được giao.")
    expect(page.locator("#n-title")).to_have_value("Chuẩn bị báo cáo kinh tế – xã hội năm 2026")
    page.select_option("#n-lead", label="Sở Nội vụ")
    page.click("#new-form button[type=submit]")
    expect(page.locator("#new-status")).to_have_text("Đã gửi.")
    row = page.locator("#all tr", has_text="Chuẩn bị báo cáo kinh tế – xã hội năm 2026")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Sở Nội vụ")
    assert page.errors == []

    english = tablet("secretary", locale="en-US")
    english.goto(f"/meetings/{world['meeting_id']}/conclusions")
    first = english.locator("#cn-items > li").first
    first.get_by_role("button", name="Assign a task").click()
    expect(first.locator("label", has_text="Lead unit")).to_have_count(1)
    expect(first.locator("form.assign-form label", has_text="Or assign to a person")).to_have_count(1)
    assert english.errors == []
