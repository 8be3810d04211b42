"""The member's opinion form on a phone (390×844) in Chromium: answer, change, in Vietnamese and English;
the screenshot docs/screenshots/opinion-form-phone.png is taken here."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "opinion-form-phone.png"


def _api(page, method: str, path: str, body: dict | None = None) -> dict:
    page.goto("/opinions")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    r = page.request.fetch(f"/api/v1{path}", method=method, data=body, headers={"X-CSRFToken": token})
    assert r.ok, r.text()
    return r.json()


def _sent_form(office, seeded) -> dict:
    """The administrator (the office) drafts and sends a form to the body's members."""
    body_id = _api(office, "GET", f"/meetings/{seeded.meeting_id}")["body_id"]
    form = _api(office, "POST", f"/bodies/{body_id}/opinion-forms", {
        "title": "Xin ý kiến về dự thảo Quy chế quản lý cụm công nghiệp trên địa bàn tỉnh",
        "explanation": "Văn phòng UBND tỉnh xin ý kiến thành viên UBND tỉnh về dự thảo Quyết định.",
        "closes_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "questions": [
            {"kind": "agree", "text": "Đồng ý ban hành Quy chế theo dự thảo?"},
            {"kind": "choice", "text": "Địa điểm cụm công nghiệp (tối đa 2)", "options": ["Đức Trọng", "Lâm Hà",
                                                                                         "Di Linh"],
             "min_choices": 1, "max_choices": 2}]})
    return _api(office, "POST", f"/opinion-forms/{form['id']}/open")


def test_member_answers_on_a_phone(tablet, seeded):
    form = _sent_form(tablet("admin"), seeded)
    phone = tablet("delegate", viewport=PHONE)
    phone.goto("/opinions")
    phone.locator(f'a[href="/opinions/{form["id"]}"]').click()
    expect(phone.locator("h1")).to_contain_text("Quy chế quản lý cụm công nghiệp")
    expect(phone.locator(".opinion-status")).to_have_text("Đang lấy ý kiến")
    q1, q2 = form["questions"]
    # "Ý kiến khác" needs its words: the page says so before sending anything.
    phone.locator(f'input[name="q-{q1["id"]}"][value="other"]').check()
    phone.locator(f'input[name="q-{q2["id"]}"][value="o1"]').check()
    phone.locator("#opinion-send").click()
    expect(phone.locator("#opinion-error")).to_have_text("Đề nghị ghi rõ ý kiến khác.")
    phone.locator(f'textarea[name="comment-{q1["id"]}"]').fill("Đề nghị bổ sung quy định chuyển tiếp.")
    phone.locator(f'input[name="q-{q2["id"]}"][value="o2"]').check()
    phone.locator("#opinion-send").click()
    expect(phone.locator("#opinion-done")).to_have_text("Đã ghi nhận ý kiến của đồng chí (lần 1).")
    phone.screenshot(path=str(SHOT), full_page=True)
    # Changing the answer before the deadline: a second revision.
    phone.locator(f'input[name="q-{q1["id"]}"][value="agree"]').check()
    phone.locator("#opinion-send").click()
    expect(phone.locator("#opinion-done")).to_have_text("Đã ghi nhận ý kiến của đồng chí (lần 2).")
    # The page fits the phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.reload()
    expect(phone.locator(f'input[name="q-{q1["id"]}"][value="agree"]')).to_be_checked()
    expect(phone.locator("#opinion-send")).to_have_text("Sửa ý kiến")
    assert phone.errors == []
    mine = _api(phone, "GET", f"/opinion-forms/{form['id']}")["my_answer"]
    assert mine["revision"] == 2 and mine["answers"][1]["options"] == ["o1", "o2"]


def test_the_form_in_english_and_for_who_was_not_asked(tablet, seeded):
    form = _sent_form(tablet("admin"), seeded)
    phone = tablet("delegate2", viewport=PHONE, locale="en-US")
    phone.goto(f"/opinions/{form['id']}")
    expect(phone.locator(".opinion-status")).to_have_text("Open")
    expect(phone.locator("#opinion-send")).to_have_text("Send my opinion")
    q1, q2 = form["questions"]
    phone.locator(f'input[name="q-{q1["id"]}"][value="disagree"]').check()
    phone.locator(f'input[name="q-{q2["id"]}"][value="o3"]').check()
    phone.locator("#opinion-send").click()
    expect(phone.locator("#opinion-done")).to_have_text("Your opinion was recorded (revision 1).")
    # Somebody outside the body does not even learn the form exists.
    stranger = tablet("outsider", viewport=PHONE)
    assert stranger.goto(f"/opinions/{form['id']}").status == 404
    assert phone.errors == []


