"""Scanned PDFs get a Vietnamese text layer by OCR (OCRmyPDF + tesseract vie) in the job queue.

The scans are made for real: a Vietnamese page composed with ReportLab and DejaVu Serif,
rendered to a 200 dpi image by poppler's pdftoppm, wrapped as an image-only PDF. Tesseract
reads it back; poppler's pdftotext checks what the delegate is served.
"""
from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
import unicodedata
from functools import lru_cache
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from sqlalchemy import select, text

from meetings.core.extensions import db
from meetings.core.fonts import register_fonts
from meetings.documents import ocr, storage
from meetings.documents.models import Document
from meetings.platform import jobs
from meetings.platform.audit.models import AuditEntry
from tests import pdfs
from tests.pdfs import new_version, upload

ROOT = Path(__file__).resolve().parents[1]
LINES = ["ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM", "Ủy ban nhân dân tỉnh Quảng Nam",
         "Báo cáo tình hình kinh tế – xã hội", "Nghị quyết về kế hoạch đầu tư công",
         "Hội đồng nhân dân tỉnh, kỳ họp thứ năm"]
KEY_WORDS = ["Quảng Nam", "Báo cáo", "kinh tế", "xã hội", "Nghị quyết", "đầu tư"]


@lru_cache(maxsize=4)
def scan_pdf(pages: int = 1) -> bytes:
    """An image-only PDF: each page a 200 dpi picture of Vietnamese text (no text layer)."""
    import tempfile

    font = register_fonts()
    with tempfile.TemporaryDirectory() as tmp:
        composed = Path(tmp) / "composed.pdf"
        c = canvas.Canvas(str(composed), pagesize=A4)
        for n in range(1, pages + 1):
            y = 760
            for line in LINES:
                c.setFont(font, 16)
                c.drawString(60, y, line)
                y -= 40
            c.drawString(60, y, f"Trang {n}")
            c.showPage()
        c.save()
        subprocess.run(["pdftoppm", "-r", "200", "-png", str(composed), f"{tmp}/page"], check=True)
        buf = io.BytesIO()
        scan = canvas.Canvas(buf, pagesize=A4)
        for png in sorted(Path(tmp).glob("page*.png")):
            scan.drawImage(ImageReader(str(png)), 0, 0, width=A4[0], height=A4[1])
            scan.showPage()
        scan.save()
        return buf.getvalue()


