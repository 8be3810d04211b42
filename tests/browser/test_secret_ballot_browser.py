"""A secret ballot from end to end in real browsers (docs/secret-ballot.md).

The chair's and the secretary's tablets run the key ceremony of the default
committee (chair + secretary, 2 of 2) with passphrases of their own; a delegate
votes, encrypted on their tablet, and gets a tracking code; a second delegate
votes while offline and their tablet sends the same encrypted ballot on
reconnect; the chair closes; a wrong passphrase posts nothing, a tablet with no
share says so; both members decrypt their part and the result appears on the
hall screen and in the console; every tracking code is on the board page.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.browser

CODE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}")
CHAIR_PASS = "chu-toa-2026"
SECRETARY_PASS = "thu-ky-2026"


def online(page, path: str) -> None:
    page.goto(path)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def second_page(page):
    """Another tab of the same tablet (same login, same localStorage), collecting its script errors."""
    other = page.context.new_page()
    other.errors = []
    other.on("pageerror", lambda err: other.errors.append(str(err)))
    return other


def get_json(page, path: str):
    resp = page.request.get(path)
    assert resp.ok, (path, resp.status, resp.text())
    return resp.json()


def choose_passphrase(page, passphrase: str) -> None:
    panel = page.get_by_test_id("committee")
    expect(panel.locator("#committee-form")).to_have_attribute("data-mode", "choose")
    page.fill("#committee-pass", passphrase)
    page.fill("#committee-again", passphrase)
    page.click("#committee-submit")


def decrypt(page, passphrase: str) -> None:
    expect(page.locator("#committee-form")).to_have_attribute("data-mode", "count")
    expect(page.locator("#committee-prompt")).to_have_text("Nhập mật khẩu để giải mã phần của bạn")
    page.fill("#committee-pass", passphrase)
    page.click("#committee-submit")


def vote(page, role: str) -> None:
    expect(page.locator("#vote-panel")).to_be_visible()
    expect(page.locator("#vote-note")).to_contain_text("mã hoá")
    page.locator(f".vote-option.{role}").click()
    page.click("#vote-yes")


def test_secret_ballot_from_ceremony_to_result(tablet, seeded, screenshots):
    meeting = seeded.meeting_id
    room, console_url = f"/meetings/{meeting}/room", f"/meetings/{meeting}/console"
    chair = tablet("chair", LANDSCAPE)
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate", PORTRAIT)
    offline_delegate = tablet("delegate2", LANDSCAPE)
    for page in (chair, secretary, delegate, offline_delegate):
        online(page, room)
    console = second_page(secretary)
    online(console, console_url)
    screen = second_page(secretary)
    online(screen, f"/meetings/{meeting}/screen")
    expect(console.locator("#cc-status")).to_have_attribute("data-status", "none")

    # A secret poll in a meeting without a committee: the default one (chair + secretary, 2 of 2) is elected.
    console.fill("#poll-title", "Bầu Trưởng ban kinh tế – ngân sách")
    console.check("#poll-secret")
    console.click("#poll-form button[type=submit]")
    poll_item = console.locator(".polls .poll").first
    expect(poll_item).to_contain_text("Bầu Trưởng ban kinh tế – ngân sách")
    expect(console.locator("#cc-status")).to_have_attribute("data-status", "ceremony")
    expect(console.locator("#cc-members li")).to_have_count(2)
    poll_id = int(poll_item.get_attribute("data-poll-id"))

    # The key ceremony, from the members' tablets; the delegates are no members and see nothing of it.
    expect(chair.get_by_test_id("committee")).to_be_visible()
    expect(delegate.get_by_test_id("committee")).to_be_hidden()
    chair.fill("#committee-pass", "ngan")
    chair.fill("#committee-again", "ngan")
    chair.click("#committee-submit")
    expect(chair.locator("#committee-error")).to_have_text("Mật khẩu cần ít nhất 8 ký tự.")
    choose_passphrase(chair, CHAIR_PASS)
    expect(chair.locator("#committee-status")).to_contain_text("Đang chờ các thành viên khác (1/2)")
    chair.screenshot(path=screenshots / "committee-waiting.png")
    # The chair's tablet reloads mid-ceremony: its round-1 secrets are on the tablet, sealed under the
    # passphrase, which the page no longer holds: it asks for it when round 2 is due.
    chair.reload()
    expect(chair.locator("#committee-status")).to_contain_text("Đang chờ các thành viên khác (1/2)")
    choose_passphrase(secretary, SECRETARY_PASS)
    expect(chair.locator("#committee-form")).to_have_attribute("data-mode", "resume")
    expect(chair.locator("#committee-prompt")).to_have_text("Nhập mật khẩu để tiếp tục tạo khoá.")
    chair.fill("#committee-pass", SECRETARY_PASS)
    chair.click("#committee-submit")
    expect(chair.locator("#committee-error")).to_have_text("Sai mật khẩu: chưa gửi gì. Hãy thử lại.")
    chair.fill("#committee-pass", CHAIR_PASS)
    chair.click("#committee-submit")
    for page in (chair, secretary):
        expect(page.locator("#committee-status")).to_have_text(
            "Khoá bỏ phiếu đã sẵn sàng. Phần khoá của bạn được giữ trên máy này, khoá bằng mật khẩu của bạn.")
    expect(console.locator("#cc-status")).to_have_attribute("data-status", "ready")
    expect(console.locator("#cc-members li[data-round=confirmed]")).to_have_count(2)
    committee = get_json(console, f"/api/v1/meetings/{meeting}/counting-committee")
    # Each tablet keeps its share sealed under the passphrase, never in clear, and never sent.
    for page, name in ((chair, "chair"), (secretary, "secretary")):
        key = f"committee-share:{committee['uid']}:{seeded.user_ids[name]}"
        kept = page.evaluate(f"localStorage.getItem({key!r})")
        assert kept, f"no sealed share on the {name}'s tablet"
        assert (CHAIR_PASS if name == "chair" else SECRETARY_PASS) not in kept

    # The delegate votes: encrypted on the tablet, then the tracking code the server acknowledged.
    poll_item.locator("button[data-act=open]").click()
    vote(delegate, "for")
    done = delegate.locator("#vote-done")
    expect(done).to_have_attribute("data-state", "recorded")
    expect(done).to_contain_text("Đã ghi nhận — mã theo dõi ")
    code = CODE.search(done.inner_text()).group(0)
    expect(delegate.locator("#vote-board")).to_be_visible()
    expect(delegate.locator("#vote-board")).to_have_attribute("href", f"/polls/{poll_id}/board?code={code}#code-{code}")
    delegate.screenshot(path=screenshots / "room-secret-vote-recorded.png")

    # The second delegate's network drops after the page has the poll: the ballot is encrypted once,
    # kept on the tablet, and the same ballot goes out when the connection is back.
    vote_panel = offline_delegate.locator("#vote-panel")
    expect(vote_panel).to_be_visible()
    offline_delegate.context.set_offline(True)
    expect(offline_delegate.locator("#conn")).to_have_attribute("data-state", "offline")
    vote(offline_delegate, "against")
    queued = offline_delegate.locator("#vote-done")
    expect(queued).to_have_attribute("data-state", "queued")
    offline_code = CODE.search(queued.inner_text()).group(0)
    kept = offline_delegate.evaluate(
        f"localStorage.getItem('meetings.ballot.{poll_id}.{seeded.user_ids['delegate2']}')")
    offline_delegate.context.set_offline(False)
    expect(queued).to_have_attribute("data-state", "recorded")
    expect(queued).to_contain_text(f"Đã ghi nhận — mã theo dõi {offline_code}")
    board = get_json(console, f"/api/v1/polls/{poll_id}/board")
    assert sorted(b["tracking_code"] for b in board["ballots"]) == sorted([code, offline_code])
    stored = next(b["ballot"] for b in board["ballots"] if b["tracking_code"] == offline_code)
    assert stored == json.loads(kept)["ballot"]  # the very ballot the tablet kept, not a new encryption
    expect(poll_item.get_by_test_id("poll-progress")).to_contain_text("2/4")

    # Closing: the hall screen says "counting", each member's tablet asks for the passphrase.
    poll_item.locator("button[data-act=close]").click()
    expect(screen.get_by_test_id("poll-counting")).to_have_text("Đang kiểm phiếu…")
    expect(poll_item.get_by_test_id("count-progress")).to_contain_text("0/2")
    screen.screenshot(path=screenshots / "screen-counting.png")

    # A wrong passphrase: a clear message, and nothing posted.
    decrypt(chair, "khong-dung-mat-khau")
    expect(chair.locator("#committee-error")).to_have_text("Sai mật khẩu: chưa gửi gì. Hãy thử lại.")
    chair.screenshot(path=screenshots / "committee-wrong-passphrase.png")
    assert get_json(console, f"/api/v1/polls/{poll_id}/board")["partial_decryptions"] == []

    # The chair on a tablet that holds no share (another device): it says so, and cannot post.
    other = tablet("chair", PORTRAIT)
    online(other, room)
    expect(other.locator("#committee-status")).to_have_text(
        "Máy tính bảng này không giữ phần khoá của bạn: cần 2 thành viên khác để kiểm phiếu.")
    expect(other.locator("#committee-form")).to_be_hidden()

    decrypt(chair, CHAIR_PASS)
    expect(chair.locator("#committee-status")).to_have_text("Đã gửi phần của bạn: đã nhận 1/2 phần.")
    expect(poll_item.get_by_test_id("count-progress")).to_contain_text("1/2")
    expect(screen.get_by_test_id("count-progress")).to_contain_text("1/2")
    decrypt(secretary, SECRETARY_PASS)

    # The k-th part gives the result: on the hall screen and in the console.
    chart = screen.get_by_test_id("result-chart")
    expect(chart).to_be_visible()
    expect(chart.locator(".bar-row.for .bar-count")).to_have_text("1")
    expect(chart.locator(".bar-row.against .bar-count")).to_have_text("1")
    expect(chart.locator(".bar-row.abstain .bar-count")).to_have_text("0")
    console_chart = poll_item.get_by_test_id("result-chart")
    expect(console_chart.locator(".bar-row.for .bar-count")).to_have_text("1")
    screen.screenshot(path=screenshots / "screen-secret-result.png")
    console.screenshot(path=screenshots / "console-secret-result.png", full_page=True)

    # Published, the board page shows everyone both tracking codes (the delegate's own marked), the
    # counts and how to check it all.
    poll_item.locator("button[data-act=publish]").click()
    expect(delegate.locator("#poll-results")).to_contain_text("Tán thành: 1")
    board_page = second_page(delegate)
    board_page.goto(f"/polls/{poll_id}/board?code={code}")
    expect(board_page.get_by_test_id("board")).to_be_visible()
    expect(board_page.locator("#board-list tbody tr")).to_have_count(2)
    expect(board_page.locator(f"#code-{code}")).to_have_class("mine")
    expect(board_page.locator(f"#code-{offline_code}")).to_be_visible()
    expect(board_page.locator("#board-found")).to_contain_text(code)
    expect(board_page.locator("#board-result tr[data-role=for] td")).to_have_text("1")
    expect(board_page.locator("#board-result tr[data-role=against] td")).to_have_text("1")
    expect(board_page.locator("#board-json")).to_have_attribute("href", f"/api/v1/polls/{poll_id}/board")
    board_page.screenshot(path=screenshots / "board-page.png", full_page=True)
    for page in (chair, secretary, delegate, offline_delegate, console, screen, other, board_page):
        assert page.errors == [], page.errors
