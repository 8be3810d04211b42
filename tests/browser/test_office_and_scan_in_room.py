"""Issue 15's "done when", in a real browser: the secretary uploads a Word file and a scan through
the preparation page, publishes them, and a delegate reads and highlights both in the room.

Real parts throughout: LibreOffice converts the .docx inside the upload request; the job consumer (a
process of its own, ``flask jobs worker``, as gunicorn.conf.py starts it under ``make run``) OCRs the
scan with tesseract ``vie``. The consumer is started only once the delegate has the image-only scan
open, so its ``document.text_layer`` event must reach the open viewer (through Redis,
``SOCKETIO_MESSAGE_QUEUE``). Deadlines are generous: a 2-core machine under load converts in seconds
and OCRs a page in tens of seconds; the figures measured are printed (``-s`` shows them).
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, compile_catalogues
from tests.live_server import start_server
from tests.office_files import UBND, docx_vietnamese
from tests.test_documents_ocr import scan_pdf

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

CONVERT_MS = 180_000  # LibreOffice's first start on a loaded machine (its limit is 120 s)
OCR_MS = 240_000  # one page at 200 dpi, vie+eng, behind whatever else the consumer runs
WORD_NAME, SCAN_NAME = "Nghị quyết kỳ họp", "Bản chụp tờ trình"


@pytest.fixture(scope="module")
def server(database_url, server_dir, seeded):
    compile_catalogues()
    env = {"DATABASE_URL": database_url, "STORAGE_PATH": str(server_dir / "storage"),
           "LOGIN_RATE_LIMIT": "1000 per minute", "ACCESS_LOG": "/dev/null", "GUNICORN_TIMEOUT": "300",
           "JOBS_CONSUMER": "0",  # the test starts the consumer when the delegate has the scan open
           "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
           "SOCKETIO_CHANNEL": f"office-scan-{secrets.token_hex(4)}"}
    handle = start_server(server_dir, env=env, migrate=False)
    yield handle
    handle.stop()


def start_consumer(server, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in server.env.items() if k != "BIND"}
    env.update({"JOBS_POLL_SECONDS": "0.1", "JOBS_WORKERS": "1"})
    log = open(log_path, "w")  # noqa: SIM115 (the child writes to it)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def highlight_span(page, words: str) -> dict:
    """Drag the highlighter across the first text-layer span holding ``words``; the stored highlight."""
    doc_id = int(page.locator(".pdf-page").get_attribute("data-doc"))
    page.get_by_role("button", name="Bút dạ quang").click()
    # A pattern: has_text alone ignores case, and the scan's heading "… QUẢNG NAM" comes first.
    span = page.locator(".textLayer span").filter(has_text=re.compile(re.escape(words))).first
    span.scroll_into_view_if_needed()
    box = span.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 1, y, steps=10)
    page.mouse.up()
    expect(page.locator(".pdf-overlay [data-kind=highlight]:not(.pending)")).to_have_count(1)
    resp = page.request.get(f"/api/v1/documents/{doc_id}/annotations")
    assert resp.ok, resp.text()
    found = [a for a in resp.json()["annotations"] if a["kind"] == "highlight"]
    assert len(found) == 1, found
    return found[0]


def test_a_word_file_and_a_scan_are_read_and_highlighted_in_the_room(tablet, seeded, server, server_dir,
                                                                     tmp_path, screenshots):
    word = tmp_path / f"{WORD_NAME}.docx"
    word.write_bytes(docx_vietnamese(2))
    scan = tmp_path / f"{SCAN_NAME}.pdf"
    scan.write_bytes(scan_pdf(1))

    # The secretary: both files at once through the file input, into an agenda item.
    secretary = tablet("secretary", LANDSCAPE)
    secretary.goto(f"/meetings/{seeded.meeting_id}/prepare")
    expect(secretary.locator("#doc-rows tr")).to_have_count(2)
    secretary.select_option("#doc-item", str(seeded.item_ids[2]))
    started = time.monotonic()
    secretary.set_input_files("#doc-file", [str(word), str(scan)])
    word_upload = secretary.locator(".upload").filter(has_text=word.name)
    expect(word_upload).to_have_attribute("data-stage", "done", timeout=CONVERT_MS)
    converted_s = time.monotonic() - started
    expect(secretary.locator(".upload").filter(has_text=scan.name)).to_have_attribute("data-stage", "done",
                                                                                       timeout=60_000)
    expect(secretary.locator(".upload.failed")).to_have_count(0)
    rows = secretary.locator("#doc-rows tr")
    expect(rows).to_have_count(4)
    word_row, scan_row = rows.filter(has_text=WORD_NAME), rows.filter(has_text=SCAN_NAME)
    expect(word_row).to_contain_text("DOCX")  # "converted from DOCX"
    word_id, scan_id = int(word_row.get_attribute("data-doc-id")), int(scan_row.get_attribute("data-doc-id"))
    # The Office original, for the secretariat: linked from its row.
    source = word_row.locator("a.doc-source")
    expect(source).to_have_attribute("href", f"/api/v1/documents/{word_id}/source")
    assert secretary.request.get(f"/api/v1/documents/{word_id}/source").ok
    # Publish each, as the page allows (one button per unpublished row).
    for row in (word_row, scan_row):
        row.get_by_role("button").click()
        expect(row.get_by_role("button")).to_have_count(0)

    # A delegate: the Word file's text at once, then the scan, whose text layer arrives in the open viewer.
    delegate = tablet("delegate", LANDSCAPE)
    delegate.goto(f"/meetings/{seeded.meeting_id}/room")
    expect(delegate.locator("#conn")).to_have_attribute("data-state", "online")
    assert delegate.request.get(f"/api/v1/documents/{word_id}/source").status == 403
    delegate.click(f".doc-link[data-doc-id='{word_id}']")
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(word_id))
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    expect(delegate.locator(".textLayer")).to_contain_text(UBND)
    expect(delegate.locator(".textLayer")).to_contain_text("Tăng trưởng GRDP")  # the table
    on_word = highlight_span(delegate, "Ủy ban")
    assert "Ủy ban nhân dân" in on_word["anchor"]["exact"], on_word["anchor"]
    delegate.screenshot(path=screenshots / "office-word-highlighted.png")

    delegate.get_by_role("button", name="Đọc", exact=True).click()  # the reading tool: the next click opens, not marks
    delegate.click(f".doc-link[data-doc-id='{scan_id}']")
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(scan_id))
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    expect(scan_row.locator(".doc-status")).to_have_attribute("data-text-layer", "queued")
    assert "Quảng Nam" not in delegate.locator(".textLayer").inner_text()  # the scan alone: no text yet
    log_path = server_dir / "office-scan-consumer.log"
    ocr_started = time.monotonic()
    consumer = start_consumer(server, log_path)
    try:
        # No click, no reload: the consumer's event makes the viewer fetch the rendition.
        expect(delegate.locator(".textLayer")).to_contain_text("Quảng Nam", timeout=OCR_MS)
    except AssertionError:
        raise AssertionError(log_path.read_text()[-3000:]) from None
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    ocr_s = time.monotonic() - ocr_started
    expect(delegate.locator(".pdf-page")).to_have_attribute("data-doc", str(scan_id))
    # The secretary's page followed too (live status, no reload).
    expect(scan_row.locator(".doc-status")).to_have_attribute("data-text-layer", "ready", timeout=30_000)
    on_scan = highlight_span(delegate, "Quảng Nam")
    assert "Quảng Nam" in on_scan["anchor"]["exact"], on_scan["anchor"]
    assert on_scan["anchor"]["end"] - on_scan["anchor"]["start"] == len(on_scan["anchor"]["exact"])
    delegate.screenshot(path=screenshots / "scan-highlighted.png")
    print(f"\nconversion: {converted_s:.1f} s for the 2-page .docx upload (request to answer); "
          f"OCR: {ocr_s:.1f} s for the 1-page scan (consumer start to text layer in the viewer)")
    assert delegate.errors == [] and secretary.errors == []