def signed_scan() -> bytes:
    """The scan with a signature field holding a value, as signing software leaves it."""
    pdf = pikepdf.open(io.BytesIO(scan_pdf(1)))
    sig = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Sig, T=String("sig"),
                                       Rect=[0, 0, 0, 0], V=Dictionary(Type=Name.Sig, Contents=String(b"\0" * 16))))
    pdf.pages[0].obj.Annots = Array([sig])
    pdf.Root.AcroForm = Dictionary(Fields=Array([sig]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pdftotext(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{hashlib.sha256(data).hexdigest()[:12]}.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return unicodedata.normalize("NFC", out.decode("utf-8"))


def _row(document_id: int) -> Document:
    db.session.rollback()
    return db.session.get(Document, document_id, populate_existing=True)


def _committed_layer(document_id: int) -> str | None:
    """What another connection sees: only what was committed."""
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT text_layer FROM documents WHERE id = :i"), {"i": document_id}).scalar()


def _listen(monkeypatch) -> list[tuple]:
    """Every broadcast as (name, room, data, the document's committed text layer at that moment)."""
    heard: list[tuple] = []

    def emit(name, data, to=None, **kw):
        if name == "event" and data.get("type") == ocr.TEXT_LAYER_EVENT or name == ocr.TEXT_LAYER_EVENT:
            payload = data["data"] if name == "event" else data
            heard.append((name, to, payload, _committed_layer(payload["document_id"])))

    monkeypatch.setattr("meetings.core.extensions.socketio.emit", emit)
    return heard


def _immediate(app) -> None:
    app.config["JOBS_IMMEDIATE"] = True


def test_a_scan_gets_its_vietnamese_text_layer_after_the_commit(app, as_user, world, monkeypatch, tmp_path):
    _immediate(app)
    heard = _listen(monkeypatch)
    data = scan_pdf(1)
    assert pdftotext(data, tmp_path).strip() == ""  # really a scan: no text at all
    r = upload(as_user("secretary"), world.meeting.id, data, published="true")
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["text_layer"] == "queued"  # the answer is made before the queue runs the OCR
    row = _row(doc["id"])
    assert row.text_layer == "ready" and row.ocr_error is None and row.ocr_sha256 not in (None, row.sha256)
    # Each change went out after its own commit, to the room (published) and to the managers.
    meeting = world.meeting.id
    assert [(n, to, d["text_layer"], seen) for n, to, d, seen in heard] == [
        ("event", f"meeting:{meeting}", "running", "running"),
        (ocr.TEXT_LAYER_EVENT, f"meeting:{meeting}:managers", "running", "running"),
        ("event", f"meeting:{meeting}", "ready", "ready"),
        (ocr.TEXT_LAYER_EVENT, f"meeting:{meeting}:managers", "ready", "ready"),
    ]
    assert heard[-1][2]["document_id"] == doc["id"] and heard[-1][2]["pages"] == 1
    # The delegate now gets the rendition: new ETag, the key words with their diacritics.
    c = as_user("delegate")
    served = c.get(doc["file_url"])
    assert served.status_code == 200 and served.headers["ETag"] == f'"{row.ocr_sha256}"'
    words = pdftotext(served.data, tmp_path)
    assert [w for w in KEY_WORDS if w not in words] == [], words
    # Same pages, same sizes: annotations placed on the scan keep their place on the rendition.
    before, after = PdfReader(io.BytesIO(data)), PdfReader(io.BytesIO(served.data))
    assert len(after.pages) == len(before.pages) == 1
    assert [tuple(map(float, p.mediabox)) for p in after.pages] == [tuple(map(float, p.mediabox)) for p in before.pages]
    # The disarmed copy and the original are untouched; the listing shows the state.
    stored = storage.blob_path(app.config["STORAGE_PATH"], row.sha256).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == row.sha256
    listed = as_user("secretary").get(f"/api/v1/meetings/{meeting}/documents").json
    assert [(d["text_layer"], d["ocr_error"]) for d in listed] == [("ready", None)]
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "document.ocr"))["ocr_sha256"] \
        == row.ocr_sha256


def test_a_text_pdf_is_not_ocred(app, as_user, world, monkeypatch):
    _immediate(app)
    queued: list = []
    monkeypatch.setattr(jobs, "enqueue", lambda *a, **k: queued.append(a))
    font = register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)  # text with a logo: an image, so the child's probe decides
    c.drawImage(ImageReader(io.BytesIO(_png())), 60, 700, width=80, height=80)
    c.setFont(font, 14)
    c.drawString(60, 650, "Báo cáo tình hình kinh tế – xã hội tỉnh Quảng Nam")
    c.showPage()
    c.save()
    for data in (pdfs.simple_pdf(2), buf.getvalue()):
        r = upload(as_user("secretary"), world.meeting.id, data, published="true")
        assert r.status_code == 201 and r.json["text_layer"] == "text", r.json
        served = as_user("delegate").get(r.json["file_url"])
        assert served.headers["ETag"] == f'"{r.json["sha256"]}"'
    assert queued == []


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_a_signed_scan_keeps_its_files_and_the_text_goes_into_a_rendition(app, as_user, world, tmp_path):
    _immediate(app)
    data = signed_scan()
    r = upload(as_user("secretary"), world.meeting.id, data, published="true")
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["signed_original"] is True and doc["sha256"] == doc["original_sha256"]  # nothing was removed
    row = _row(doc["id"])
    assert row.text_layer == "ready"
    root = app.config["STORAGE_PATH"]
    # Never rewritten: the stored file is the upload byte for byte, the original download too.
    assert storage.blob_path(root, row.sha256).read_bytes() == data
    assert as_user("secretary").get(doc["original_url"]).data == data
    assert row.sha256 == doc["sha256"] and row.ocr_sha256 != row.sha256
    assert "Quảng Nam" in pdftotext(as_user("delegate").get(doc["file_url"]).data, tmp_path)