def test_the_form_works_without_javascript(browser, server, tablet, seeded):
    """The page posts to itself and the same service records the answer (and refuses an incomplete one)."""
    from tests.browser.conftest import WAIT_MS
    from tests.factories import PASSWORD

    form = _sent_form(tablet("admin"), seeded)
    ctx = browser.new_context(viewport=PHONE, java_script_enabled=False, base_url=server.url, locale="vi-VN")
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = ctx.new_page()
        page.goto("/login")
        page.fill("#username", "chair")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"/opinions/{form['id']}")
        q1, q2 = form["questions"]
        page.locator(f'input[name="q-{q1["id"]}"][value="agree"]').check()
        page.locator("#opinion-send").click()  # no location chosen
        expect(page.locator("#opinion-error")).to_contain_text("Chọn từ 1 đến 2")
        page.locator(f'input[name="q-{q1["id"]}"][value="agree"]').check()
        page.locator(f'input[name="q-{q2["id"]}"][value="o2"]').check()
        page.locator("#opinion-send").click()
        expect(page.locator("#opinion-done")).to_have_text("Đã ghi nhận ý kiến của đồng chí (lần 1).")
    finally:
        ctx.close()


def test_the_office_drafts_sends_and_follows_the_tally_live(tablet, seeded):
    """The office drafts a form on /opinions, sends it from the form's page, sees a member's answer arrive
    without reloading (opinion.tally), closes the form and composes the report."""
    import re

    office = tablet("admin")
    office.goto("/opinions")
    draft = office.locator("#opinion-new")
    draft.locator('[name="title"]').fill("Xin ý kiến về kế hoạch đầu tư công trung hạn")
    draft.locator('[name="explanation"]').fill("Văn phòng xin ý kiến các thành viên.")
    later = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    draft.locator('[name="closes_at"]').fill(later)
    office.locator("#new-add-agree").click()
    office.locator("#new-questions fieldset").nth(0).locator('[name="text"]').fill("Đồng ý với kế hoạch?")
    office.locator("#new-add-choice").click()
    choice = office.locator("#new-questions fieldset").nth(1)
    choice.locator('[name="text"]').fill("Chọn năm khởi công")
    choice.locator('[name="options"]').fill("2027\n2028")
    office.locator("#new-save").click()
    office.wait_for_url(re.compile(r"/opinions/\d+$"))
    form_id = int(office.url.rsplit("/", 1)[1])
    expect(office.locator(".opinion-status")).to_have_text("Dự thảo")
    office.locator("#office-open").click()
    expect(office.locator(".opinion-status")).to_have_text("Đang lấy ý kiến")
    expect(office.locator("#office-count")).to_have_text(re.compile(r"^Đã trả lời 0/\d+$"))
    form = _api(tablet("delegate", viewport=PHONE), "GET", f"/opinion-forms/{form_id}")
    assert [q["text"] for q in form["questions"]] == ["Đồng ý với kế hoạch?", "Chọn năm khởi công"]

    phone = tablet("delegate", viewport=PHONE)
    phone.goto(f"/opinions/{form_id}")
    q1, q2 = form["questions"]
    phone.locator(f'input[name="q-{q1["id"]}"][value="agree"]').check()
    phone.locator(f'input[name="q-{q2["id"]}"][value="o2"]').check()
    phone.locator("#opinion-send").click()
    expect(phone.locator("#opinion-done")).to_have_text("Đã ghi nhận ý kiến của đồng chí (lần 1).")
    # The office's page, never reloaded, shows the answer.
    expect(office.locator("#office-count")).to_have_text(re.compile(r"^Đã trả lời 1/\d+$"))
    expect(office.locator(f'[data-question="{q1["id"]}"] tr[data-option="agree"] .office-n')).to_have_text("1")
    missing = office.locator("#office-missing").inner_text().split(": ", 1)[1].rstrip(".").split("; ")
    assert "Người dùng delegate2" in missing and "Người dùng delegate" not in missing

    office.once("dialog", lambda d: d.accept())
    office.locator("#office-close").click()
    expect(office.locator(".opinion-status")).to_have_text("Đã kết thúc")
    office.locator("#office-compose").click()
    expect(office.locator("#office-report-state")).to_have_text("Báo cáo: Chờ ký")
    expect(office.locator("#office-report")).to_be_visible()
    assert office.errors == [] and phone.errors == []


