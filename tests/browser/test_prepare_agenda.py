"""The preparation page in a real browser: item titles edited in place (no browser prompt), sub-items
added and moved between items by mouse drag, touch drag, the "move to item" list and the keyboard,
and a document's text-layer badge following a live event (see conftest.py for server and Chromium)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from meetings.bodies.models import AgendaItem
from tests.browser.conftest import LANDSCAPE
from tests.socket_helpers import db_session

pytestmark = pytest.mark.browser


def titles(database_url: str, parent_id: int | None, meeting_id: int) -> list[str]:
    with db_session(database_url) as s:
        query = select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
        query = query.where(AgendaItem.parent_id.is_(None) if parent_id is None else AgendaItem.parent_id == parent_id)
        return [i.title for i in s.execute(query.order_by(AgendaItem.position)).scalars()]


def item_li(page, item_id: int):
    return page.locator(f"#prep-items li[data-item-id='{item_id}']")


def no_prompts(page):
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.type), d.dismiss()))


def test_titles_are_edited_in_place(tablet, seeded, database_url, screenshots):
    page = tablet("secretary", LANDSCAPE)
    no_prompts(page)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    first = seeded.item_ids[0]
    title = item_li(page, first).locator(":scope > .item-row .title")
    expect(title).to_have_text("1. Nội dung 1")
    # Click: an input replaces the title. Esc cancels: nothing saved.
    title.locator(".text").click()
    editor = item_li(page, first).locator(":scope > .item-row .inline-edit")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Nội dung 1")
    editor.fill("Không lưu")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(title).to_have_text("1. Nội dung 1")
    assert titles(database_url, None, seeded.meeting_id)[0] == "Nội dung 1"
    # Keyboard: focus the title, Enter opens the editor, Enter saves (PATCH).
    title.locator(".text").focus()
    page.keyboard.press("Enter")
    expect(editor).to_be_focused()
    editor.fill("Báo cáo tình hình kinh tế - xã hội")
    editor.press("Enter")
    expect(title).to_have_text("1. Báo cáo tình hình kinh tế - xã hội")
    assert titles(database_url, None, seeded.meeting_id)[0] == "Báo cáo tình hình kinh tế - xã hội"
    # The server refuses an empty title: the message is shown beside the field, which keeps the text.
    title.locator(".text").click()
    editor.fill("   ")
    editor.press("Enter")
    error = item_li(page, first).locator(":scope > .item-row .inline-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Chưa lưu được")
    expect(editor).to_have_value("   ")
    page.screenshot(path=screenshots / "prepare-inline-title-error.png", full_page=True)
    editor.press("Escape")
    expect(title).to_have_text("1. Báo cáo tình hình kinh tế - xã hội")
    assert titles(database_url, None, seeded.meeting_id)[0] == "Báo cáo tình hình kinh tế - xã hội"
    assert page.dialogs == [] and page.errors == []


def add_sub(page, parent_id: int, title: str) -> None:
    item_li(page, parent_id).locator(":scope > [data-act=add-sub]").click()
    editor = item_li(page, parent_id).locator(":scope > .inline-box .inline-edit")
    editor.fill(title)
    editor.press("Enter")
    expect(item_li(page, parent_id).locator(".sub-items > li .title .text").filter(has_text=title)).to_have_count(1)


def sub_li(page, title: str):
    return page.locator("#prep-items .sub-items > li").filter(has=page.locator(".title .text", has_text=title))


def touch_drag(page, source, target) -> None:
    """A finger on the ⠿ handle dragged onto ``target``: pointer events of type touch."""
    a, b = source.bounding_box(), target.bounding_box()
    start = (a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    end = (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    page.evaluate("""([sx, sy, ex, ey]) => {
      const opts = (x, y) => ({bubbles: true, cancelable: true, pointerId: 7, pointerType: "touch", isPrimary: true,
                               clientX: x, clientY: y});
      document.elementFromPoint(sx, sy).dispatchEvent(new PointerEvent("pointerdown", opts(sx, sy)));
      for (let i = 1; i <= 5; i++) {
        const x = sx + (ex - sx) * i / 5, y = sy + (ey - sy) * i / 5;
        document.elementFromPoint(x, y).dispatchEvent(new PointerEvent("pointermove", opts(x, y)));
      }
      document.elementFromPoint(ex, ey).dispatchEvent(new PointerEvent("pointerup", opts(ex, ey)));
    }""", [*start, *end])


TALL = {"width": 1024, "height": 1600}  # the whole agenda on screen: a drag never waits for scrolling


def test_sub_items_move_between_items(tablet, seeded, database_url, screenshots):
    page = tablet("secretary", TALL)
    no_prompts(page)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    one, two, three = seeded.item_ids
    add_sub(page, one, "Thu ngân sách")
    add_sub(page, one, "Chi ngân sách")
    add_sub(page, one, "Nợ công")
    assert titles(database_url, one, seeded.meeting_id) == ["Thu ngân sách", "Chi ngân sách", "Nợ công"]
    # Mouse: drag "Chi ngân sách", then "Thu ngân sách" onto item 2's row → the end of item 2's sub-items.
    sub_li(page, "Chi ngân sách").locator(".title .num").drag_to(item_li(page, two).locator(":scope > .item-row .num"))
    expect(item_li(page, two).locator(".sub-items > li")).to_have_count(1)
    sub_li(page, "Thu ngân sách").locator(".title .num").drag_to(item_li(page, two).locator(":scope > .item-row .num"))
    expect(item_li(page, two).locator(".sub-items > li")).to_have_count(2)
    assert titles(database_url, two, seeded.meeting_id) == ["Chi ngân sách", "Thu ngân sách"]
    assert titles(database_url, one, seeded.meeting_id) == ["Nợ công"]
    # Touch: a finger drags "Nợ công" by its handle onto "Thu ngân sách" → takes its place (second).
    touch_drag(page, sub_li(page, "Nợ công").locator(".drag"), sub_li(page, "Thu ngân sách").locator(".title"))
    expect(item_li(page, two).locator(".sub-items > li")).to_have_count(3)
    expect(item_li(page, two).locator(".sub-items > li .title")).to_have_text(
        ["2.1. Chi ngân sách", "2.2. Nợ công", "2.3. Thu ngân sách"])
    assert titles(database_url, two, seeded.meeting_id) == ["Chi ngân sách", "Nợ công", "Thu ngân sách"]
    # Keyboard: "down" on "Nợ công"; focus stays on the moved item's button.
    down = sub_li(page, "Nợ công").locator("[data-act=down]")
    down.focus()
    page.keyboard.press("Enter")
    expect(item_li(page, two).locator(".sub-items > li .title").last).to_have_text("2.3. Nợ công")
    expect(sub_li(page, "Nợ công").locator("[data-act=down]")).to_be_disabled()
    assert titles(database_url, two, seeded.meeting_id) == ["Chi ngân sách", "Thu ngân sách", "Nợ công"]
    # "Move to item …": "Thu ngân sách" goes to item 3.
    sub_li(page, "Thu ngân sách").locator("select[data-act=move-to]").select_option(str(three))
    expect(item_li(page, three).locator(".sub-items > li")).to_have_count(1)
    assert titles(database_url, three, seeded.meeting_id) == ["Thu ngân sách"]
    assert titles(database_url, one, seeded.meeting_id) == []
    page.screenshot(path=screenshots / "prepare-sub-items-moved.png", full_page=True)
    page.reload()
    expect(item_li(page, three).locator(".sub-items > li .title")).to_have_text(["3.1. Thu ngân sách"])
    assert page.dialogs == [] and page.errors == []


def test_a_slot_and_a_documents_text_layer_badge_follow_live_events(tablet, seeded, database_url):
    page = tablet("secretary", LANDSCAPE)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    one = seeded.item_ids[0]
    # An expected document: "Chờ tài liệu: …" under the item; the seeded document of item 1 has another title.
    item_li(page, one).locator(":scope > .slots [data-act=add-slot]").click()
    editor = item_li(page, one).locator(":scope > .slots .inline-edit")
    editor.fill("Tờ trình dự toán")
    editor.press("Enter")
    expect(item_li(page, one).locator(":scope > .slots .slot.empty")).to_have_text(
        "Chờ tài liệu: Tờ trình dự toánTải lên✕")
    row = page.locator(f"#doc-rows tr[data-doc-id='{seeded.doc_ids[0]}'] .doc-status")
    expect(row).to_have_attribute("data-text-layer", "text")
    expect(row).to_contain_text("Đã có lớp chữ")
    # The OCR job's notice (helper H2: "document.text_layer" to the managers) as the live client hands it over.
    page.wait_for_function("() => window.__liveClient && window.__liveClient.state === 'online'")
    for state, text in (("running", "Đang nhận dạng chữ (OCR)…"), ("failed", "OCR lỗi: tesseract hết thời gian")):
        page.evaluate("""([id, state, error]) => window.__liveClient.dispatch("notice", {name: "document.text_layer",
            data: {document_id: id, text_layer: state, ocr_error: state === "failed" ? error : null}})""",
                      [seeded.doc_ids[0], state, "tesseract hết thời gian"])
        expect(row).to_have_attribute("data-text-layer", state)
        expect(row).to_contain_text(text)
    assert page.errors == []


def test_next_months_regular_sitting_from_the_template_in_two_clicks(tablet, seeded, database_url, screenshots):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from meetings.bodies.models import Meeting

    page = tablet("admin", LANDSCAPE)  # the world's body has no secretariat: its administrator creates meetings
    no_prompts(page)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    page.locator("details.reuse summary").click()
    expect(page.locator("#template-name")).to_have_value("Phiên họp thường kỳ")
    expect(page.locator("#template-regular")).to_be_checked()
    page.locator("#template-form button[type=submit]").click()
    expect(page.locator("#template-result")).to_contain_text("Đã lưu thành mẫu “Phiên họp thường kỳ”")
    # The new-meeting page: the body is chosen (the only one); one click makes next month's sitting.
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    page.goto("/meetings/new")
    button = page.locator("#regular-create")
    expect(button).to_have_text(f"Tạo phiên họp thường kỳ tháng {month}/{year}")
    expect(page.locator("#regular-next")).to_contain_text(f"Phiên họp thường kỳ tháng {month}/{year}")
    page.screenshot(path=screenshots / "new-meeting-regular-sitting.png", full_page=True)
    button.click()
    page.wait_for_url("**/prepare")
    expect(page.locator("h1.meeting-title")).to_have_text(f"Phiên họp thường kỳ tháng {month}/{year}")
    new_id = int(page.url.rstrip("/").split("/")[-2])
    with db_session(database_url) as s:
        made, source = s.get(Meeting, new_id), s.get(Meeting, seeded.meeting_id)
        assert made.status == "draft" and made.body_id == source.body_id
        assert sorted(p.user_id for p in made.participants) == sorted(p.user_id for p in source.participants)
        assert sorted(i.title for i in made.items) == sorted(i.title for i in source.items)
        local = made.starts_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert (local.year, local.month) == (year, month)
        assert local.time() == source.starts_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).time().replace(
            second=0, microsecond=0)
        assert local.weekday() == source.starts_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).weekday()
    # The page now offers the month after.
    page.goto("/meetings/new")
    year2, month2 = (year + 1, 1) if month == 12 else (year, month + 1)
    expect(page.locator("#regular-create")).to_have_text(f"Tạo phiên họp thường kỳ tháng {month2}/{year2}")
    assert page.dialogs == [] and page.errors == []


def test_a_refused_office_file_names_its_reason_and_stores_nothing(tablet, seeded, tmp_path):
    """A damaged .docx, one with macros and an empty one, through the file input: each row says why in
    Vietnamese (the console's own words, not the server's English), and the documents list stays as it was."""
    from tests.office_files import corrupted_docx, docx_with_macro

    files = {"hỏng.docx": corrupted_docx(), "có macro.docx": docx_with_macro(), "trống.docx": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    secretary = tablet("secretary", LANDSCAPE)
    secretary.goto(f"/meetings/{seeded.meeting_id}/prepare")
    before = secretary.locator("#doc-rows tr").count()
    secretary.set_input_files("#doc-file", [str(tmp_path / name) for name in files])
    expected = {"hỏng.docx": "Tệp bị hỏng hoặc không đúng định dạng",
                "có macro.docx": "Tệp có chứa macro nên bị từ chối",
                "trống.docx": "Tệp rỗng, không có nội dung"}
    for name, reason in expected.items():
        row = secretary.locator(".upload").filter(has_text=name)
        expect(row).to_have_attribute("data-stage", "failed", timeout=120_000)
        expect(row.locator(".msg")).to_contain_text(f"Không tải lên được {name}")
        expect(row.locator(".msg")).to_contain_text(reason)
    secretary.reload()
    expect(secretary.locator("#doc-rows tr")).to_have_count(before)
