"""The tablet web app in a real browser against a real server (see conftest.py)."""
from __future__ import annotations

import warnings

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.browser


def room_url(seeded) -> str:
    return f"/meetings/{seeded.meeting_id}/room"


def test_room_connects_and_shows_agenda(tablet, seeded, screenshots):
    page = tablet("delegate", LANDSCAPE)
    page.goto(room_url(seeded))
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    expect(page.locator(".agenda-item")).to_have_count(3)
    expect(page.locator(".agenda-item").first).to_contain_text("Nội dung 1")
    expect(page.locator(".doc-link")).to_have_count(2)
    page.screenshot(path=screenshots / "room-landscape-empty.png")
    assert page.errors == []


def open_room(page, seeded):
    page.goto(room_url(seeded))
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def test_secretary_turns_page_and_delegate_follows(tablet, seeded, screenshots):
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate", PORTRAIT)
    open_room(secretary, seeded)
    open_room(delegate, seeded)
    first_doc = seeded.doc_ids[0]
    secretary.click(f".doc-link[data-doc-id='{first_doc}']")
    expect(secretary.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    secretary.click("#next-page")
    secretary.click("#next-page")
    expect(secretary.locator("body")).to_have_attribute("data-page", "3")
    # The delegate did nothing: their viewer opened the document and went to page 3.
    expect(delegate.locator("body")).to_have_attribute("data-doc", str(first_doc))
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "3")
    expect(delegate.locator("#page-input")).to_have_value("3")
    expect(delegate.locator(".textLayer")).to_contain_text("Dự thảo nghị quyết ngân sách")
    secretary.screenshot(path=screenshots / "room-secretary-landscape.png")
    delegate.screenshot(path=screenshots / "room-delegate-portrait.png")
    # The delegate leaves the presenter's page: following stops, and the presenter no longer moves them.
    delegate.click("#prev-page")
    expect(delegate.locator("#follow")).to_have_attribute("aria-pressed", "false")
    secretary.click("#next-page")
    expect(secretary.locator("body")).to_have_attribute("data-page", "4")
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "2")
    delegate.click("#follow")
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "4")
    assert secretary.errors == [] and delegate.errors == []


def test_poll_vote_and_projector_result(tablet, seeded, screenshots):
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate", LANDSCAPE)
    projector = tablet("chair", LANDSCAPE)
    secretary.goto(f"/meetings/{seeded.meeting_id}/console")
    expect(secretary.locator("#conn")).to_have_attribute("data-state", "online")
    open_room(delegate, seeded)
    projector.goto(f"/meetings/{seeded.meeting_id}/screen")
    expect(projector.locator("#conn")).to_have_attribute("data-state", "online")

    secretary.fill("#poll-title", "Thông qua dự thảo nghị quyết ngân sách")
    secretary.click("#poll-form button[type=submit]")
    poll = secretary.locator(".polls .poll").first
    expect(poll).to_contain_text("Thông qua dự thảo nghị quyết ngân sách")
    poll.locator("button[data-act=open]").click()
    expect(poll.get_by_test_id("poll-progress")).to_have_text("Đã biểu quyết: 0/4")

    # The panel opens by itself on the delegate's tablet: choose, confirm, recorded.
    expect(delegate.locator("#vote-panel")).to_be_visible()
    delegate.screenshot(path=screenshots / "room-vote-panel.png")
    delegate.locator(".vote-option.for").click()
    expect(delegate.locator("#vote-confirm-text")).to_contain_text("Tán thành")
    delegate.click("#vote-yes")
    expect(delegate.locator("#vote-done")).to_have_text("Phiếu của bạn đã được ghi nhận.")
    expect(poll.get_by_test_id("poll-progress")).to_have_text("Đã biểu quyết: 1/4")
    expect(projector.get_by_test_id("poll-progress")).to_have_text("Đã biểu quyết: 1/4")

    poll.locator("button[data-act=close]").click()
    poll.locator("button[data-act=publish]").click()
    chart = projector.get_by_test_id("result-chart")
    expect(chart).to_be_visible()
    expect(chart.locator(".bar-row.for .bar-count")).to_have_text("1")
    expect(chart.locator(".bar-row.against .bar-count")).to_have_text("0")
    expect(delegate.locator("#vote-panel")).to_be_hidden()
    expect(delegate.locator("#poll-results")).to_contain_text("Tán thành: 1")
    projector.screenshot(path=screenshots / "screen-result.png")
    secretary.screenshot(path=screenshots / "console-live.png", full_page=True)
    assert secretary.errors == [] and delegate.errors == [] and projector.errors == []


def test_speak_request_and_queue(tablet, seeded, screenshots):
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate2", PORTRAIT)
    secretary.goto(f"/meetings/{seeded.meeting_id}/console")
    expect(secretary.locator("#conn")).to_have_attribute("data-state", "online")
    open_room(delegate, seeded)
    delegate.click("#speak")
    expect(delegate.locator("#speak-status")).to_have_text("Bạn đang ở vị trí thứ 1 trong danh sách")
    queued = secretary.locator("#c-queue li").filter(has_text="Người dùng delegate2")
    expect(queued).to_be_visible()
    queued.get_by_role("button", name="Mời phát biểu").click()
    expect(delegate.locator("#speak-status")).to_have_text("Mời bạn phát biểu")
    expect(secretary.locator("#c-speaker")).to_have_text("Đang phát biểu: Người dùng delegate2")
    delegate.screenshot(path=screenshots / "room-speaking-portrait.png")
    secretary.click("#c-end")
    expect(delegate.locator("#current-speaker")).to_have_text("Chưa có ai phát biểu")


