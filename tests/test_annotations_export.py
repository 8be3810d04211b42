"""Exports (native PDF annotations checked with pypdf and poppler; W3C JSON-LD) and carry-over."""
from __future__ import annotations

import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from meetings.annotations import carryover, export
from meetings.core.errors import Invalid
from meetings.core.extensions import db
from tests.annotation_helpers import PAGE_TEXTS, add_doc, arrow, highlight, ink, note, pdf_with_lines, rect
from tests.tools import require_tool

API = "/api/v1"


@pytest.fixture
def doc(app, world):
    return add_doc(db.session, app, world.meeting, world.secretary)


@pytest.fixture
def annotated(as_user, doc):
    """delegate: five private annotations of every kind; delegate2: one shared note, one private ink."""
    mine = {"ink": ink(page=1), "highlight": highlight(page=1),
            "note": note(page=2, text="Đề nghị bổ sung số liệu quý IV"), "rect": rect(page=3), "arrow": arrow(page=3)}
    for body in mine.values():
        assert as_user("delegate").post(f"{API}/documents/{doc.id}/annotations", json=body).status_code == 201
    shared = note(page=2, visibility="meeting", text="Ý kiến chung của tổ")
    theirs = ink(page=1, color="#00ff00")
    for body in (shared, theirs):
        assert as_user("delegate2").post(f"{API}/documents/{doc.id}/annotations", json=body).status_code == 201
    return mine, shared, theirs


def _annots(pdf: bytes) -> list[tuple[int, str, dict]]:
    reader = PdfReader(io.BytesIO(pdf))
    out = []
    for n, page in enumerate(reader.pages, start=1):
        for ref in page.get("/Annots") or []:
            a = ref.get_object()
            out.append((n, a["/Subtype"], a))
    return out


