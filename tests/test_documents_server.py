"""Documents on the REAL server (gunicorn, gevent worker): the intake check and the
watermark run as child processes of a monkey-patched worker, over real HTTP."""
from __future__ import annotations

import subprocess

import pytest
import requests
from sqlalchemy.orm import Session

from meetings.accounts.service import issue_token
from meetings.core.db import make_engine
from tests import factories, pdfs
from tests.live_server import start_server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs-serve")
    handle = start_server(tmp, env={"MAX_PDF_PAGES": "50", "LOG_LEVEL": "INFO"})
    engine = make_engine(f"sqlite:///{handle.instance_path / 'meetings.sqlite3'}")
    with Session(engine, expire_on_commit=False) as session:
        world = factories.build_world(session)
        tokens = {name: issue_token(session, world.users[name], 1)[0] for name in ("secretary", "delegate")}
        session.commit()
    engine.dispose()
    yield handle, world, tokens
    handle.stop()


def _auth(tokens, name):
    return {"Authorization": f"Bearer {tokens[name]}"}


def test_upload_check_and_watermark_run_under_the_gevent_worker(served, tmp_path):
    handle, world, tokens = served
    url = f"{handle.url}/api/v1/meetings/{world.meeting.id}/documents"
    assert "Using worker: gevent" in handle.log()
    data = pdfs.simple_pdf(3)
    r = requests.post(url, headers=_auth(tokens, "secretary"), timeout=120,
                      files={"file": ("Tờ trình.pdf", data, "application/pdf")},
                      data={"confidentiality": "confidential", "published": "true"})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["pages"] == 3
    # Hostile files are refused by the child, and the worker keeps serving.
    for bad, code in [(pdfs.bomb_pdf(1024 ** 3), "too_complex"), (pdfs.cyclic_pdf(), "unreadable"),
                      (pdfs.simple_pdf(60), "too_many_pages")]:
        r = requests.post(url, headers=_auth(tokens, "secretary"), files={"file": ("x.pdf", bad)}, timeout=120)
        assert r.status_code == 422 and r.json()["error"]["code"] == code, r.text
        assert requests.get(f"{handle.url}/healthz", timeout=30).status_code == 200
    # The watermarked copy, made in a child of the gevent worker, then a Range of it.
    file_url = f"{handle.url}/api/v1/documents/{doc['id']}/file"
    r = requests.get(file_url, headers=_auth(tokens, "delegate"), timeout=120)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    path = tmp_path / "got.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    assert text.count(f"Bản cấp cho: {world.delegate.full_name}") == 6  # top and bottom of 3 pages
    r = requests.get(file_url, headers={**_auth(tokens, "delegate"), "Range": "bytes=10-19"}, timeout=60)
    assert r.status_code == 206 and r.content == path.read_bytes()[10:20]
    assert "Traceback" not in handle.log()
