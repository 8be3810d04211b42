"""Drill: PostgreSQL drops the server's connections in the middle of an upload.

Shows: the upload gets a clear ``503 unavailable`` JSON answer (not a 500 and
not a hang); no document row and nothing in ``tmp/`` is left behind; the very
next upload works, because ``pool_pre_ping`` replaces the dead connections.
A blob that reached ``blobs/`` before the row failed is removed once the
transaction has rolled back (the database answers again on a fresh connection).
"""
from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from meetings.documents.models import Document
from tests.pdfs import noise_pdf
from tests.socket_helpers import WAIT_SECONDS, db_session, make_world, start_socket_server, wait_until

pytestmark = pytest.mark.skipif(
    not __import__("os").environ.get("TEST_DB", "").startswith("postgresql"),
    reason="pg_terminate_backend() needs PostgreSQL (run with TEST_DB=postgresql)",
)


def _multipart(pdf: bytes) -> tuple[str, bytes]:
    boundary = f"drill{uuid.uuid4().hex}"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="Tờ trình.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():  # not expected for a JSON error, but be exact
        raise AssertionError(f"unexpected chunked answer: {head!r}")
    return status, json.loads(body)


def _unread_by_server(server_port: int, client_port: int) -> int | None:
    """Bytes waiting in the server's receive queue of this connection (from /proc/net/tcp)."""
    want = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == want:
            return int(fields[4].split(":")[1], 16)
    return None


def _blobs(storage):
    return sorted(p.name for p in (storage / "blobs").rglob("*.pdf")) if (storage / "blobs").exists() else []


def test_connection_drop_during_upload_is_a_clean_503(tmp_path, database_url):
    server = start_socket_server(tmp_path, database_url)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        w = make_world(database_url)
        storage = server.instance_path / "storage"
        pdf = noise_pdf(4)  # ~400 KB: the server is surely inside the body when half of it is read
        content_type, body = _multipart(pdf)
        head = (f"POST /api/v1/meetings/{w.meeting_id}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {w.tokens['secretary']}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECONDS * 4) as sock:
            half = len(body) // 2
            sock.sendall(head + body[:half])  # the server authorizes, then waits for the rest of the file

            client_port = sock.getsockname()[1]

            def reading_the_body() -> bool:
                # The server has consumed all we sent (so it is inside the multipart body, past every
                # check) and its request still holds an open transaction.
                if _unread_by_server(port, client_port) != 0:
                    return False
                with admin.connect() as conn:
                    return conn.scalar(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND state = 'idle in transaction'")) > 0

            wait_until(reading_the_body, "the server to be reading the upload's body")
            with admin.connect() as conn:
                killed = conn.scalars(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all()
            assert killed and all(killed)
            sock.sendall(body[half:])
            status, answer = _read_response(sock)
        assert status == 503, answer
        assert answer["error"]["code"] == "unavailable"
        with db_session(database_url) as s:
            assert s.scalar(select(func.count()).select_from(Document)
                            .where(Document.meeting_id == w.meeting_id)) == 0
        tmp = storage / "tmp"
        assert not tmp.exists() or list(tmp.iterdir()) == []  # no partial upload left behind
        assert _blobs(storage) == []  # the refused transaction's blob was removed, nothing half-stored

        # The next upload works: pool_pre_ping replaced the dead connections.
        r = requests.post(f"{server.url}/api/v1/meetings/{w.meeting_id}/documents",
                          headers={"Authorization": f"Bearer {w.tokens['secretary']}"},
                          files={"file": ("Tờ trình.pdf", pdf, "application/pdf")}, timeout=WAIT_SECONDS * 4)
        assert r.status_code == 201, r.text
        assert _blobs(storage) == [f"{r.json()['sha256']}.pdf"]  # stored again, now with its row
        assert requests.get(server.url + "/healthz", timeout=WAIT_SECONDS).json()["status"] == "ok"
    finally:
        admin.dispose()
        server.stop()
