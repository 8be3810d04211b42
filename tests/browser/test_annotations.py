"""Pen, highlighter, eraser, undo and offline annotating in the room, in a real browser.

The delegate writes on the open document; the secretary's viewer (another browser context)
shows what is shared, and the REST API holds it with its page and PDF-space geometry.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.browser

A4 = (595.28, 841.89)


def open_room(page, seeded):
    page.goto(f"/meetings/{seeded.meeting_id}/room")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def open_doc(page, doc_id: int, rendered: str = "1"):
    page.click(f".doc-link[data-doc-id='{doc_id}']")
    expect(page.locator(".pdf-page")).to_have_attribute("data-doc", str(doc_id))
    expect(page.locator(".pdf-page")).to_have_attribute("data-rendered", rendered)


def draw(page, fx0: float, fy0: float, fx1: float, fy1: float, steps: int = 12):
    """A mouse stroke across the page from (fx0, fy0) to (fx1, fy1), as fractions of the page box."""
    box = page.locator(".pdf-page").bounding_box()
    page.mouse.move(box["x"] + fx0 * box["width"], box["y"] + fy0 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + fx1 * box["width"], box["y"] + fy1 * box["height"], steps=steps)
    page.mouse.up()


def click_at(page, fx: float, fy: float):
    box = page.locator(".pdf-page").bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def annotations(page, doc_id: int) -> list[dict]:
    resp = page.request.get(f"/api/v1/documents/{doc_id}/annotations")
    assert resp.ok, resp.text()
    return resp.json()["annotations"]


def test_shared_stroke_reaches_the_secretary(tablet, seeded, screenshots):
    doc = seeded.doc_ids[0]
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate", PORTRAIT)
    open_room(secretary, seeded)
    open_room(delegate, seeded)
    open_doc(secretary, doc)  # the secretary presents: the delegate's viewer follows
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(doc))
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "1")

    expect(delegate.locator("#annot-bar")).to_be_visible()
    delegate.get_by_role("button", name="Bút", exact=True).click()
    delegate.click("#ann-shared")
    expect(delegate.locator("#ann-shared")).to_have_attribute("aria-pressed", "true")
    # The secretary sees the stroke while it is drawn (in flight: relayed, not stored), before mouse-up.
    box = delegate.locator(".pdf-page").bounding_box()
    delegate.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.5 * box["height"])
    delegate.mouse.down()
    delegate.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.6 * box["height"], steps=12)
    in_flight = secretary.locator("[data-testid=ann-in-flight] line")
    expect(in_flight.first).to_be_attached()
    assert annotations(secretary, doc) == []
    delegate.mouse.up()
    mine = delegate.locator(".pdf-overlay [data-kind=ink]")
    expect(mine).to_have_count(1)
    theirs = secretary.locator(".pdf-overlay [data-kind=ink][data-visibility=meeting]")
    expect(theirs).to_have_count(1)
    expect(in_flight).to_have_count(0)  # replaced by the finished stroke (same id)
    expect(theirs.locator("line").first).to_be_attached()

    ink = [a for a in annotations(secretary, doc) if a["kind"] == "ink"]
    assert len(ink) == 1
    assert ink[0]["page"] == 1 and ink[0]["visibility"] == "meeting"
    assert ink[0]["author_id"] == seeded.user_ids["delegate"]
    points = ink[0]["geometry"]["strokes"][0]
    assert len(points) >= 2
    # PDF page space, origin bottom left: the stroke went from 20 % to 70 % across, half way down.
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    assert abs(min(xs) - 0.2 * A4[0]) < 15 and abs(max(xs) - 0.7 * A4[0]) < 15
    assert 0.35 * A4[1] < min(ys) < max(ys) < 0.55 * A4[1]
    assert all(p[2] == 0.5 for p in points)  # a mouse has no pressure: the default

    # Zoom does not move it: the secretary zooms in, the stroke still starts at 20 % of the page width.
    secretary.click("#zoom-in")
    expect(secretary.locator("#zoom-level")).to_have_text("125%")
    expect(secretary.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    first = theirs.locator("line").first
    expect(first).to_be_attached()
    width = secretary.locator(".pdf-page").bounding_box()["width"]
    x1 = float(first.get_attribute("x1"))
    assert abs(x1 / width - 0.2) < 0.03

    # A private stroke stays on the delegate's tablet.
    delegate.click("#ann-shared")
    draw(delegate, 0.2, 0.8, 0.6, 0.85)
    expect(mine).to_have_count(2)
    expect(delegate.locator(".pdf-overlay [data-kind=ink][data-visibility=private]:not(.pending)")).to_have_count(1)
    ids_for_secretary = {a["id"] for a in annotations(secretary, doc)}
    assert len([a for a in annotations(delegate, doc) if a["kind"] == "ink"]) == 2
    assert len(ids_for_secretary) == 1
    delegate.screenshot(path=screenshots / "room-annotations-portrait.png")
    secretary.screenshot(path=screenshots / "room-annotations-secretary.png")

    # Eraser removes the shared stroke everywhere; undo brings it back.
    delegate.get_by_role("button", name="Tẩy", exact=True).click()
    click_at(delegate, 0.45, 0.55)
    expect(theirs).to_have_count(0)
    expect(mine).to_have_count(1)
    delegate.click("#ann-undo")
    expect(theirs).to_have_count(1)
    expect(mine).to_have_count(2)
    assert secretary.errors == [] and delegate.errors == []


def test_pen_pressure_and_palm_rejection(tablet, seeded):
    doc = seeded.doc_ids[1]
    delegate = tablet("delegate2", LANDSCAPE)
    open_room(delegate, seeded)
    delegate.click("#follow")  # stop following, read the second document
    open_doc(delegate, doc)
    delegate.get_by_role("button", name="Bút", exact=True).click()
    # Playwright's mouse and touchscreen cannot make a pen: pointer events as a stylus sends them.
    delegate.evaluate("""() => {
      const overlay = document.querySelector('.pdf-overlay');
      const box = overlay.getBoundingClientRect();
      const send = (type, kind, id, fx, fy, pressure) => overlay.dispatchEvent(new PointerEvent(type, {
        pointerType: kind, pointerId: id, clientX: box.left + fx * box.width, clientY: box.top + fy * box.height,
        pressure, bubbles: true, cancelable: true, isPrimary: true }));
      send('pointerdown', 'pen', 7, 0.3, 0.3, 0.2);
      for (let i = 1; i <= 5; i++) send('pointermove', 'pen', 7, 0.3 + i * 0.05, 0.3, 0.2 + i * 0.1);
      send('pointerup', 'pen', 7, 0.55, 0.3, 0);
      // Now a palm rests on the screen: touches are not ink while a pen is in use.
      send('pointerdown', 'touch', 8, 0.3, 0.7, 0.5);
      for (let i = 1; i <= 5; i++) send('pointermove', 'touch', 8, 0.3 + i * 0.05, 0.7, 0.5);
      send('pointerup', 'touch', 8, 0.55, 0.7, 0);
    }""")
    expect(delegate.locator(".pdf-overlay [data-kind=ink]:not(.pending)")).to_have_count(1)
    ink = [a for a in annotations(delegate, doc) if a["kind"] == "ink"]
    assert len(ink) == 1
    pressures = [p[2] for p in ink[0]["geometry"]["strokes"][0]]
    assert pressures[0] == 0.2 and max(pressures) == 0.7
    # Thicker where the pen pressed harder.
    widths = delegate.locator(".pdf-overlay [data-kind=ink] line").evaluate_all(
        "ls => ls.map(l => Number(l.getAttribute('stroke-width')))")
    assert widths[-1] > widths[0]
    assert delegate.errors == []


def test_highlight_and_note(tablet, seeded):
    doc = seeded.doc_ids[1]
    delegate = tablet("delegate2", LANDSCAPE)
    open_room(delegate, seeded)
    delegate.click("#follow")
    open_doc(delegate, doc)
    delegate.get_by_role("button", name="Bút dạ quang").click()
    span = delegate.locator(".textLayer span").filter(has_text="Báo cáo").first
    box = span.bounding_box()
    delegate.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    delegate.mouse.down()
    delegate.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2, steps=8)
    delegate.mouse.up()
    # Drawn at once, then confirmed by the server (no longer "pending").
    expect(delegate.locator(".pdf-overlay [data-kind=highlight]:not(.pending)")).to_have_count(1)
    hl = [a for a in annotations(delegate, doc) if a["kind"] == "highlight"]
    assert len(hl) == 1
    anchor = hl[0]["anchor"]
    assert anchor["exact"] and "Báo cáo kinh tế – xã hội".startswith(anchor["exact"].strip()[:5])
    assert anchor["end"] - anchor["start"] == len(anchor["exact"])
    (x1, y1, x2, y2), *_ = hl[0]["geometry"]["rects"]
    assert 60 < x1 < x2 < 400 and 740 < y1 < y2 < 790  # the title line, at y = 760 pt in the PDF

    # A note: the text is stored as given and shown as text, never as markup.
    delegate.get_by_role("button", name="Ghi chú", exact=True).click()
    click_at(delegate, 0.5, 0.5)
    delegate.fill("#note-text", "<b>Cần xem lại</b> số liệu")
    delegate.click("#note-save")
    note = delegate.locator(".ann-note")
    expect(note).to_have_count(1)
    expect(note).not_to_have_class(re.compile(r"\bpending\b"))
    expect(note).to_have_attribute("title", "<b>Cần xem lại</b> số liệu")
    assert delegate.locator(".ann-notes b").count() == 0
    notes = [a for a in annotations(delegate, doc) if a["kind"] == "note"]
    assert notes[0]["text"] == "<b>Cần xem lại</b> số liệu"
    assert delegate.errors == []


def test_offline_reading_and_annotating_then_sync(tablet, seeded, screenshots):
    doc = seeded.doc_ids[0]
    secretary = tablet("secretary", LANDSCAPE)
    delegate = tablet("delegate2", LANDSCAPE)
    open_room(secretary, seeded)
    open_doc(secretary, doc)
    open_room(delegate, seeded)
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(doc))
    # The service worker controls the room and has today's documents before the network goes.
    delegate.wait_for_function("navigator.serviceWorker.controller !== null")
    delegate.wait_for_function(f"""async () => {{
        const c = await caches.open('meetings-v1');
        return !!(await c.match('/api/v1/documents/{doc}/file')) && !!(await c.match(location.pathname));
    }}""")
    before = {a["id"] for a in annotations(secretary, doc)}

    delegate.context.set_offline(True)
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "offline")
    # Reloading without a network: the room and the document come from the device.
    delegate.reload()
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(doc))
    expect(delegate.locator(".textLayer")).to_contain_text("Dự thảo nghị quyết ngân sách")
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "offline")
    delegate.get_by_role("button", name="Bút", exact=True).click()
    delegate.click("#ann-shared")
    draw(delegate, 0.3, 0.3, 0.6, 0.35)
    offline_ink = delegate.locator(".pdf-overlay [data-kind=ink].pending")
    expect(offline_ink).to_have_count(1)
    queued = delegate.evaluate(f"JSON.parse(localStorage.getItem('meetings.outbox.{seeded.meeting_id}') || '[]')")
    assert [q["name"] for q in queued] == ["annotation.create"]
    delegate.screenshot(path=screenshots / "room-offline-annotating.png")
    assert {a["id"] for a in annotations(secretary, doc)} == before  # nothing reached the server

    delegate.context.set_offline(False)
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "online")
    new_id = queued[0]["payload"]["id"]
    expect(secretary.locator(f".pdf-overlay [data-ann-id='{new_id}']")).to_have_count(1)
    expect(delegate.locator(".pdf-overlay [data-kind=ink].pending")).to_have_count(0)
    assert delegate.evaluate(f"localStorage.getItem('meetings.outbox.{seeded.meeting_id}')") == "[]"
    ids = [a["id"] for a in annotations(secretary, doc)]
    assert ids.count(new_id) == 1

    # Logging out wipes the device: caches, outbox, cached annotations.
    delegate.click("form[data-logout] button")
    expect(delegate.locator("#username")).to_be_visible()
    assert delegate.evaluate("caches.keys()") == []
    assert delegate.evaluate("Object.keys(localStorage).filter(k => k.startsWith('meetings.'))") == []
    resp = secretary.request.post("/logout", headers={"X-CSRFToken": secretary.locator(
        "meta[name=csrf-token]").get_attribute("content")}, max_redirects=0)
    assert resp.headers.get("clear-site-data") == '"cache", "storage"'
