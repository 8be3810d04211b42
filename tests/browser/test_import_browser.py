"""The import panel (static/js/console/import.js) in a real Chromium on the preparation page: a list with a bad
row shows the row's error and offers no import; the corrected list previews, imports, and the people are there."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from meetings.bodies.models import Participant
from tests.socket_helpers import db_session

pytestmark = pytest.mark.browser

HEADER = "Họ và tên,Tên đăng nhập,Thư điện tử,Đơn vị,Vai trò,Quyền biểu quyết,Trọng số\n"
GOOD = ("Nguyễn Văn An,an.nguyen,an@ubnd.vn,Sở Tài chính,đại biểu,có,1\n"
        "Trần Thị Bích Ngọc,ngoc.tran,ngoc@ubnd.vn,Sở Xây dựng,khách mời,không,\n")


def _participants(database_url: str, meeting_id: int) -> int:
    with db_session(database_url) as s:
        return s.scalar(select(func.count()).select_from(Participant).where(Participant.meeting_id == meeting_id))


def _choose(page, text: str, name: str = "danh-sach.csv") -> None:
    page.locator("#imp-file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": ("\ufeff" + text).encode("utf-8")})


def test_preview_shows_the_bad_row_then_the_list_is_imported(tablet, seeded, database_url, screenshots):
    meeting_id = seeded.meeting_id
    page = tablet("secretary")
    page.goto(f"/meetings/{meeting_id}/prepare")
    if page.locator("#import").count() == 0:  # until the page includes console/_import.html itself
        page.add_script_tag(url="/static/js/console/import.js", type="module")
    panel = page.locator("#import")
    expect(panel.locator("h2")).to_have_text("Nhập danh sách đại biểu")
    before = _participants(database_url, meeting_id)

    _choose(page, HEADER + GOOD + "Lê Văn Cường,cuong,không-phải-email,,,,\n")
    panel.locator("#imp-preview").click()
    bad = panel.locator('tr[data-row="4"]')
    expect(bad.locator('[data-code="bad_email"]')).to_have_text("[email] Thư điện tử không hợp lệ.")
    expect(panel.locator("#imp-apply")).to_be_hidden()
    expect(panel.locator('tr[data-row="2"] td').nth(8)).to_have_text("tạo mới")
    page.screenshot(path=screenshots / "import-preview-errors.png", full_page=True)
    assert _participants(database_url, meeting_id) == before  # a preview writes nothing

    _choose(page, HEADER + GOOD)
    panel.locator("#imp-preview").click()
    expect(panel.locator("#imp-apply")).to_have_text("Nhập 2 dòng")
    expect(panel.locator('tr[data-row="3"] td').nth(5)).to_have_text("khách mời")
    panel.locator("#imp-apply").click()
    expect(panel.locator('tr[data-row="2"] td').nth(9)).to_have_text("thêm")
    expect(panel.locator("#imp-apply")).to_be_hidden()
    assert _participants(database_url, meeting_id) == before + 2
    assert page.errors == []
