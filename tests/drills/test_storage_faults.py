"""Drills: the file storage fills up, or turns read-only, under an upload.

STORAGE_PATH is a real 1 MB tmpfs mounted for the test (root and mount rights
needed; skipped otherwise), so the kernel itself answers ENOSPC and EROFS.
Shows: a clear JSON error (507 ``insufficient_storage``, 503 ``unavailable``),
nothing half-stored (no row, no blob, nothing in ``tmp/``), /healthz reports
read-only storage, and the server keeps serving and accepts uploads again as
soon as space or write access is back.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from meetings.documents.models import Document
from tests.pdfs import noise_pdf, simple_pdf
from tests.socket_helpers import WAIT_SECONDS, db_session, make_world, start_socket_server
from tests.tools import require_tool


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 1 MB tmpfs at tmp_path/storage, unmounted afterwards."""
    path = tmp_path / "storage"
    path.mkdir()
    done = _mount("-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(path))
    require_tool("mount", present=done.returncode == 0,
                 why=f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr.strip()}")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def served(tmp_path, database_url, small_disk):
    server = start_socket_server(tmp_path / "server", database_url, env={"STORAGE_PATH": str(small_disk)})
    yield server
    server.stop()


def _upload(server, world, pdf: bytes) -> requests.Response:
    return requests.post(f"{server.url}/api/v1/meetings/{world.meeting_id}/documents",
                         headers={"Authorization": f"Bearer {world.tokens['secretary']}"},
                         files={"file": ("Báo cáo.pdf", pdf, "application/pdf")}, timeout=WAIT_SECONDS * 4)


def _nothing_stored(database_url, world, storage: Path) -> None:
    with db_session(database_url) as s:
        assert s.scalar(select(func.count()).select_from(Document).where(Document.meeting_id == world.meeting_id)) == 0
    assert [p for p in storage.rglob("*") if p.is_file()] == []  # no partial file in tmp/, no blob


def test_disk_full_during_upload_is_a_clean_507(served, small_disk, database_url):
    w = make_world(database_url)
    big = noise_pdf(14)
    assert len(big) > 1024 * 1024  # more than the whole disk
    r = _upload(served, w, big)
    assert r.status_code == 507, r.text
    assert r.json()["error"]["code"] == "insufficient_storage"
    _nothing_stored(database_url, w, small_disk)
    # The server keeps serving, and a file that fits is accepted.
    assert requests.get(served.url + "/healthz", timeout=WAIT_SECONDS).status_code == 200
    r = _upload(served, w, simple_pdf(pages=2))
    assert r.status_code == 201, r.text


def test_read_only_storage_is_a_clean_503_until_it_is_writable_again(served, small_disk, database_url):
    w = make_world(database_url)
    pdf = simple_pdf(pages=2)
    remount = _mount("-o", "remount,ro", str(small_disk))
    assert remount.returncode == 0, remount.stderr
    try:
        r = _upload(served, w, pdf)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "unavailable"
        _nothing_stored(database_url, w, small_disk)
        health = requests.get(served.url + "/healthz", timeout=WAIT_SECONDS)
        assert health.status_code == 503 and health.json()["checks"]["storage"] == "error: not writable"
    finally:
        assert _mount("-o", "remount,rw", str(small_disk)).returncode == 0
    assert requests.get(served.url + "/healthz", timeout=WAIT_SECONDS).status_code == 200
    r = _upload(served, w, pdf)
    assert r.status_code == 201, r.text