def test_bad_upload_shows_a_clear_message(tablet, seeded, screenshots, tmp_path):
    secretary = tablet("secretary", LANDSCAPE)
    secretary.goto(f"/meetings/{seeded.meeting_id}/prepare")
    fake = tmp_path / "bao-cao.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    text = tmp_path / "ghi-chu.txt"
    text.write_text("ghi chú", "utf-8")
    secretary.set_input_files("#doc-file", [str(fake), str(text)])
    bad = secretary.locator(".upload.failed").filter(has_text="bao-cao.pdf")
    expect(bad.locator(".msg")).to_contain_text("Không tải lên được bao-cao.pdf")
    expect(secretary.locator(".upload.failed").filter(has_text="ghi-chu.txt")).to_contain_text(
        "ghi-chu.txt không phải là tệp PDF.")
    secretary.screenshot(path=screenshots / "prepare-bad-upload.png", full_page=True)
    # Nothing was added to the documents list.
    expect(secretary.locator("#doc-rows tr")).to_have_count(2)


def test_a_failed_document_load_is_tried_again(tablet, seeded):
    """The presenter's document fails to load (Wi-Fi, a server still starting): the tablet tries
    again by itself instead of staying on "choose a document" until the presenter moves."""
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate", PORTRAIT)
    doc = seeded.doc_ids[1]
    to_fail = [10**6]  # every request fails (the offline precache too), then the next two after the click
    failed = []

    def flaky(route):
        if to_fail[0] > 0:
            to_fail[0] -= 1
            failed.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    # On the context: the room's requests pass through its service worker, which page.route misses.
    delegate.context.route(f"**/api/v1/documents/{doc}/file*", flaky)
    open_room(secretary, seeded)
    open_room(delegate, seeded)
    before = len(failed)
    to_fail[0] = 2
    secretary.click(f".doc-link[data-doc-id='{doc}']")
    expect(secretary.locator(".pdf-page")).to_have_attribute("data-doc", str(doc))
    expect(delegate.locator("body")).to_have_attribute("data-doc", str(doc))
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(doc), timeout=15_000)
    expect(delegate.locator(".textLayer")).to_contain_text("Báo cáo kinh tế – xã hội")
    assert len(failed) - before == 2, "the loads after the click did not fail: the test proves nothing"
    # Each failed load's PDF.js worker is gone: only the shown document's is left.
    for _ in range(50):
        if len(delegate.workers) == 1:
            break
        delegate.wait_for_timeout(100)
    assert len(delegate.workers) == 1, [w.url for w in delegate.workers]


def test_a_document_tapped_offline_says_it_cannot_open(tablet, seeded):
    """A document tapped without a network and not kept on the tablet: an error on the screen, no
    uncaught rejection (the page's error handler is how a broken room shows in the field)."""
    delegate = tablet("delegate", LANDSCAPE)
    doc = seeded.doc_ids[1]
    delegate.context.route(f"**/api/v1/documents/{doc}/file*", lambda route: route.abort("internetdisconnected"))
    open_room(delegate, seeded)
    delegate.click(f".doc-link[data-doc-id='{doc}']")
    expect(delegate.locator(".toast.error").first).to_contain_text("Không mở được tài liệu")
    delegate.wait_for_timeout(300)  # an unhandled rejection is reported after the toast's task
    assert delegate.errors == []


def test_server_restart_reconnects_and_catches_up(tablet, seeded, server, server_dir, database_url, request,
                                                  screenshots):
    from meetings import create_app
    from meetings.accounts.models import User
    from meetings.bodies.models import Meeting
    from meetings.core.extensions import db
    from meetings.live import presenter
    from tests.live_server import start_server

    delegate = tablet("delegate", LANDSCAPE)
    open_room(delegate, seeded)
    server.stop()
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "offline")
    delegate.screenshot(path=screenshots / "room-offline.png")
    # While the server is down, the presenter state moves (written straight to the database):
    # the delegate must catch up on it after reconnecting.
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(server_dir / "writer"), "SECRET_KEY": "x"})
    with app.app_context():
        meeting = db.session.get(Meeting, seeded.meeting_id)
        secretary = db.session.get(User, seeded.user_ids["secretary"])
        presenter.set_presenter(db.session, meeting, secretary, {"document_id": seeded.doc_ids[1], "page": 2})
        db.session.commit()
        db.session.remove()
    db.engine.dispose()
    port = int(server.url.rsplit(":", 1)[1])
    again = start_server(server_dir, env=server.env, port=port, migrate=False)
    request.addfinalizer(again.stop)
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "online")
    expect(delegate.locator("body")).to_have_attribute("data-doc", str(seeded.doc_ids[1]))
    # What is drawn is the new document, not the old one the viewer had open before the restart.
    # The restarted server is cold (its first file request, its job consumer starting): seen in CI
    # taking more than expect()'s 5 s default on a loaded machine, so these wait up to 20 s.
    cold = 20_000
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(seeded.doc_ids[1]), timeout=cold)
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "2", timeout=cold)
    expect(delegate.locator(".textLayer")).to_contain_text("Báo cáo kinh tế – xã hội", timeout=cold)
    # A request the tablet had in flight when the server died fails as the browser's network error
    # ("Failed to fetch"; CI saw one once, its origin not reproduced in a dozen runs here): that is the
    # outage itself, and what this test proves is the recovery above. Any other error fails it, and
    # each tolerated one is reported with its stack so its origin can be found.
    network = {"Failed to fetch", "network error"}  # Chromium's words for a request the network lost
    others = [stack for msg, stack in zip(delegate.errors, delegate.error_stacks, strict=True) if msg not in network]
    for msg, stack in zip(delegate.errors, delegate.error_stacks, strict=True):
        if msg in network:
            warnings.warn(f"network error during the server restart, tolerated: {stack}", stacklevel=1)
    assert others == [], "\n\n".join(others)
