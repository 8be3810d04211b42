"""Through real nginx, configured as docs/deployment.md says: the app authorizes, nginx sends the bytes.

The live server (gunicorn, gevent) runs with ``X_ACCEL_REDIRECT_PREFIX=/_files``;
our own nginx (tests/nginx_front.py) proxies to it with the documented config.
"""
from __future__ import annotations

from pathlib import Path

import requests
import socketio
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.fanout import make_world
from tests import pdfs
from tests.live_server import start_server
from tests.nginx_front import ACCEL_PREFIX, NGINX, NginxFront
from tests.tools import require_tool


def _add_document(url: str, meeting_id: int, storage: Path, data: bytes, work: Path) -> tuple[int, str]:
    from meetings.bodies.models import Meeting
    from meetings.documents.service import add_document
    from meetings.platform.realtime import eventlog

    pdf = work / "agenda.pdf"
    pdf.write_bytes(data)
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            doc = add_document(s, s.get(Meeting, meeting_id), pdf, title="Tài liệu", filename="tai-lieu.pdf",
                               uploaded_by_id=None, published=True, storage_path=storage)
            s.info.pop(eventlog._PENDING, None)  # no socket server in this process to announce it
            s.commit()
            return doc.id, doc.sha256
    finally:
        engine.dispose()


def test_a_download_through_nginx_is_the_stored_file(tmp_path):
    require_tool("nginx", present=Path(NGINX).exists(), why="Debian's nginx-light serves the files",
                 install="nginx-light")
    url = f"sqlite:///{tmp_path / 'accel.sqlite3'}"
    storage = tmp_path / "storage"
    server = start_server(tmp_path / "app", env={"DATABASE_URL": url, "STORAGE_PATH": str(storage),
                                                "X_ACCEL_REDIRECT_PREFIX": ACCEL_PREFIX})
    front = None
    try:
        world = make_world(url, 2)  # a meeting, delegates and their tokens
        data = pdfs.simple_pdf(3)
        doc_id, sha = _add_document(url, world["meeting_id"], storage, data, tmp_path)
        port = int(server.url.rsplit(":", 1)[1])
        front = NginxFront(tmp_path / "nginx", app_ports=[port], storage=storage)
        file_url = f"{front.url}/api/v1/documents/{doc_id}/file"
        auth = {"Authorization": f"Bearer {world['delegates'][0]}"}

        r = requests.get(file_url, headers=auth, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text[:300], front.log())
        assert r.content == data  # bytes from nginx's internal location (the app sent none)
        assert "X-Accel-Redirect" not in r.headers
        assert r.headers["ETag"] == f'"{sha}"' and r.headers["Content-Type"] == "application/pdf"
        assert r.headers["Cache-Control"] == "private, no-cache" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Disposition"].startswith("inline")
        # The app answers the revalidation, nginx the ranges.
        again = requests.get(file_url, headers={**auth, "If-None-Match": r.headers["ETag"]}, timeout=30)
        assert again.status_code == 304
        part = requests.get(file_url, headers={**auth, "Range": "bytes=10-19"}, timeout=30)
        assert part.status_code == 206 and part.content == data[10:20]
        # No credential, no file; the internal location cannot be asked for directly.
        refused = requests.get(file_url, timeout=30)
        assert refused.status_code == 401 and refused.content != data
        direct = requests.get(f"{front.url}{ACCEL_PREFIX}/blobs/{sha[:2]}/{sha[2:4]}/{sha}.pdf", timeout=30)
        assert direct.status_code == 404 and direct.content != data
        # The documented config carries the sockets too (upgrade to a WebSocket through nginx).
        sio = socketio.Client(reconnection=False)
        sio.connect(front.url, auth={"token": world["delegates"][0]}, transports=["websocket"], wait_timeout=30)
        try:
            assert sio.call("meeting.join", {"meeting_id": world["meeting_id"]}, timeout=30).get("ok")
        finally:
            sio.disconnect()
    finally:
        if front is not None:
            front.stop()
        server.stop()