def _fetch(page, method: str, path: str, body: dict | None = None):
    """A REST call from the page where it is (no navigation): the response, whatever its status."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    return page.request.fetch(f"/api/v1{path}", method=method, data=body, headers={"X-CSRFToken": token})


def test_the_office_chooses_recipients_and_the_signer(tablet, seeded):
    """On a draft's page the office unticks a unit (its button) and a member, names the signer, saves and sends:
    only the chosen members are asked; the others do not see the form, and the signer (not asked) may not answer."""
    ids = seeded.user_ids
    office = tablet("admin")
    body_id = _api(office, "GET", f"/meetings/{seeded.meeting_id}")["body_id"]
    unit = _api(office, "POST", f"/bodies/{body_id}/units", {"name": "Sở Tài chính (phiếu)"})
    for name in ("delegate2", "observer"):
        _api(office, "POST", f"/units/{unit['id']}/members", {"user_id": ids[name]})
    form = _api(office, "POST", f"/bodies/{body_id}/opinion-forms", {
        "title": "Xin ý kiến về phương án phân bổ vốn sự nghiệp",
        "closes_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "questions": [{"kind": "agree", "text": "Đồng ý với phương án phân bổ?"}]})
    office.goto(f"/opinions/{form['id']}")
    who = office.locator("#office-who")
    boxes = who.locator('input[name="recipient"]')
    expect(office.locator("#who-count")).to_have_text("5 người nhận")  # every member, as stored
    expect(boxes).to_have_count(5)
    for n in range(5):
        expect(boxes.nth(n)).to_be_checked()
    box = {name: who.locator(f'input[name="recipient"][value="{ids[name]}"]') for name in
           ("secretary", "chair", "delegate", "delegate2", "observer")}

    # Nobody asked: saved, but the form cannot be sent, and the page says why in Vietnamese.
    office.locator("#who-none").click()
    expect(office.locator("#who-count")).to_have_text("0 người nhận")
    office.locator("#who-save").click()
    expect(office.locator("#who-status")).to_have_text(re.compile(r"^Đã lưu: 0 người nhận; người ký: "))
    office.locator("#office-open").click()
    expect(office.locator("#office-status")).to_have_text("Không thực hiện được: Phiếu còn thiếu: người nhận.")

    office.locator("#who-all").click()
    unit_button = who.locator(f'.who-unit[data-unit="{unit["id"]}"]')
    expect(unit_button).to_have_attribute("aria-pressed", "true")
    unit_button.click()  # all its members were ticked: the button unticks them
    expect(box["delegate2"]).not_to_be_checked()
    expect(box["observer"]).not_to_be_checked()
    box["secretary"].uncheck()
    expect(office.locator("#who-count")).to_have_text("2 người nhận")
    office.locator("#who-signer").select_option(str(ids["secretary"]))
    # Nobody here holds a signing key: the chooser says so, and the saved message names the signer alone.
    expect(office.locator("#who-signer-no-key")).to_be_visible()
    expect(office.locator(f'#who-signer option[value="{ids["secretary"]}"]')).to_have_text(
        "Người dùng secretary — Thành viên (chưa có khóa ký)")
    office.locator("#who-signer-title").fill("TL. CHỦ TỊCH\nCHÁNH VĂN PHÒNG")
    office.locator("#office-open").click()  # not saved yet: nothing is sent
    expect(office.locator("#office-status")).to_have_text("Đề nghị lưu người nhận trước khi gửi phiếu.")
    office.locator("#who-save").click()
    expect(office.locator("#who-status")).to_have_text(
        "Đã lưu: 2 người nhận; người ký: Người dùng secretary — Thành viên.")
    stored = _fetch(office, "GET", f"/opinion-forms/{form['id']}").json()
    assert stored["recipient_ids"] == sorted([ids["chair"], ids["delegate"]])
    assert (stored["signer_id"], stored["signer_title"]) == (ids["secretary"], "TL. CHỦ TỊCH\nCHÁNH VĂN PHÒNG")
    office.reload()
    expect(office.locator("#who-count")).to_have_text("2 người nhận")
    expect(box["chair"]).to_be_checked()
    expect(box["secretary"]).not_to_be_checked()

    office.locator("#office-open").click()
    expect(office.locator(".opinion-status")).to_have_text("Đang lấy ý kiến")
    expect(office.locator("#office-count")).to_have_text("Đã trả lời 0/2")
    # Sent: the chooser only shows; the service refuses a change anyway.
    expect(office.locator("#who-locked")).to_be_visible()
    expect(office.locator("#who-save")).to_have_count(0)
    expect(box["delegate"]).to_be_disabled()
    refused = _fetch(office, "PATCH", f"/opinion-forms/{form['id']}", {"recipient_ids": [ids["delegate2"]]})
    assert refused.status == 409 and refused.json()["error"]["code"] == "not_draft"

    link = f'a[href="/opinions/{form["id"]}"]'
    for name in ("chair", "delegate"):
        member = tablet(name, viewport=PHONE)
        member.goto("/opinions")
        expect(member.locator(link)).to_have_count(1)
    for name in ("delegate2", "observer"):  # members not asked: the form does not exist for them
        member = tablet(name, viewport=PHONE)
        member.goto("/opinions")
        expect(member.locator(link)).to_have_count(0)
        assert member.goto(f"/opinions/{form['id']}").status == 404
    signer = tablet("secretary", viewport=PHONE)  # sees the form (signs its report) but was not asked
    signer.goto(f"/opinions/{form['id']}")
    expect(signer.locator("h1")).to_have_text("Xin ý kiến về phương án phân bổ vốn sự nghiệp")
    expect(signer.locator("#opinion-send")).to_have_count(0)
    answer = _fetch(signer, "PUT", f"/opinion-forms/{form['id']}/answer",
                    {"answers": [{"question_id": form["questions"][0]["id"], "choice": "agree"}]})
    assert answer.status == 403 and answer.json()["error"]["code"] == "not_recipient"
    assert office.errors == [] and signer.errors == []
