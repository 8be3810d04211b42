"""Documents: delivery from disk (Range, ETag, caching) and the per-viewer watermark."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

from pypdf import PdfReader

from meetings.core.extensions import db
from meetings.documents import storage
from tests import pdfs
from tests.pdfs import upload

PDFTOTEXT = "/usr/bin/pdftotext"


def _published(as_user, world, data: bytes, **fields) -> dict:
    r = upload(as_user("secretary"), world.meeting.id, data, published="true", **fields)
    assert r.status_code == 201, r.json
    return r.json


def _pages_text_pypdf(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def _pages_text_poppler(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "delivered.pdf"
    path.write_bytes(data)
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    pages = out.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def test_full_download_etag_and_private_caching(as_user, world):
    data = pdfs.simple_pdf(3)
    doc = _published(as_user, world, data)
    c = as_user("delegate")
    r = c.get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 200
    assert r.data == data
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers["ETag"] == f'"{doc["sha256"]}"'
    assert r.headers["Accept-Ranges"] == "bytes"
    cache = r.headers["Cache-Control"]
    assert "private" in cache and "public" not in cache
    assert r.headers["Content-Disposition"].startswith("inline")
    # If-None-Match with the ETag → 304 without a body; another ETag → the file.
    r = c.get(f"/api/v1/documents/{doc['id']}/file", headers={"If-None-Match": r.headers["ETag"]})
    assert r.status_code == 304 and r.data == b""
    r = c.get(f"/api/v1/documents/{doc['id']}/file", headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200 and r.data == data
    assert c.head(f"/api/v1/documents/{doc['id']}/file").headers["Content-Length"] == str(len(data))


def test_range_requests(as_user, world):
    data = pdfs.simple_pdf(2)
    size = len(data)
    doc = _published(as_user, world, data)
    c = as_user("delegate")
    url = f"/api/v1/documents/{doc['id']}/file"
    for header, start, end in [("bytes=0-99", 0, 99), ("bytes=100-1123", 100, 1123),
                               (f"bytes={size - 50}-", size - 50, size - 1), ("bytes=-30", size - 30, size - 1)]:
        r = c.get(url, headers={"Range": header})
        assert r.status_code == 206, header
        assert r.data == data[start:end + 1]
        assert r.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert r.headers["Content-Length"] == str(end - start + 1)
    # A range past the end: 416 with the file's length, as JSON.
    r = c.get(url, headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{size}"
    assert r.json["error"]["code"] == "range_not_satisfiable"
    # A garbled Range header is ignored: the whole file.
    r = c.get(url, headers={"Range": "pages=1-2"})
    assert r.status_code == 200 and r.data == data
    # If-Range with a stale ETag → the whole file, not a piece of a changed one.
    r = c.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.data == data


def test_normal_document_is_not_watermarked(as_user, world, tmp_path):
    data = pdfs.simple_pdf(2)
    doc = _published(as_user, world, data)
    got = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file").data
    assert got == data
    for text in _pages_text_pypdf(got) + _pages_text_poppler(got, tmp_path):
        assert "MẬT" not in text and world.delegate.full_name not in text


def test_confidential_document_is_watermarked_on_every_page(app, as_user, world, tmp_path):
    data = pdfs.simple_pdf(4)
    doc = _published(as_user, world, data, confidentiality="confidential")
    assert doc["watermarked"] is True
    r = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 200 and r.data != data
    assert "private" in r.headers["Cache-Control"]
    name = world.delegate.full_name
    assert name == "Người dùng delegate"  # diacritics to survive
    for extract in (_pages_text_pypdf(r.data), _pages_text_poppler(r.data, tmp_path)):
        assert len(extract) == 4
        for n, text in enumerate(extract, start=1):
            assert name in text, (n, text)
            assert "MẬT" in text and "Bản cấp cho" in text
            assert f"Trang {n}" in text  # the page itself is still there
    assert len(PdfReader(io.BytesIO(r.data)).pages) == 4


def test_each_marking_is_printed(as_user, world, tmp_path):
    expected = {"internal": "LƯU HÀNH NỘI BỘ", "secret": "TỐI MẬT", "top_secret": "TUYỆT MẬT"}
    for level, marking in expected.items():
        doc = _published(as_user, world, pdfs.simple_pdf(1, text=f"Mức {level}"), confidentiality=level)
        got = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file").data
        (text,) = _pages_text_poppler(got, tmp_path)
        assert marking in text and world.delegate.full_name in text, (level, text)


def test_two_viewers_get_different_copies_and_the_cache_is_reused(app, as_user, world, tmp_path):
    doc = _published(as_user, world, pdfs.simple_pdf(2), confidentiality="secret")
    url = f"/api/v1/documents/{doc['id']}/file"
    one = as_user("delegate").get(url)
    two = as_user("delegate2").get(url)
    assert one.status_code == two.status_code == 200
    assert one.data != two.data and one.headers["ETag"] != two.headers["ETag"]
    text_one = "".join(_pages_text_poppler(one.data, tmp_path))
    text_two = "".join(_pages_text_poppler(two.data, tmp_path))
    mark_one, mark_two = (f"Bản cấp cho: {u.full_name} ·" for u in (world.delegate, world.delegate2))
    assert mark_one in text_one and mark_two not in text_one
    assert mark_two in text_two and mark_one not in text_two
    cached = sorted(storage.watermark_dir(app.config["STORAGE_PATH"], doc["id"]).glob("*.pdf"))
    assert len(cached) == 2
    # Asking again sends the cached copy: same bytes, same ETag, 304 on revalidation,
    # and no new file. Marking the cached file proves it is what gets sent.
    again = as_user("delegate").get(url)
    assert again.data == one.data and again.headers["ETag"] == one.headers["ETag"]
    assert as_user("delegate").get(url, headers={"If-None-Match": one.headers["ETag"]}).status_code == 304
    mine = next(p for p in cached if p.name.startswith(f"{world.delegate.id}-"))
    mine.write_bytes(mine.read_bytes() + b"\n% cached\n")
    assert as_user("delegate").get(url).data.endswith(b"% cached\n")
    assert len(sorted(storage.watermark_dir(app.config["STORAGE_PATH"], doc["id"]).glob("*.pdf"))) == 2
    # Ranges work on the stamped copy too.
    r = as_user("delegate2").get(url, headers={"Range": "bytes=0-7"})
    assert r.status_code == 206 and r.data == two.data[:8]


def test_new_marking_makes_new_copies(app, as_user, world, tmp_path):
    doc = _published(as_user, world, pdfs.simple_pdf(1), confidentiality="confidential")
    url = f"/api/v1/documents/{doc['id']}/file"
    as_user("delegate").get(url)
    r = as_user("secretary").patch(f"/api/v1/documents/{doc['id']}", json={"confidentiality": "top_secret"})
    assert r.status_code == 200
    assert list(storage.watermark_dir(app.config["STORAGE_PATH"], doc["id"]).glob("*.pdf")) == []
    (text,) = _pages_text_poppler(as_user("delegate").get(url).data, tmp_path)
    assert "TUYỆT MẬT" in text
    r = as_user("secretary").patch(f"/api/v1/documents/{doc['id']}", json={"confidentiality": "normal"})
    assert as_user("delegate").get(url).data == pdfs_blob(app, doc)


def pdfs_blob(app, doc) -> bytes:
    return storage.blob_path(app.config["STORAGE_PATH"], doc["sha256"]).read_bytes()


def test_who_may_download(as_user, world):
    sec = as_user("secretary")
    hidden = upload(sec, world.meeting.id, pdfs.simple_pdf(1), confidentiality="secret").json
    shown = _published(as_user, world, pdfs.simple_pdf(2))
    for who in ("delegate", "observer"):
        assert as_user(who).get(f"/api/v1/documents/{hidden['id']}/file").status_code == 404
        assert as_user(who).get(f"/api/v1/documents/{shown['id']}/file").status_code == 200
    assert as_user("outsider").get(f"/api/v1/documents/{shown['id']}/file").status_code == 404
    assert as_user(None).get(f"/api/v1/documents/{shown['id']}/file").status_code == 401
    assert as_user("delegate").get("/api/v1/documents/987654/file").status_code == 404
    # The secretariat and the chair see the unpublished one, stamped with their own names.
    for who in ("secretary", "chair"):
        r = as_user(who).get(f"/api/v1/documents/{hidden['id']}/file")
        assert r.status_code == 200
        text = "".join(_pages_text_pypdf(r.data))
        assert world.users[who].full_name in text and "TỐI MẬT" in text


def test_missing_blob_is_a_clear_503(app, as_user, world):
    doc = _published(as_user, world, pdfs.simple_pdf(1))
    storage.blob_path(app.config["STORAGE_PATH"], doc["sha256"]).unlink()
    r = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 503 and r.json["error"]["code"] == "file_missing"
    db.session.rollback()


def test_watermark_failure_is_a_clear_503_and_caches_nothing(app, as_user, world):
    doc = _published(as_user, world, pdfs.simple_pdf(1), confidentiality="confidential")
    app.config["PDF_CHECK_SECONDS"] = 0.001  # the stamping child cannot finish in time
    r = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 503 and r.json["error"]["code"] == "watermark_failed"
    assert list(storage.watermark_dir(app.config["STORAGE_PATH"], doc["id"]).glob("*")) == []
