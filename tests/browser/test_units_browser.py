"""The units page in Chromium: the body's office creates "Sở Tài chính", staffs it and names its head, renames
it, meets the duplicate-name and invalid-address refusals in Vietnamese with what it typed kept, takes a member
out and deactivates a unit; a reload and the REST show the same. Screenshot: docs/screenshots/units.png."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from meetings import create_app
from meetings.bodies.models import BodyMember, Meeting
from meetings.core.extensions import db

pytestmark = pytest.mark.browser

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RENAMED = "Sở Tài chính tỉnh Thử Nghiệm"


@pytest.fixture(scope="module")
def body_id(seeded, database_url, server_dir):
    """The seeded world's body, the secretary as its office (its secretariat)."""
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(server_dir / "units-instance"),
                      "STORAGE_PATH": str(server_dir / "storage"), "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        body = db.session.get(Meeting, seeded.meeting_id).body_id
        db.session.execute(select(BodyMember).where(BodyMember.body_id == body, BodyMember.user_id ==
                                                    seeded.user_ids["secretary"])).scalar_one().is_secretariat = True
        db.session.commit()
    db.session.remove()
    db.engine.dispose()
    return body


def _unit(page, name: str):
    """The <tbody> of the unit named exactly ``name``."""
    return page.locator("tbody.unit").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def _create(page, name: str, short: str = "") -> None:
    page.fill("#nu-name", name)
    page.fill("#nu-short", short)
    page.click("#new-unit button[type=submit]")
    expect(page.locator("#new-unit-status")).to_have_text(f"Đã tạo đơn vị {name}.")
    expect(page.locator("#nu-name")).to_have_value("")