def test_a_failing_ocr_is_marked_retried_with_backoff_and_the_scan_still_served(app, as_user, world, monkeypatch):
    _immediate(app)
    app.config.update(OCR_LANGUAGES="xyz", OCR_ATTEMPTS=2)
    heard = _listen(monkeypatch)
    data = scan_pdf(1)
    r = upload(as_user("secretary"), world.meeting.id, data)  # unpublished: only the managers hear
    assert r.status_code == 201, r.json
    doc_id = r.json["id"]
    row = _row(doc_id)
    assert row.text_layer == "failed" and "xyz" in row.ocr_error and row.ocr_sha256 is None
    assert {(n, to) for n, to, _, _ in heard} == {(ocr.TEXT_LAYER_EVENT, f"meeting:{world.meeting.id}:managers")}
    assert heard[-1][2]["text_layer"] == "failed" and "xyz" in heard[-1][2]["ocr_error"]
    # The second attempt waits in the schedule, after the queue's first back-off.
    assert jobs.pending_count(app) == (0, 1)
    (task,) = jobs.huey_for(app).scheduled()
    assert task.args == (doc_id, 2)
    served = as_user("secretary").get(r.json["file_url"])
    assert served.status_code == 200 and served.data == data  # still usable, as the scan
    listed = as_user("secretary").get(f"/api/v1/documents/{doc_id}").json
    assert listed["text_layer"] == "failed" and "xyz" in listed["ocr_error"]
    with app.app_context():
        assert ocr.make_text_layer(doc_id, 2) == "failed"  # the last attempt: nothing more is scheduled
        assert jobs.pending_count(app) == (0, 1)
        app.config["OCR_LANGUAGES"] = "vie+eng"  # an operator installs the language and retries
        assert ocr.make_text_layer(doc_id, 1) == "ready"
        assert ocr.make_text_layer(doc_id, 1) == "skipped"  # done: a stale retry changes nothing
    assert _row(doc_id).text_layer == "ready"


def test_confidential_scans_are_watermarked_on_the_rendition_and_versions_are_ocred(app, as_user, world,
                                                                                   tmp_path):
    _immediate(app)
    r = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1), published="true",
               confidentiality="confidential")
    assert r.status_code == 201 and r.json["text_layer"] == "text"
    r = new_version(as_user("secretary"), r.json["id"], scan_pdf(1))
    assert r.status_code == 201, r.json
    assert _row(r.json["id"]).text_layer == "ready"
    stamped = pdftotext(as_user("delegate").get(r.json["file_url"]).data, tmp_path)
    assert "Bản cấp cho: Người dùng delegate" in stamped and "Nghị quyết" in stamped


def test_the_sweep_queues_what_was_never_handed_over(app, as_user, world, monkeypatch):
    _immediate(app)

    def unreachable(*args, **kwargs):
        raise ConnectionError("queue storage down")

    monkeypatch.setattr(jobs, "enqueue", unreachable)
    r = upload(as_user("secretary"), world.meeting.id, scan_pdf(1), published="true")
    assert r.status_code == 201  # the upload commits although its hand-over failed
    monkeypatch.undo()
    assert _row(r.json["id"]).text_layer == "queued"
    with app.app_context():
        assert ocr.sweep() == 1
    assert _row(r.json["id"]).text_layer == "ready"


def test_ocr_off_leaves_scans_as_they_are(app, as_user, world):
    app.config["OCR_ENABLED"] = False
    r = upload(as_user("secretary"), world.meeting.id, scan_pdf(1))
    assert r.status_code == 201 and r.json["text_layer"] == "text"


def test_the_real_consumer_makes_the_text_layer(app, as_user, world, tmp_path):
    app.config["JOBS_SQLITE_PATH"] = str(tmp_path / "jobs.sqlite3")
    r = upload(as_user("secretary"), world.meeting.id, scan_pdf(2), published="true")
    assert r.status_code == 201 and r.json["text_layer"] == "queued"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBS_")}
    env.update({"DATABASE_URL": str(app.config["DATABASE_URL"]), "JOBS_SQLITE_PATH": app.config["JOBS_SQLITE_PATH"],
                "STORAGE_PATH": app.config["STORAGE_PATH"], "INSTANCE_PATH": str(tmp_path / "consumer"),
                "SECRET_KEY": "consumer", "JOBS_POLL_SECONDS": "0.1", "JOBS_WORKERS": "1", "LOG_LEVEL": "WARNING"})
    log = open(tmp_path / "consumer.log", "w")  # noqa: SIM115 (the child writes to it)
    consumer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while _committed_layer(r.json["id"]) != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    assert _committed_layer(r.json["id"]) == "ready", (tmp_path / "consumer.log").read_text()[-3000:]
    assert "Trang 2" in pdftotext(as_user("delegate").get(r.json["file_url"]).data, tmp_path)
