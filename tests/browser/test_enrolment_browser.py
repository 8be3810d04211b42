"""Tablet enrolment in a real Chromium against the real server: the secretary prints the QR sheet from the
"provision tablets" panel (static/js/console/enrol.js), a hall tablet that nobody logged in opens a delegate's
link, taps once and is in the room with its socket online, no password typed; the link cannot be used twice;
the delegate signs the tablet out from their device list and the tablet is disconnected and refused."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, WAIT_MS

pytestmark = pytest.mark.browser


def _hall_tablet(browser, server):
    """A tablet in the hall: a fresh browser, nobody logged in."""
    ctx = browser.new_context(viewport=LANDSCAPE, has_touch=True, locale="vi-VN", base_url=server.url)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    return ctx, page


def test_a_hall_tablet_is_enrolled_by_qr_link_and_signed_out_from_the_device_list(browser, server, tablet,
                                                                                  seeded, screenshots):
    meeting_id, delegate_id = seeded.meeting_id, seeded.user_ids["delegate"]
    secretary = tablet("secretary")
    secretary.goto(f"/meetings/{meeting_id}/tablets")
    panel = secretary.locator("#enrol")
    expect(panel.locator("h2")).to_have_text("Cấp máy tính bảng")
    expect(panel.locator(f'tr[data-user-id="{delegate_id}"]')).to_have_attribute("data-state", "none")
    with secretary.context.expect_page() as opened:
        panel.locator("#enrol-print").click()
    sheet = opened.value
    sheet.wait_for_load_state()
    card = sheet.locator(f'.enrol-card[data-user-id="{delegate_id}"]')
    expect(card.locator(".name")).to_have_text("Người dùng delegate")
    expect(card.locator("svg")).to_be_visible()
    url = card.locator(".url").inner_text()
    sheet.screenshot(path=screenshots / "enrolment-sheet.png", full_page=True)

    ctx, hall = _hall_tablet(browser, server)
    other_ctx, other = _hall_tablet(browser, server)
    try:
        hall.goto(url)
        button = hall.locator("#enrol-confirm")
        expect(button).to_have_text("Dùng máy tính bảng này cho Người dùng delegate")
        hall.reload()  # opening it again consumes nothing
        hall.screenshot(path=screenshots / "enrolment-confirm.png")
        hall.locator("#enrol-confirm").click()
        hall.wait_for_url(f"**/meetings/{meeting_id}/room")
        expect(hall.locator("#conn")).to_have_attribute("data-state", "online")
        expect(hall.locator("form.logout .who")).to_have_text("Người dùng delegate")

        other.goto(url)  # the same code on a second tablet
        expect(other.locator("#enrol-refused")).to_have_attribute("data-reason", "used")
        expect(other.locator("#enrol-confirm")).to_have_count(0)

        secretary.reload()
        expect(secretary.locator(f'#enrol tr[data-user-id="{delegate_id}"]')).to_have_attribute("data-state", "used")

        # The delegate, on their own phone, signs the hall tablet out from the device list.
        phone = tablet("delegate")
        csrf = phone.locator('meta[name="csrf-token"]').get_attribute("content")
        devices = phone.request.get("/api/v1/users/me/devices").json()
        label = "Cấp qua liên kết (người cấp: Người dùng secretary)"
        enrolled = [d for d in devices if d["label"] == label]
        assert len(enrolled) == 1, devices
        r = phone.request.delete(f"/api/v1/users/me/devices/{enrolled[0]['id']}", headers={"X-CSRFToken": csrf})
        assert r.status == 204, r.text()
        # Its socket is told session.revoked and disconnected: the room wipes its data and goes to /login.
        hall.wait_for_url("**/login*")
        assert hall.request.get("/api/v1/users/me").status == 401
        hall.goto(f"/meetings/{meeting_id}/room")
        expect(hall).to_have_url(re.compile(r"/login\?next=/meetings/\d+/room"))
        expect(hall.locator("#password")).to_be_visible()
        assert hall.errors == [] and secretary.errors == []
    finally:
        ctx.close()
        other_ctx.close()
