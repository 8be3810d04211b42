"""The archive page and the links from "my meetings" into the app, in a real browser."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.pdfs import simple_pdf

pytestmark = pytest.mark.browser


def test_meeting_page_links_by_role(tablet, seeded, screenshots):
    mid = seeded.meeting_id
    secretary = tablet("secretary", LANDSCAPE)
    secretary.goto(f"/meetings/{mid}")
    actions = secretary.locator(".meeting-actions")
    for href in (f"/meetings/{mid}/room", f"/meetings/{mid}/console", f"/meetings/{mid}/prepare",
                 f"/meetings/{mid}/screen"):
        expect(actions.locator(f"a[href='{href}']")).to_have_count(1)
    expect(actions.locator("a[href='/archive']")).to_have_count(0)
    secretary.screenshot(path=screenshots / "meeting-secretary.png", full_page=True)

    delegate = tablet("delegate", PORTRAIT)
    delegate.goto("/")
    room = delegate.locator(f".card-action[href='/meetings/{mid}/room']")
    expect(room).to_have_count(1)
    delegate.screenshot(path=screenshots / "my-meetings-portrait.png", full_page=True)
    delegate.goto(f"/meetings/{mid}")
    actions = delegate.locator(".meeting-actions")
    expect(actions.locator(f"a[href='/meetings/{mid}/room']")).to_have_count(1)
    expect(actions.locator(f"a[href='/meetings/{mid}/screen']")).to_have_count(1)
    expect(actions.locator(f"a[href='/meetings/{mid}/console']")).to_have_count(0)
    expect(actions.locator(f"a[href='/meetings/{mid}/prepare']")).to_have_count(0)
    actions.get_by_role("link", name="Phòng họp").click()
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "online")


def test_archive_search_and_verify(tablet, seeded, screenshots, tmp_path):
    archivist = tablet("archivist", LANDSCAPE)
    archivist.goto("/")
    archivist.locator("a[href='/archive']").first.click()
    expect(archivist.locator("h1")).to_have_text("Lưu trữ")
    expect(archivist.locator("#body option")).not_to_have_count(1)  # the bodies arrived
    archivist.fill("#title", "thường kỳ")
    archivist.fill("#from", "2020-01-01")
    with archivist.expect_request(lambda r: "/api/v1/archive?" in r.url) as req:
        archivist.click("#search button[type=submit]")
    url = req.value.url
    assert "title=th%C6%B0%E1%BB%9Dng+k%E1%BB%B3" in url and "date_from=2020-01-01" in url
    # Nothing is published in this world yet: a clear "nothing found", not an empty table.
    expect(archivist.locator("#result-summary")).to_have_text("Không tìm thấy cuộc họp nào.")
    # A wrong date range is refused with the server's message.
    archivist.fill("#to", "2019-01-01")
    archivist.click("#search button[type=submit]")
    expect(archivist.locator("#results .error-box")).to_be_visible()

    unsigned = tmp_path / "khong-ky.pdf"
    unsigned.write_bytes(simple_pdf(1))
    archivist.set_input_files("#vfile", str(unsigned))
    archivist.click("#verify button[type=submit]")
    expect(archivist.get_by_test_id("verify-verdict")).to_have_text("Tệp PDF này không có chữ ký.")
    archivist.screenshot(path=screenshots / "archive.png", full_page=True)
    assert archivist.errors == []
