"""The secretariat console in a real browser: preparing the agenda, and the minutes from draft to
two signatures (see conftest.py for the server and Chromium)."""
from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem
from meetings.minutes import keys
from meetings.minutes.signers import issue_key
from tests.browser.conftest import LANDSCAPE
from tests.browser.seed import seed
from tests.minutes_support import CA_PASS, CHAIR_PASS, SECRETARY_PASS, pdftotext
from tests.socket_helpers import db_session

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(database_url, server_dir):
    """The standard browser world, plus — before the server starts — the organization CA in the
    server's instance folder and PKCS#12 signing keys for the meeting's secretary and chair."""
    data = seed(database_url, server_dir / "storage")
    config = {"INSTANCE_PATH": str(server_dir / "instance")}
    keys.init_ca(config["INSTANCE_PATH"], "UBND tỉnh Thử Nghiệm", CA_PASS)
    with db_session(database_url) as s:
        for name, secret in (("secretary", SECRETARY_PASS), ("chair", CHAIR_PASS)):
            issue_key(s, config, s.get(User, data.user_ids[name]), ca_passphrase=CA_PASS, passphrase=secret)
        s.commit()
    return data


def top_level_titles(database_url: str, meeting_id: int) -> list[str]:
    with db_session(database_url) as s:
        rows = s.execute(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id,
                                                  AgendaItem.parent_id.is_(None))
                         .order_by(AgendaItem.position)).scalars()
        return [i.title for i in rows]


def test_reorder_with_buttons_persists(tablet, seeded, database_url, screenshots):
    page = tablet("secretary", LANDSCAPE)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    rows = page.locator("#prep-items > li")
    expect(rows).to_have_count(3)
    before = top_level_titles(database_url, seeded.meeting_id)
    assert [rows.nth(i).locator(".title").inner_text().split(". ", 1)[1] for i in range(3)] == before
    # Keyboard/touch path: move the last item up twice → it becomes the first.
    a, b, c = before
    rows.nth(2).locator("[data-act=up]").click()
    expect(rows.nth(1).locator(".title")).to_have_text(f"2. {c}")
    rows.nth(1).locator("[data-act=up]").click()
    expect(rows.first.locator(".title")).to_have_text(f"1. {c}")
    expect(rows.nth(1).locator(".title")).to_have_text(f"2. {a}")
    # Stored: the API (and the database behind it) has the new order.
    r = page.request.get(f"/api/v1/meetings/{seeded.meeting_id}/items")
    assert [i["title"] for i in r.json()] == [c, a, b]
    assert top_level_titles(database_url, seeded.meeting_id) == [c, a, b]
    # Move down with the keyboard: focus the button, press Enter; a reload shows the stored order.
    rows.first.locator("[data-act=down]").focus()
    page.keyboard.press("Enter")
    expect(rows.first.locator(".title")).to_have_text(f"1. {a}")
    page.reload()
    expect(rows.first.locator(".title")).to_have_text(f"1. {a}")
    expect(rows.nth(1).locator(".title")).to_have_text(f"2. {c}")
    assert top_level_titles(database_url, seeded.meeting_id) == [a, c, b]
    # The first item's "up" and the last's "down" are disabled.
    expect(rows.first.locator("[data-act=up]")).to_be_disabled()
    expect(rows.last.locator("[data-act=down]")).to_be_disabled()
    page.screenshot(path=screenshots / "prepare-agenda.png", full_page=True)
    assert page.errors == []


def test_drag_and_drop_reorders(tablet, seeded, database_url):
    page = tablet("secretary", LANDSCAPE)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    rows = page.locator("#prep-items > li")
    expect(rows).to_have_count(3)
    before = top_level_titles(database_url, seeded.meeting_id)
    rows.nth(0).drag_to(rows.nth(2))
    expect(rows.last.locator(".title")).to_have_text(f"3. {before[0]}")
    assert top_level_titles(database_url, seeded.meeting_id) == [before[1], before[2], before[0]]
    assert page.errors == []


def test_add_edit_delete_item(tablet, seeded, database_url):
    page = tablet("secretary", LANDSCAPE)
    page.goto(f"/meetings/{seeded.meeting_id}/prepare")
    rows = page.locator("#prep-items > li")
    expect(rows).to_have_count(3)
    page.fill("#item-title", "Các vấn đề khác")
    page.click("#item-form button[type=submit]")
    expect(rows).to_have_count(4)
    expect(rows.last.locator(".title")).to_have_text("4. Các vấn đề khác")
    # Renamed in place (the ✎ button opens the title's editor; Enter saves), not in a browser prompt.
    rows.last.locator("[data-act=edit]").click()
    rows.last.locator(".inline-edit").fill("Các vấn đề phát sinh")
    rows.last.locator(".inline-edit").press("Enter")
    expect(rows.last.locator(".title")).to_have_text("4. Các vấn đề phát sinh")
    page.once("dialog", lambda d: d.accept())
    rows.last.locator("[data-act=delete]").click()
    expect(rows).to_have_count(3)
    assert "Các vấn đề phát sinh" not in top_level_titles(database_url, seeded.meeting_id)
    assert page.errors == []


SIGN_WAIT_MS = 90_000  # signing forks a child and runs RSA: a generous deadline, never a measurement


