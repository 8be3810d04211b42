"""The notification bell (static/js/core/notifications.js) in Chromium: a document the secretary
publishes lights the delegate's bell in the room, live; the list opens; all read clears it."""
from __future__ import annotations

from playwright.sync_api import expect

from tests import pdfs


def test_bell_counts_live_lists_and_marks_read(tablet, seeded, screenshots):
    meeting_id = seeded.meeting_id
    delegate = tablet("delegate")
    delegate.goto(f"/meetings/{meeting_id}/room")
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "online")
    expect(delegate.get_by_test_id("bell")).to_be_visible()
    expect(delegate.get_by_test_id("bell-count")).to_be_hidden()
    secretary = tablet("secretary")
    secretary.goto(f"/meetings/{meeting_id}/console")
    expect(secretary.get_by_test_id("bell")).to_be_visible()  # the console's header has it too
    token = secretary.locator('meta[name="csrf-token"]').get_attribute("content")
    r = secretary.request.post(f"/api/v1/meetings/{meeting_id}/documents", headers={"X-CSRFToken": token},
                               multipart={"file": {"name": "bao-cao.pdf", "mimeType": "application/pdf",
                                                   "buffer": pdfs.simple_pdf(1)},
                                          "title": "Báo cáo bổ sung", "published": "true"})
    assert r.status == 201, r.text()
    expect(delegate.get_by_test_id("bell-count")).to_have_text("1")  # over the room's socket, no reload
    delegate.get_by_test_id("bell").click()
    line = delegate.get_by_test_id("bell-list").locator("li.unread")
    expect(line).to_contain_text("Tài liệu mới: Báo cáo bổ sung")
    delegate.locator(".bell-more-settings summary").click()
    expect(delegate.get_by_test_id("bell-settings").locator("#bell-email")).to_be_checked()
    delegate.screenshot(path=str(screenshots / "notification-bell.png"))
    delegate.get_by_test_id("bell-read-all").click()
    expect(delegate.get_by_test_id("bell-count")).to_be_hidden()
    expect(delegate.get_by_test_id("bell-list").locator("li.unread")).to_have_count(0)
    assert delegate.errors == [] and secretary.errors == []
