"""A delegate reads a scan at once, and its OCR text layer arrives in the open viewer (real browser).

The server runs without its consumer (``JOBS_CONSUMER=0``) so the scan waits ``queued`` while the
delegate opens it; then a consumer of our own (another process, as in production) runs the OCR and
its ``document.text_layer`` event reaches the tablet in the embedded default, without Redis: the
consumer writes it to ``socket_relay`` and the server's relay sends it (meetings/platform/realtime/relay.py).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, compile_catalogues
from tests.factories import PASSWORD
from tests.live_server import start_server
from tests.test_documents_ocr import scan_pdf

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(database_url, server_dir, seeded):
    compile_catalogues()
    env = {"DATABASE_URL": database_url, "STORAGE_PATH": str(server_dir / "storage"),
           "LOGIN_RATE_LIMIT": "1000 per minute", "ACCESS_LOG": "/dev/null", "JOBS_CONSUMER": "0"}
    handle = start_server(server_dir, env=env, migrate=False)
    yield handle
    handle.stop()


def test_the_text_layer_of_a_scan_arrives_in_the_open_viewer(tablet, seeded, server, server_dir):
    token = requests.post(f"{server.url}/api/v1/auth/token",
                          json={"username": "secretary", "password": PASSWORD}, timeout=10).json()["token"]
    r = requests.post(f"{server.url}/api/v1/meetings/{seeded.meeting_id}/documents",
                      headers={"Authorization": f"Bearer {token}"}, timeout=60,
                      files={"file": ("bản chụp.pdf", scan_pdf(1), "application/pdf")},
                      data={"published": "true", "agenda_item_id": str(seeded.item_ids[2]), "title": "Bản chụp"})
    assert r.status_code == 201 and r.json()["text_layer"] == "queued", r.text
    doc_id = r.json()["id"]
    page = tablet("delegate", LANDSCAPE)
    page.goto(f"/meetings/{seeded.meeting_id}/room")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    page.click(f".doc-link[data-doc-id='{doc_id}']")
    expect(page.locator(".pdf-page")).to_have_attribute("data-doc", str(doc_id))
    expect(page.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    assert "Quảng Nam" not in page.locator(".textLayer").inner_text()  # the scan: nothing to select yet
    env = {k: v for k, v in server.env.items() if k not in ("BIND", "SOCKETIO_MESSAGE_QUEUE", "SOCKETIO_CHANNEL")}
    env.update({"JOBS_POLL_SECONDS": "0.1", "JOBS_WORKERS": "1"})
    log = open(server_dir / "ocr-consumer.log", "w")  # noqa: SIM115 (the child writes to it)
    consumer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # No click, no reload of the page: the event makes the viewer fetch the rendition.
        expect(page.locator(".textLayer")).to_contain_text("Quảng Nam", timeout=90_000)
    except AssertionError:
        raise AssertionError((server_dir / "ocr-consumer.log").read_text()[-3000:]) from None
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    expect(page.locator(".pdf-page")).to_have_attribute("data-rendered", "1")
    assert page.errors == []
