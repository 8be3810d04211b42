"""Scans and the rest of the record: highlights carried over to a scanned version once its OCR is
ready, and the archive bag holding what delegates were delivered (the rendition) beside the signed upload.

Real parts: the scans are made as in tests/test_documents_ocr.py (ReportLab → pdftoppm → an
image-only PDF), tesseract reads them in the documents domain's OCR task, poppler's pdftotext
reads the bag's files, bagit validates the bag.
"""
from __future__ import annotations

import io
import json
import zipfile

import bagit
from sqlalchemy import select

from meetings.annotations.carryover import AWAITING
from meetings.annotations.models import Annotation
from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.documents import ocr
from meetings.documents.models import Document
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.annotation_helpers import highlight, ink, pdf_with_lines
from tests.factories import move_meeting
from tests.pdfs import new_version, upload
from tests.test_documents_ocr import KEY_WORDS, LINES, pdftotext, scan_pdf, signed_scan

API = "/api/v1"
# Quoted from the scan's text; OCR's small error rate spares these words (test_documents_ocr's key words).
QUOTE = {"exact": "Nghị quyết", "prefix": "xã hội ", "suffix": " về kế hoạch"}


def _signed(data: bytes) -> bytes:
    """``data`` with a signature field holding a value (as test_documents_ocr.signed_scan does)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    pdf = pikepdf.open(io.BytesIO(data))
    sig = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Sig, T=String("sig"),
                                       Rect=[0, 0, 0, 0], V=Dictionary(Type=Name.Sig, Contents=String(b"\0" * 16))))
    pdf.pages[0].obj.Annots = Array([sig])
    pdf.Root.AcroForm = Dictionary(Fields=Array([sig]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _row(document_id: int) -> Document:
    db.session.rollback()
    return db.session.get(Document, document_id, populate_existing=True)


def _annotation(annotation_id: str) -> Annotation:
    db.session.rollback()
    return db.session.get(Annotation, annotation_id, populate_existing=True)


def _highlight_on(client, document_id: int, **extra) -> dict:
    body = highlight(exact=QUOTE["exact"], prefix=QUOTE["prefix"], suffix=QUOTE["suffix"], **extra)
    r = client.post(f"{API}/documents/{document_id}/annotations", json=body)
    assert r.status_code == 201, r.json
    return r.json


def test_a_highlight_waits_for_the_new_scans_text_then_re_anchors(app, as_user, world):
    """v1 a text PDF with a highlight → v2 a scan: orphaned while its OCR runs, re-anchored once ready."""
    app.config["JOBS_IMMEDIATE"] = False  # the OCR runs when this test says, to see the state between
    sec, delegate = as_user("secretary"), as_user("delegate")
    v1 = upload(sec, world.meeting.id, pdf_with_lines([LINES]), published="true").json
    assert v1["text_layer"] == "text"
    marked = _highlight_on(delegate, v1["id"], visibility="meeting")  # shared: its moves are meeting events
    drawn = delegate.post(f"{API}/documents/{v1['id']}/annotations", json=ink()).json
    r = new_version(sec, v1["id"], scan_pdf(1))
    assert r.status_code == 201, r.json
    v2 = r.json
    assert v2["text_layer"] == "queued"
    # At replacement the scan has no text: nothing can anchor, everything waits for it, nothing lost.
    waiting = _annotation(marked["id"])
    assert (waiting.document_id, waiting.orphaned) == (v2["id"], True)
    assert waiting.geometry[AWAITING] is True and waiting.geometry["origin"] == {"document_id": v1["id"], "page": 1}
    assert _annotation(drawn["id"]).geometry[AWAITING] is True
    with app.app_context():
        assert ocr.make_text_layer(v2["id"]) == "ready"
    ready = _annotation(marked["id"])
    assert (ready.document_id, ready.page, ready.orphaned) == (v2["id"], 1, False)
    assert AWAITING not in ready.geometry and "origin" not in ready.geometry
    assert ready.geometry["needs_layout"] is True  # new layout (OCR's text): the client re-lays the rects
    assert ready.anchor["exact"] == QUOTE["exact"] and ready.anchor["start"] != 70
    # The ink has no text to follow: it stays orphaned (never lost), no longer waiting.
    still = _annotation(drawn["id"])
    assert still.orphaned is True and AWAITING not in still.geometry
    # The delegate hears of it (after the OCR's commit) and lists it on v2 as anchored.
    listed = {a["id"]: a for a in delegate.get(f"{API}/documents/{v2['id']}/annotations").json["annotations"]}
    assert listed[marked["id"]]["orphaned"] is False
    moved = db.session.scalars(select(MeetingEvent).where(MeetingEvent.type == "annotation.moved")
                               .order_by(MeetingEvent.seq)).all()
    assert [(e.data["annotation"]["id"], e.data["annotation"]["orphaned"]) for e in moved] == [
        (marked["id"], True), (marked["id"], False)]
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "annotations.carried_over")
                                .order_by(AuditEntry.id)).all()
    assert [a.details["moved"] for a in audits] == [[], [marked["id"]]]
    # A text layer made ready again (an operator's retry) finds nothing waiting and changes nothing.
    rev = ready.rev
    with app.app_context():
        session = db.session
        doc = session.get(Document, v2["id"])
        from meetings.platform.signals import document_text_ready

        document_text_ready.send(None, session=session, document=doc)
        session.commit()
    assert _annotation(marked["id"]).rev == rev


def test_a_highlight_on_a_ready_scan_follows_it_to_the_next_scan(app, as_user, world):
    """v1 a scan whose rendition is ready, highlighted on the rendition's text → v2 another scan."""
    app.config["JOBS_IMMEDIATE"] = True
    sec, delegate = as_user("secretary"), as_user("delegate")
    v1 = upload(sec, world.meeting.id, scan_pdf(1), published="true").json
    assert _row(v1["id"]).text_layer == "ready"
    marked = _highlight_on(delegate, v1["id"])  # the client quotes the rendition's text: accepted as is
    r = new_version(sec, v1["id"], scan_pdf(2))
    assert r.status_code == 201, r.json
    v2 = r.json
    assert _row(v2["id"]).text_layer == "ready"
    ready = _annotation(marked["id"])
    assert (ready.document_id, ready.page, ready.orphaned) == (v2["id"], 1, False)
    assert AWAITING not in ready.geometry