def sign(page, role: str, secret: str) -> None:
    page.click(f"#m-sign-{role}")
    expect(page.locator("#sign-secret")).to_be_focused()
    expect(page.locator("#sign-secret")).to_have_attribute("type", "password")
    page.fill("#sign-secret", secret)
    page.click("#sign-submit")


def test_minutes_draft_finalize_and_two_signatures(tablet, seeded, screenshots, tmp_path):
    secretary = tablet("secretary", LANDSCAPE)
    # Minutes are for a meeting that has been held and ended: adjourn, then close it with the status buttons.
    secretary.goto(f"/meetings/{seeded.meeting_id}/prepare")
    secretary.click("#status-actions button[data-to=adjourned]")
    expect(secretary.locator("#m-status-text")).to_have_attribute("data-status", "adjourned")
    expect(secretary.locator("#status-actions button[data-to=closed]")).to_be_visible()
    secretary.once("dialog", lambda d: d.accept())
    secretary.click("#status-actions button[data-to=closed]")
    expect(secretary.locator("#m-status-text")).to_have_attribute("data-status", "closed")

    secretary.goto(f"/meetings/{seeded.meeting_id}/console")
    expect(secretary.locator("#conn")).to_have_attribute("data-state", "online")
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "none")
    secretary.click("#m-draft")
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "draft")
    conclusion = secretary.get_by_role("textbox", name="Nội dung 1", exact=True)
    conclusion.fill("Thống nhất thông qua dự thảo nghị quyết ngân sách.")
    # A re-render while typing (as the draft's own minutes.status event causes) must not lose the typing.
    secretary.evaluate("window.consoleApp.store.changed('snapshot')")
    conclusion.press("Tab")
    expect(secretary.locator(".toast").last).to_have_text("Đã lưu")
    # The draft PDF is rendered on request, watermarked DỰ THẢO, with the conclusion in it.
    href = secretary.locator("#m-file").get_attribute("href")
    r = secretary.request.get(href)
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    # -raw keeps content-stream order: the diagonal watermark is one string there.
    raw = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=r.body(), capture_output=True,
                         check=True).stdout.decode("utf-8")
    assert "DỰTHẢO" in "".join(raw.split())
    assert "Thống nhất thông qua dự thảo nghị quyết ngân sách." in "".join(pdftotext(r.body()).split("\n"))
    secretary.screenshot(path=screenshots / "console-minutes-draft.png", full_page=True)

    secretary.once("dialog", lambda d: d.accept())
    secretary.click("#m-finalize")
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "finalized", timeout=SIGN_WAIT_MS)
    expect(secretary.locator("#conclusions textarea").first).to_be_disabled()
    expect(secretary.locator("#m-sign-chair")).to_be_hidden()

    # A wrong passphrase: a clear error, nothing signed, the field empty and ready again.
    sign(secretary, "secretary", "sai-mat-khau")
    expect(secretary.locator("#sign-error")).to_have_text(
        "Sai mật khẩu: chữ ký chưa được tạo. Hãy thử lại.", timeout=SIGN_WAIT_MS)
    expect(secretary.locator("#sign-secret")).to_have_value("")
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "finalized")
    secretary.screenshot(path=screenshots / "console-sign-wrong-passphrase.png", full_page=True)

    secretary.fill("#sign-secret", SECRETARY_PASS)
    secretary.click("#sign-submit")
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "secretary_signed",
                                                            timeout=SIGN_WAIT_MS)
    expect(secretary.locator("#m-progress")).to_have_attribute("data-stage", "done")
    expect(secretary.get_by_test_id("verify-summary")).to_have_attribute("data-valid", "1")
    expect(secretary.locator("#sign-form")).to_be_hidden()

    # The chair, on their own tablet: it is their turn.
    chair = tablet("chair", LANDSCAPE)
    chair.goto(f"/meetings/{seeded.meeting_id}/console")
    expect(chair.locator("#conn")).to_have_attribute("data-state", "online")
    expect(chair.locator("#m-status")).to_have_attribute("data-status", "secretary_signed")
    expect(chair.locator("#m-sign-chair")).to_be_enabled()
    sign(chair, "chair", CHAIR_PASS)
    expect(chair.locator("#m-status")).to_have_attribute("data-status", "signed", timeout=SIGN_WAIT_MS)
    summary = chair.get_by_test_id("verify-summary")
    expect(summary).to_have_attribute("data-valid", "2")
    expect(summary).to_have_text("Chữ ký hợp lệ: 2")
    expect(chair.locator(".verify-list li.ok")).to_have_count(2)
    expect(chair.locator("#m-publish")).to_be_hidden()  # publishing is the secretariat's
    chair.screenshot(path=screenshots / "console-minutes-signed.png", full_page=True)

    # The secretary's console followed the chair's signature (minutes.status) and publishes.
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "signed", timeout=SIGN_WAIT_MS)
    secretary.click("#m-publish")
    expect(secretary.locator("#m-status")).to_have_attribute("data-status", "published")
    # The passphrases were never kept in the page's storage.
    for page, secret in ((secretary, SECRETARY_PASS), (chair, CHAIR_PASS)):
        stored = page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
        assert secret not in stored
    assert secretary.errors == [] and chair.errors == []