def _poppler(pdf: bytes, tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    info = subprocess.run(["/usr/bin/pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+3$", info, re.M), info
    text = subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    return text


def _render_page(pdf: bytes, tmp_path, name: str):
    from PIL import Image

    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["/usr/bin/pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / name)],
                   check=True, capture_output=True)
    [png] = tmp_path.glob(f"{name}-*.png")
    return Image.open(png).convert("RGB")


def test_annotated_pdf_holds_native_annotations(as_user, world, doc, annotated, tmp_path):
    mine, shared, theirs = annotated
    r = as_user("delegate").get(f"{API}/documents/{doc.id}/annotated")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Cache-Control"] == "private, no-store"
    found = _annots(r.data)
    by_id = {str(a["/NM"]): (page, subtype, a) for page, subtype, a in found}
    assert set(by_id) == {b["id"] for b in mine.values()}  # own only: not the shared, never another's private
    expect = {"ink": (1, "/Ink"), "highlight": (1, "/Highlight"), "note": (2, "/Text"),
              "rect": (3, "/Square"), "arrow": (3, "/Line")}
    for kind, body in mine.items():
        page, subtype, a = by_id[body["id"]]
        assert (page, subtype) == expect[kind], kind
        assert a["/T"] == "Người dùng delegate"
        assert str(a["/M"]).startswith("D:20") and str(a["/CreationDate"]).startswith("D:20")
        assert "/N" in a["/AP"]
    assert by_id[mine["note"]["id"]][2]["/Contents"] == "Đề nghị bổ sung số liệu quý IV"
    assert by_id[mine["highlight"]["id"]][2]["/Contents"] == "Mục tiêu tăng trưởng"
    ink_annot = by_id[mine["ink"]["id"]][2]
    assert [round(float(v)) for v in ink_annot["/InkList"][0]] == [100, 500, 150, 520, 200, 510]
    assert [round(float(v), 2) for v in by_id[mine["arrow"]["id"]][2]["/L"]] == [100, 200, 250, 260]
    # Poppler opens it, and the document's own text is intact.
    assert "Mục tiêu tăng trưởng" in _poppler(r.data, tmp_path, "annotated.pdf")


def test_poppler_draws_the_annotations(app, as_user, doc, annotated, tmp_path):
    plain = as_user("delegate").get(f"{API}/documents/{doc.id}/annotated", query_string={"include": "own"})
    original = PdfReader(io.BytesIO(plain.data))
    assert len(original.pages) == 3
    from meetings.annotations.export import document_file

    with open(document_file(doc, app.config), "rb") as fh:
        before = _render_page(fh.read(), tmp_path, "before")
    after = _render_page(plain.data, tmp_path, "after")
    height = after.height
    # The red ink stroke passes through (150, 520) in PDF space: y grows upwards there.
    red = [after.getpixel((x, height - y)) for x in range(148, 153) for y in range(517, 524)]
    assert any(r > 200 and g < 80 and b < 80 for r, g, b in red)
    assert before.getpixel((150, height - 520)) == (255, 255, 255)


def test_include_shared_adds_only_what_the_caller_may_see(as_user, doc, annotated):
    mine, shared, theirs = annotated
    r = as_user("delegate").get(f"{API}/documents/{doc.id}/annotated", query_string={"include": "shared"})
    ids = {str(a["/NM"]) for _, _, a in _annots(r.data)}
    assert ids == {b["id"] for b in mine.values()} | {shared["id"]}
    assert theirs["id"] not in ids
    r = as_user("chair").get(f"{API}/documents/{doc.id}/annotated", query_string={"include": "shared"})
    found = _annots(r.data)
    assert [(str(a["/NM"]), a["/T"]) for _, _, a in found] == [(shared["id"], "Người dùng delegate2")]
    assert as_user("chair").get(f"{API}/documents/{doc.id}/annotated",
                                query_string={"include": "all"}).status_code == 422
    assert as_user("outsider").get(f"{API}/documents/{doc.id}/annotated").status_code == 404
    assert as_user(None).get(f"{API}/documents/{doc.id}/annotated").status_code == 401


def test_web_annotation_jsonld(as_user, doc, annotated):
    mine, shared, theirs = annotated
    r = as_user("delegate").get(f"{API}/documents/{doc.id}/annotations.jsonld")
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    data = r.json
    assert data["type"] == "AnnotationCollection" and data["total"] == 5
    items = {i["id"]: i for i in data["first"]["items"]}
    assert set(items) == {f"urn:uuid:{b['id']}" for b in mine.values()}
    hl = items[f"urn:uuid:{mine['highlight']['id']}"]
    assert hl["motivation"] == "highlighting" and hl["@context"] == "http://www.w3.org/ns/anno.jsonld"
    selectors = {s["type"]: s for s in hl["target"]["selector"]}
    assert selectors["TextQuoteSelector"] == {"type": "TextQuoteSelector", "exact": "Mục tiêu tăng trưởng",
                                              "prefix": "Điều 1. ", "suffix": " bền vững"}
    assert selectors["TextPositionSelector"]["start"] == 70
    assert selectors["FragmentSelector"]["value"] == "page=1"
    n = items[f"urn:uuid:{mine['note']['id']}"]
    assert n["body"][0]["value"] == "Đề nghị bổ sung số liệu quý IV"
    assert n["creator"]["name"] == "Người dùng delegate"
    # Another user's export holds only their own annotations.
    other = as_user("delegate2").get(f"{API}/documents/{doc.id}/annotations.jsonld").json
    assert {i["id"] for i in other["first"]["items"]} == {f"urn:uuid:{shared['id']}", f"urn:uuid:{theirs['id']}"}


def test_text_extraction_runs_in_a_child_and_refuses_junk(app, doc, tmp_path):
    pages = export.extract_text_by_page(export.document_file(doc, app.config), app.config)
    assert len(pages) == 3 and "Giải pháp đầu tư công" in pages[1]
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nthis is not a pdf at all")
    with pytest.raises(Invalid) as err:
        export.extract_text_by_page(junk, app.config)
    assert err.value.code == "pdf_failed"


def test_carry_over_to_a_new_version(app, as_user, world, doc):
    from meetings.documents.service import replace_document

    d1 = as_user("delegate")
    kept = highlight(page=1, exact="Mục tiêu tăng trưởng", visibility="meeting")
    on_kept = note(page=1, target_id=kept["id"], text="Ghi chú trên đoạn đánh dấu")
    gone = highlight(page=2, exact="Ngân sách tỉnh bố trí vốn đối ứng", prefix="", suffix="")
    drawn_p3 = ink(page=3)
    drawn_p2 = ink(page=2)
    for body in (kept, on_kept, gone, drawn_p3, drawn_p2):
        assert d1.post(f"{API}/documents/{doc.id}/annotations", json=body).status_code == 201
    # v2: a cover page in front, page 2's budget sentence rewritten, page 3 unchanged (now page 4).
    v2_pages = [["Trang bìa: Tờ trình của Ủy ban"], PAGE_TEXTS[0],
                ["Điều 2. Giải pháp đầu tư công trọng điểm", "Vốn được điều chỉnh theo tiến độ"], PAGE_TEXTS[2]]
    # The annotations domain carries over from the document_replaced signal, in the same transaction.
    with app.app_context():  # the receiver reads the app's settings (storage, child-process limits)
        new = replace_document(db.session, db.session.merge(doc), db.session.merge(world.secretary),
                               pdf_with_lines(v2_pages), filename="v2.pdf", storage_path=app.config["STORAGE_PATH"])
        db.session.commit()
    from sqlalchemy import select

    from meetings.platform.audit.models import AuditEntry

    [result] = db.session.execute(select(AuditEntry.details).where(
        AuditEntry.action == "annotations.carried_over", AuditEntry.object_id == new.id)).scalars()
    assert set(result["moved"]) == {kept["id"], on_kept["id"], drawn_p3["id"]}
    assert set(result["orphaned"]) == {gone["id"], drawn_p2["id"]}
    listed = {a["id"]: a for a in d1.get(f"{API}/documents/{new.id}/annotations").json["annotations"]}
    assert set(listed) == {b["id"] for b in (kept, on_kept, gone, drawn_p3, drawn_p2)}  # never silently lost
    assert (listed[kept["id"]]["page"], listed[kept["id"]]["orphaned"]) == (2, False)
    assert listed[kept["id"]]["version"] == 2
    start, end = listed[kept["id"]]["anchor"]["start"], listed[kept["id"]]["anchor"]["end"]
    assert end - start == len("Mục tiêu tăng trưởng")
    assert listed[on_kept["id"]]["page"] == 2
    assert (listed[drawn_p3["id"]]["page"], listed[drawn_p3["id"]]["orphaned"]) == (4, False)
    assert listed[gone["id"]]["orphaned"] is True
    assert listed[gone["id"]]["geometry"]["origin"] == {"document_id": doc.id, "page": 2}
    assert listed[drawn_p2["id"]]["orphaned"] is True
    assert d1.get(f"{API}/documents/{doc.id}/annotations").json["annotations"] == []
    # Orphans stay out of the PDF (their place means nothing there); the rest is drawn where it moved.
    r = d1.get(f"{API}/documents/{new.id}/annotated")
    pages = {str(a["/NM"]): page for page, _, a in _annots(r.data)}
    assert pages == {kept["id"]: 2, on_kept["id"]: 2, drawn_p3["id"]: 4}
    # The JSON-LD export keeps every one, orphans flagged.
    items = d1.get(f"{API}/documents/{new.id}/annotations.jsonld").json["first"]["items"]
    assert {i["id"] for i in items if i.get("meetings:orphaned")} == {f"urn:uuid:{gone['id']}",
                                                                      f"urn:uuid:{drawn_p2['id']}"}
    assert len(items) == 5
    # The shared highlight's move was announced to the meeting; the private ones were not.
    from meetings.platform.realtime.models import MeetingEvent

    moved = db.session.execute(select(MeetingEvent).where(MeetingEvent.type == "annotation.moved")).scalars().all()
    assert [e.data["annotation"]["id"] for e in moved] == [kept["id"]]


def test_find_anchor_prefers_context_then_the_old_page():
    pages = ["Điều 1. tiêu đề chung", "Khoản 2. tiêu đề chung và Điều 1. tiêu đề chung"]
    anchor = {"exact": "tiêu đề chung", "prefix": "Điều 1. ", "suffix": ""}
    assert carryover.find_anchor(anchor, pages, old_page=2)[0] == 2
    assert carryover.find_anchor(anchor, pages, old_page=1)[0] == 1
    # Whitespace and Unicode normalisation differ between extractions: still found.
    decomposed = "tie\u0302u đe\u0302\u0300   chung"
    assert carryover.find_anchor({"exact": decomposed}, pages, old_page=1)[0] == 1
    assert carryover.find_anchor({"exact": "không có"}, pages, old_page=1) is None


def test_document_routes_record_receipts_and_carry_annotations_over(as_user, world, doc):
    """Through the documents domain's own routes: serving the file records the opening,
    replacing the file carries the annotations over."""
    from tests.pdfs import new_version

    d1 = as_user("delegate")
    assert d1.get(f"{API}/documents/{doc.id}/file").status_code == 200
    receipts = as_user("chair").get(f"{API}/meetings/{world.meeting.id}/read-receipts").json
    opened = {p["user_id"] for p in receipts[0]["participants"] if p["opened"]}
    assert opened == {world.delegate.id}
    body = highlight(page=3, exact="Tổ chức thực hiện nghị quyết", prefix="Điều 3. ", suffix="")
    assert d1.post(f"{API}/documents/{doc.id}/annotations", json=body).status_code == 201
    r = new_version(as_user("secretary"), doc.id, pdf_with_lines([PAGE_TEXTS[2], PAGE_TEXTS[0]]))
    assert r.status_code == 201, r.json
    [moved] = d1.get(f"{API}/documents/{r.json['id']}/annotations").json["annotations"]
    assert (moved["id"], moved["page"], moved["orphaned"]) == (body["id"], 1, False)


PDFJS_SCRIPT = """
// Node 20 lacks Promise.withResolvers, which pdf.js 6 uses; define it before loading pdf.js.
Promise.withResolvers ??= function () {
  let resolve, reject;
  const promise = new Promise((a, b) => { resolve = a; reject = b; });
  return { promise, resolve, reject };
};
const { getDocument } = await import(process.argv[2]);
const { readFileSync } = await import("node:fs");
const doc = await getDocument({ data: new Uint8Array(readFileSync(process.argv[3])), verbosity: 0 }).promise;
const out = [];
for (let n = 1; n <= doc.numPages; n++) {
  for (const a of await (await doc.getPage(n)).getAnnotations()) {
    out.push({ page: n, subtype: a.subtype, title: a.titleObj?.str, contents: a.contentsObj?.str,
               hasAppearance: a.hasAppearance });
  }
}
console.log(JSON.stringify(out));
"""


def test_pdfjs_reads_the_exported_annotations(as_user, doc, annotated, tmp_path):
    """PDF.js (the viewer tablets use, from node_modules) finds every annotation, its author and text."""
    import json
    from pathlib import Path

    pdfjs = Path(__file__).resolve().parent.parent / "node_modules/pdfjs-dist/legacy/build/pdf.mjs"
    require_tool("node", install="nodejs")
    require_tool("pdfjs-dist", present=pdfjs.exists(), install="it with `make node`")
    mine, _, _ = annotated
    pdf = tmp_path / "annotated.pdf"
    pdf.write_bytes(as_user("delegate").get(f"{API}/documents/{doc.id}/annotated").data)
    script = tmp_path / "read.mjs"
    script.write_text(PDFJS_SCRIPT)
    done = subprocess.run(["node", str(script), pdfjs.as_uri(), str(pdf)], capture_output=True, text=True,
                          timeout=120, check=True)
    found = json.loads(done.stdout)
    assert sorted((a["page"], a["subtype"]) for a in found) == [
        (1, "Highlight"), (1, "Ink"), (2, "Text"), (3, "Line"), (3, "Square")]
    assert {a["title"] for a in found} == {"Người dùng delegate"}
    assert all(a["hasAppearance"] for a in found)
    assert {a["contents"] for a in found if a["subtype"] == "Text"} == {mine["note"]["text"]}