def test_office_creates_staffs_renames_and_deactivates_units(tablet, body_id, seeded, screenshots):
    ids = seeded.user_ids
    page = tablet("secretary", viewport={"width": 1280, "height": 800})
    page.goto("/")
    page.click(f'a[href="/bodies/{body_id}/units"]')  # the home page links the office's units page
    expect(page.locator("h1")).to_contain_text("Đơn vị")
    expect(page.locator("#no-units")).to_be_visible()

    _create(page, "Sở Tài chính", "STC")
    _create(page, "Sở Xây dựng")
    finance = _unit(page, "Sở Tài chính")
    expect(finance.locator(".unit-short")).to_have_text("STC")
    expect(finance.locator(".badge")).to_have_text("Đang hoạt động")

    # a second "Sở Tài chính" is refused next to the form, in Vietnamese, and the typed name stays
    page.fill("#nu-name", "Sở  Tài chính")
    page.click("#new-unit button[type=submit]")
    expect(page.locator("#new-unit-status")).to_have_text("Cơ quan đã có đơn vị tên “Sở  Tài chính”.")
    expect(page.locator("#nu-name")).to_have_value("Sở  Tài chính")
    page.fill("#nu-name", "")
    expect(page.locator("#new-unit-status")).to_be_hidden()  # typing again clears what was said
    # a 422 (the schema refuses the address): the field is named in Vietnamese, nothing typed is lost
    page.fill("#nu-name", "Sở Y tế")
    page.fill("#nu-email", "khong-phai-thu")
    page.click("#new-unit button[type=submit]")
    expect(page.locator("#new-unit-status")).to_have_text("Kiểm tra lại: Thư điện tử.")
    expect(page.locator("#nu-name")).to_have_value("Sở Y tế")
    expect(page.locator("#nu-email")).to_have_value("khong-phai-thu")
    page.fill("#nu-name", "")
    page.fill("#nu-email", "")

    # staff it: a member of the body, marked as the unit's head
    finance.locator("button.members-toggle").click()
    finance.locator("select[name=user_id]").select_option(label="Người dùng delegate (delegate)")
    finance.locator(".member-add input[name=is_head]").check()
    finance.locator(".member-add button[type=submit]").click()
    head = finance.locator(f'.unit-member-list li[data-user-id="{ids["delegate"]}"]')
    expect(head.locator(".badge.head")).to_have_text("Thủ trưởng")
    expect(finance.locator("button.members-toggle")).to_have_text("Thành viên (1)")
    # a second member, not the head; the head mark is given and taken back with the page's buttons
    finance.locator("select[name=user_id]").select_option(label="Người dùng delegate2 (delegate2)")
    finance.locator(".member-add button[type=submit]").click()
    second = finance.locator(f'.unit-member-list li[data-user-id="{ids["delegate2"]}"]')
    expect(second).to_be_visible()
    expect(second.locator(".badge.head")).to_have_count(0)
    second.get_by_role("button", name="Đặt làm thủ trưởng").click()
    expect(second.locator(".badge.head")).to_have_text("Thủ trưởng")
    second.get_by_role("button", name="Thôi làm thủ trưởng").click()
    expect(second.locator(".badge.head")).to_have_count(0)
    expect(head.locator(".badge.head")).to_have_text("Thủ trưởng")
    expect(page.locator(".toast")).to_have_count(0)  # the screenshot without the passing "Đã lưu."
    page.screenshot(path=str(screenshots / "units.png"), full_page=True)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / "units.png"), full_page=True)

    # rename in place
    finance.locator("button.edit").click()
    name_field = page.locator("tbody.unit tr.editing input[name=name]")
    expect(name_field).to_be_focused()
    name_field.fill(RENAMED)
    page.locator("tbody.unit tr.editing button.save").click()
    finance = _unit(page, RENAMED)
    expect(finance).to_be_visible()
    expect(page.locator("tr.editing")).to_have_count(0)

    # renaming Sở Xây dựng to the same name: refused beside its row, the typed name kept in its field
    building = _unit(page, "Sở Xây dựng")
    building.locator("button.edit").click()
    page.locator("tr.editing input[name=name]").fill(RENAMED)
    page.locator("tr.editing button.save").click()
    refusal = page.locator("tbody.unit .unit-msg p.error")
    expect(refusal).to_have_text(f"Cơ quan đã có đơn vị tên “{RENAMED}”.")
    expect(page.locator("tr.editing input[name=name]")).to_have_value(RENAMED)
    page.locator("tr.editing button.secondary").click()  # Hủy
    expect(page.locator("tr.editing")).to_have_count(0)

    # take delegate2 out of the unit
    finance.locator(f'.unit-member-list li[data-user-id="{ids["delegate2"]}"] button.danger').click()
    expect(finance.locator(".unit-member-list li")).to_have_count(1)
    expect(finance.locator("button.members-toggle")).to_have_text("Thành viên (1)")

    # deactivate Sở Xây dựng: the page asks first (no browser dialog), a cancel changes nothing
    page.on("dialog", lambda d: pytest.fail(f"a browser dialog: {d.message}"))
    building = _unit(page, "Sở Xây dựng")
    building.locator("button.deactivate").click()
    expect(building.locator(".unit-confirm")).to_contain_text("Ngừng hoạt động đơn vị “Sở Xây dựng”?")
    building.locator(".unit-confirm button.secondary").click()
    expect(building.locator(".unit-confirm")).to_have_count(0)
    expect(building.locator(".badge")).to_have_text("Đang hoạt động")
    building.locator("button.deactivate").click()
    building.locator(".unit-confirm button.danger").click()
    expect(building.locator(".badge")).to_have_text("Ngừng hoạt động")
    expect(building.locator("button.reactivate")).to_be_visible()

    # a reload shows what the database holds
    page.reload()
    finance, building = _unit(page, RENAMED), _unit(page, "Sở Xây dựng")
    expect(finance.locator(".badge")).to_have_text("Đang hoạt động")
    expect(finance.locator("button.members-toggle")).to_have_text("Thành viên (1)")
    expect(building.locator(".badge")).to_have_text("Ngừng hoạt động")
    finance.locator("button.members-toggle").click()
    expect(finance.locator(".unit-member-list li")).to_have_count(1)
    expect(finance.locator(".unit-member-list li .badge.head")).to_have_text("Thủ trưởng")
    expect(page.locator("tbody.unit")).to_have_count(2)

    # and so does the REST, read with the same session
    units = page.request.get(f"/api/v1/bodies/{body_id}/units?include_inactive=true").json()
    by_name = {u["name"]: u for u in units}
    assert set(by_name) == {RENAMED, "Sở Xây dựng"}
    assert by_name[RENAMED]["short_name"] == "STC" and by_name[RENAMED]["active"] is True
    assert [(m["username"], m["is_head"]) for m in by_name[RENAMED]["members"]] == [("delegate", True)]
    assert by_name["Sở Xây dựng"]["active"] is False
    assert page.errors == [], page.error_stacks
