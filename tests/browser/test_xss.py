"""Stored XSS: hostile titles, names, labels and note text never run in the pages (real Chromium).

Every stored text carries an ``<img onerror>`` and a ``<script>`` that would
set ``window.__xss``. The browser contexts bypass the Content-Security-Policy
on purpose: CSP is a second wall (tests/test_security_headers.py), and this
test must fail whenever a page inserts one of these texts as HTML — so it
checks escaping alone. Each page must also show the text literally.
"""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem, Meeting
from meetings.core.db import make_engine, utcnow
from meetings.documents.models import Document
from meetings.minutes.models import Minutes, MinutesSignature
from tests.browser.conftest import LANDSCAPE, WAIT_MS
from tests.browser.seed import seed
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def hostile(label: str) -> str:
    return f'{label} <img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


MEETING = hostile("Cuộc họp")
ITEM = hostile("Nội dung")
NAME = hostile("Đại biểu")
DOCUMENT = hostile("Tài liệu")
POLL = hostile("Biểu quyết")
OPTION = hostile("Phương án")
NOTE = hostile("Ghi chú")
SIGNER = hostile("Người ký")


@pytest.fixture(scope="module")
def seeded(database_url, server_dir):
    """The browser tests' world, with hostile texts stored where the pages show them."""
    data = seed(database_url, server_dir / "storage")
    engine = make_engine(database_url)
    with Session(engine) as s:
        meeting = s.get(Meeting, data.meeting_id)
        meeting.title = MEETING
        s.get(AgendaItem, data.item_ids[0]).title = ITEM
        s.get(User, data.user_ids["delegate"]).full_name = NAME
        s.get(Document, data.doc_ids[0]).title = DOCUMENT
        # Published minutes straight into the tables: the archive lists them (signing is the minutes tests' part).
        minutes = Minutes(meeting_id=meeting.id, version=1, status="published", language="vi", recipients=[],
                          conclusions={}, boxes={}, sha256="0" * 64, final_sha256="0" * 64, size=1, page_count=1,
                          search_title=MEETING.casefold(), search_text="", full_text="",
                          finalized_at=utcnow(), published_at=utcnow())
        s.add(minutes)
        s.flush()
        s.add(MinutesSignature(minutes_id=minutes.id, role="secretary", signer_id=data.user_ids["secretary"],
                               signer_name=SIGNER, sha256="0" * 64))
        s.commit()
    engine.dispose()
    return data


def _token(server, name: str) -> dict[str, str]:
    r = requests.post(server.url + "/api/v1/auth/token", json={"username": name, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def stored(server, seeded):
    """A poll with a hostile title and option (open), and a delegate's shared note, through the REST API."""
    api = server.url + "/api/v1"
    chair = _token(server, "chair")
    r = requests.post(f"{api}/meetings/{seeded.meeting_id}/polls", headers=chair, timeout=30,
                      json={"title": POLL, "kind": "single", "options": [OPTION, "Phương án khác"]})
    assert r.status_code == 201, r.text
    assert requests.post(f"{api}/polls/{r.json()['id']}/open", headers=chair, timeout=30).status_code == 200
    r = requests.post(f"{api}/documents/{seeded.doc_ids[0]}/annotations", headers=_token(server, "delegate"),
                      timeout=30, json={"kind": "note", "page": 1, "color": "#00aa00", "visibility": "meeting",
                                        "geometry": {"point": [400, 600]}, "text": NOTE})
    assert r.status_code == 201, r.text
    return seeded


@pytest.fixture
def visit(browser, server, stored):
    """``visit(username, path)`` → a logged-in page (CSP bypassed, see the module's docstring) at ``path``."""
    contexts = []

    def make(username: str, path: str):
        ctx = browser.new_context(viewport=LANDSCAPE, locale="vi-VN", base_url=server.url, bypass_csp=True,
                                  service_workers="block")
        ctx.set_default_timeout(WAIT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        page.goto(path)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def assert_inert(page, *texts: str) -> None:
    """Each text is shown literally, nothing ran, no injected element exists."""
    for text in texts:
        expect(page.locator("body")).to_contain_text(text)
    assert page.evaluate("typeof window.__xss") == "undefined", f"a stored script ran on {page.url}"
    assert page.locator('img[src="x"]').count() == 0, f"stored HTML became an element on {page.url}"
    # The pages' JSON boot blocks hold the texts as data; "<" stays escaped there, so no tag can close them.
    scripts = page.evaluate("[...document.scripts].map(s => [s.type, s.text])")
    assert not [t for kind, t in scripts if kind != "application/json" and "__xss" in t]
    assert not [t for kind, t in scripts if kind == "application/json" and "<" in t]


def test_my_meetings(visit):
    assert_inert(visit("delegate", "/"), MEETING)


def test_meeting_page(visit, stored):
    assert_inert(visit("delegate", f"/meetings/{stored.meeting_id}"), MEETING, ITEM, NAME, DOCUMENT)


def test_room_with_poll_and_document(visit, stored):
    page = visit("delegate2", f"/meetings/{stored.meeting_id}/room")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    assert_inert(page, MEETING, ITEM, DOCUMENT, POLL, OPTION)
    # Open the document that carries the shared note (the annotation layer shows notes when it lands).
    # (dispatched: the open poll's vote dialog covers the agenda)
    page.locator(f".doc-link[data-doc-id='{stored.doc_ids[0]}']").dispatch_event("click")
    expect(page.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    assert_inert(page)


def test_console(visit, stored):
    page = visit("secretary", f"/meetings/{stored.meeting_id}/console")
    assert_inert(page, MEETING, ITEM, NAME, POLL)


def test_projector_screen(visit, stored):
    assert_inert(visit("secretary", f"/meetings/{stored.meeting_id}/screen"), MEETING)


def test_archive(visit):
    page = visit("archivist", "/archive")
    page.click("#search button[type=submit]")
    assert_inert(page, MEETING, SIGNER)


def test_the_payloads_would_run_if_a_page_inserted_them_as_html(browser):
    """The control: inserted as HTML, each payload does set window.__xss, so the checks above can fail."""
    ctx = browser.new_context(bypass_csp=True)
    try:
        page = ctx.new_page()
        page.set_content(f"<p>{hostile('x').split('<script>')[0]}</p>")
        page.wait_for_function("window.__xss === 1", timeout=WAIT_MS)
        page.set_content("<p>x</p>")
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.__xss=2\">')")
        page.wait_for_function("window.__xss === 2", timeout=WAIT_MS)
        page.set_content(f"<p>{hostile('x').split('>', 1)[1]}</p>")
        assert page.evaluate("window.__xss") == 1  # the <script> form runs when parsed
    finally:
        ctx.close()