def test_the_bag_holds_the_rendition_and_keeps_the_signed_original(app, as_user, world, tmp_path):
    app.config["JOBS_IMMEDIATE"] = True
    sec = as_user("secretary")
    signed = signed_scan()
    plain = upload(sec, world.meeting.id, scan_pdf(1), filename="to-trinh.pdf", published="true").json
    kept = upload(sec, world.meeting.id, signed, filename="quyet-dinh-da-ky.pdf", published="true").json
    secret = upload(sec, world.meeting.id, _signed(scan_pdf(2)), filename="mat.pdf", published="true",
                    confidentiality="confidential").json
    assert kept["signed_original"] is True and secret["signed_original"] is True
    assert {_row(d["id"]).text_layer for d in (plain, kept, secret)} == {"ready"}
    with app.app_context():
        move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.secretary, "closed")
    r = sec.get(f"{API}/meetings/{world.meeting.id}/bundle")
    assert r.status_code == 200, r.data[:300]
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        zf.extractall(tmp_path / "bag")
    bag_dir = tmp_path / "bag" / f"meeting-{world.meeting.id}"
    bagit.Bag(str(bag_dir)).validate()
    docs = bag_dir / "data" / "documents"
    names = sorted(p.name for p in docs.iterdir())
    assert names == sorted([f"{plain['id']}-to-trinh.pdf", f"{kept['id']}-quyet-dinh-da-ky.pdf",
                            f"{kept['id']}-quyet-dinh-da-ky.original.pdf", f"{secret['id']}-mat.pdf"])
    # What delegates were delivered: the rendition, whose text pdftotext reads (diacritics included).
    for d in (plain, kept):
        words = pdftotext((docs / f"{d['id']}-{d['filename'][:-4]}.pdf").read_bytes(), tmp_path)
        assert [w for w in KEY_WORDS if w not in words] == [], words
    # The signed upload beside it, byte for byte, so its signature can still be verified.
    assert (docs / f"{kept['id']}-quyet-dinh-da-ky.original.pdf").read_bytes() == signed
    # A confidential signed scan: the stamped rendition only (no unstamped original leaves the server).
    stamped = pdftotext((docs / f"{secret['id']}-mat.pdf").read_bytes(), tmp_path)
    assert "Bản cấp cho: Người dùng secretary" in stamped and "Nghị quyết" in stamped
    meta = {d["id"]: d for d in json.loads((bag_dir / "data" / "meeting.json").read_text("utf-8"))["documents"]}
    assert meta[kept["id"]]["original_file"] == f"documents/{kept['id']}-quyet-dinh-da-ky.original.pdf"
    assert meta[kept["id"]]["served_sha256"] == _row(kept["id"]).ocr_sha256 != meta[kept["id"]]["original_sha256"]
    assert meta[plain["id"]]["original_file"] is None and meta[secret["id"]]["original_file"] is None
    readme = (bag_dir / "data" / "README.txt").read_text("utf-8")
    assert ".original.pdf" in readme and "OCR" in readme
