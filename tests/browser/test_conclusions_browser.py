"""The conclusion notice page in Chromium: the secretariat composes the notice from the sitting's conclusions,
edits a conclusion, adds one, saves and sends it for signature; a delegate sees nothing before it is published."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from meetings import create_app
from meetings.accounts.models import User
from meetings.bodies import agenda
from meetings.bodies.models import Meeting
from meetings.bodies.sittings import change_status
from meetings.core.extensions import db


@pytest.fixture(scope="module")
def meeting_id(seeded, database_url, server_dir):
    """The seeded sitting, with a conclusion on its first item recorded by the chair, adjourned and closed."""
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(server_dir / "cn-instance"),
                      "STORAGE_PATH": str(server_dir / "storage"), "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        meeting = db.session.get(Meeting, seeded.meeting_id)
        chair = db.session.get(User, seeded.user_ids["chair"])
        secretary = db.session.get(User, seeded.user_ids["secretary"])
        agenda.update_item(db.session, meeting.items[0], chair, conclusion="Giao Sở Tài chính chủ trì.")
        for status in ("adjourned", "closed"):
            change_status(db.session, meeting, secretary, status=status)
        db.session.commit()
        found = meeting.id
    db.session.remove()
    db.engine.dispose()
    return found


def test_secretariat_composes_edits_and_sends_for_signature(tablet, meeting_id):
    page = tablet("secretary")
    page.goto(f"/meetings/{meeting_id}/conclusions")
    page.get_by_role("button", name="Soạn từ kết luận của phiên họp").click()
    items = page.locator("#cn-items textarea")
    expect(items).to_have_count(1)
    expect(items.first).to_have_value("Giao Sở Tài chính chủ trì.")
    items.first.fill("Giao Sở Tài chính chủ trì, báo cáo trước ngày 15/12.")
    page.get_by_role("button", name="Thêm kết luận").click()
    items.nth(1).fill("Giao Văn phòng theo dõi.")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("#cn-status")).to_have_text("Đã lưu.")
    page.get_by_role("button", name="Trình ký").click()
    expect(page.locator("#cn-state")).to_have_text("Chờ ký")
    expect(page.locator("#cn-number")).to_have_text("Số: 1/TB-UBND")
    expect(items).to_have_count(2)
    expect(items.first).to_be_disabled()
    assert page.errors == []

    delegate = tablet("delegate")
    delegate.goto(f"/meetings/{meeting_id}/conclusions")
    expect(delegate.locator("#cn-empty")).to_be_visible()  # not published: the delegate learns nothing
    expect(delegate.locator("#cn-create")).to_be_hidden()
    assert delegate.errors == []
