"""The console's expected-attendance card (static/js/console/invitations.js) in Chromium: answers
given by delegates show up, and the roll call starts from them."""
from __future__ import annotations

from playwright.sync_api import expect


def _put_answer(page, meeting_id: int, body: dict) -> None:
    """Answer from a logged-in tablet, as the app does (cookie session + CSRF header)."""
    page.goto(f"/meetings/{meeting_id}/room")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    r = page.request.put(f"/api/v1/meetings/{meeting_id}/my-invitation", data=body,
                         headers={"X-CSRFToken": token})
    assert r.status == 200, r.text()


def test_expected_attendance_card_and_roll_call_from_answers(tablet, seeded):
    meeting_id = seeded.meeting_id
    _put_answer(tablet("delegate"), meeting_id, {"reply": "attend"})
    _put_answer(tablet("delegate2"), meeting_id, {"reply": "decline", "reason": "Đi công tác"})
    secretary = tablet("secretary")
    secretary.goto(f"/meetings/{meeting_id}/prepare")
    card = secretary.locator("#invitations")
    expect(card.locator("h2")).to_have_text("Dự kiến tham dự")
    expect(card.locator('[data-reply="attend"]').first).to_have_text("Tham dự: 1")
    expect(card.locator('[data-reply="decline"]').first).to_have_text("Không tham dự: 1")
    expect(card.locator(f'tr[data-user-id="{seeded.user_ids["delegate2"]}"] td').nth(3)).to_have_text("Đi công tác")
    secretary.goto(f"/meetings/{meeting_id}/console")
    secretary.locator("#inv-from-replies").click()
    expect(secretary.locator(".toast").last).to_contain_text("Đã điểm danh 1 người")
    r = secretary.request.get(f"/api/v1/meetings/{meeting_id}/attendance")
    rows = {a["user_id"]: (a["status"], a["reason"]) for a in r.json()["attendance"]}
    assert rows[seeded.user_ids["delegate2"]] == ("excused", "Đi công tác")
    assert rows[seeded.user_ids["delegate"]][0] == "unknown"
    assert secretary.errors == []
