"""Office uploads: real LibreOffice converts them in its sandbox; hostile ones leave nothing behind.

Uploads go through the real REST API (tests/pdfs.py ``upload``); the PDFs made are read
back with pdftotext, pdfimages and pdffonts (poppler-utils).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from meetings.core.extensions import db
from meetings.documents import convert
from meetings.documents.models import Document
from meetings.platform.audit.models import AuditEntry
from tests import office_files as office
from tests import pdfs
from tests.pdfs import new_version, stored_files, upload
from tests.tools import require_tool


@pytest.fixture(scope="module", autouse=True)
def libreoffice():
    require_tool("soffice", install="libreoffice-writer-nogui (make system-packages)")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "got.pdf"
    path.write_bytes(data)
    return _flat(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                check=True).stdout)


def _poppler(tool: str, data: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{tool}.pdf"
    path.write_bytes(data)
    return subprocess.run([tool, *(["-list"] if tool == "pdfimages" else []), str(path)], capture_output=True,
                          text=True, check=True).stdout


def _count(model) -> int:
    n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    db.session.rollback()
    return n


def _leftover_sandboxes() -> list[str]:
    return [p.name for p in Path("/tmp").glob("meetings-office-*")]


def _soffice_processes() -> list[str]:
    """LibreOffice processes started by our sandbox (their profile is in a meetings-office-* folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"meetings-office-" in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _assert_nothing_stored(app, as_user, world) -> None:
    assert _count(Document) == 0
    assert stored_files(app.config["STORAGE_PATH"]) == []  # no blob, no temporary file
    assert db.session.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("document.%"))
    ).scalar_one() == 0
    db.session.rollback()
    assert _leftover_sandboxes() == [] and _soffice_processes() == []
    r = as_user("secretary").get(f"/api/v1/meetings/{world.meeting.id}/documents")
    assert r.status_code == 200 and r.json == []


def _blob_exists(app, sha: str) -> bool:
    return (Path(app.config["STORAGE_PATH"]) / "blobs" / sha[:2] / sha[2:4] / f"{sha}.pdf").is_file()


# ---------------------------------------------------------------- real conversions


def test_word_file_with_vietnamese_text_a_table_and_a_picture(app, as_user, world, tmp_path):
    data = office.docx_vietnamese(pages=2)
    r = upload(as_user("secretary"), world.meeting.id, data, "Nghị quyết kinh tế.docx")
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["pages"] == 2
    assert doc["filename"] == "Nghị quyết kinh tế.pdf" and doc["title"] == "Nghị quyết kinh tế"
    assert doc["source_format"] == "docx" and doc["source_filename"] == "Nghị quyết kinh tế.docx"
    assert doc["source_url"] == f"/api/v1/documents/{doc['id']}/source"
    pdf = as_user("secretary").get(doc["file_url"]).data
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf, tmp_path)
    for words in (office.UBND, office.NGHI_QUYET, "Tăng trưởng GRDP", "12.500 tỷ đồng", "Trang 2: Điều 2."):
        assert words in text
    assert len(_poppler("pdfimages", pdf, tmp_path).splitlines()) >= 3  # header, rule, the picture
    assert "LiberationSerif" in _poppler("pdffonts", pdf, tmp_path)  # Times New Roman's metrics
    # The Word file is kept as received (content-addressed), beside the PDF made from it.
    row = db.session.get(Document, doc["id"])
    assert row.source_sha256 == hashlib.sha256(data).hexdigest() and _blob_exists(app, row.source_sha256)
    assert _blob_exists(app, row.original_sha256) and _blob_exists(app, row.sha256)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "document.upload")).scalar_one()
    assert entry.details["source_sha256"] == row.source_sha256 and entry.details["source_format"] == "docx"
    assert _leftover_sandboxes() == [] and _soffice_processes() == []


def test_workbook_of_two_sheets_and_a_presentation(app, as_user, world, tmp_path):
    r = upload(as_user("secretary"), world.meeting.id, office.xlsx_two_sheets(), "Dự toán ngân sách.xlsx")
    assert r.status_code == 201, r.json
    assert r.json["pages"] == 2 and r.json["source_format"] == "xlsx"
    text = _pdf_text(as_user("secretary").get(r.json["file_url"]).data, tmp_path)
    assert "Thuế thu nhập doanh nghiệp" in text and "Đường tỉnh 725" in text
    r = upload(as_user("secretary"), world.meeting.id, office.pptx_slides(3), "Báo cáo.pptx")
    assert r.status_code == 201, r.json
    assert r.json["pages"] == 3 and r.json["title"] == "Báo cáo"
    text = _pdf_text(as_user("secretary").get(r.json["file_url"]).data, tmp_path)
    assert "Báo cáo tình hình kinh tế – xã hội, phần 3" in text and "Hội đồng nhân dân" in text


def test_office_97_files_are_sniffed_and_converted(app, as_user, world, tmp_path):
    """A real .doc (OLE2, made by LibreOffice from the Word file) converts; zip bytes named .doc do not."""
    src = tmp_path / "src.docx"
    src.write_bytes(office.docx_vietnamese(1))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "doc", "--outdir", str(tmp_path), str(src)], capture_output=True, check=True, timeout=120)
    legacy = (tmp_path / "src.doc").read_bytes()
    assert legacy.startswith(b"\xd0\xcf\x11\xe0")
    r = upload(as_user("secretary"), world.meeting.id, legacy, "Tờ trình.doc")
    assert r.status_code == 201, r.json
    assert r.json["source_format"] == "doc" and office.UBND in _pdf_text(
        as_user("secretary").get(r.json["file_url"]).data, tmp_path)
    r = upload(as_user("secretary"), world.meeting.id, office.docx_vietnamese(1), "Đổi tên.doc")
    assert (r.status_code, r.json["error"]["code"]) == (422, "corrupt_office_file")


# ---------------------------------------------------------------- refusals


REFUSED = {
    "macro_vba_project": (office.docx_with_macro, "Có macro.docx", 422, "macro_refused"),
    "docm_renamed_docx": (office.docm_renamed, "Đổi đuôi.docx", 422, "macro_refused"),
    "docm_by_name": (lambda: office.docx_vietnamese(1), "Có macro.docm", 422, "macro_refused"),
    "odt_basic_library": (office.odt_with_basic, "Văn bản.odt", 422, "macro_refused"),
    "corrupted": (office.corrupted_docx, "Hỏng.docx", 422, "corrupt_office_file"),
    "truncated": (office.truncated_docx, "Cụt.docx", 422, "corrupt_office_file"),
    "not_a_zip": (lambda: b"<html>Not Word</html>", "Giả.docx", 422, "corrupt_office_file"),
    "zip_bomb": (lambda: office.zip_bomb_docx(64), "Bom.docx", 422, "zip_bomb"),
    "unsupported": (lambda: b"MZ\x90\x00program", "Chương trình.exe", 415, "unsupported_type"),
}


def test_hostile_office_files_are_refused_and_leave_nothing(app, as_user, world):
    for case, (build, name, status, code) in REFUSED.items():
        r = upload(as_user("secretary"), world.meeting.id, build(), name)
        assert (case, r.status_code, r.json["error"]["code"]) == (case, status, code), r.json
        assert r.json["error"]["message"]
        _assert_nothing_stored(app, as_user, world)


def test_zip_bomb_over_the_uncompressed_limit(app, as_user, world):
    app.config["OFFICE_MAX_UNCOMPRESSED_MB"] = 8
    r = upload(as_user("secretary"), world.meeting.id, office.zip_bomb_docx(12), "Bom nhỏ.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "zip_bomb")
    assert "8 MB" in r.json["error"]["message"]
    _assert_nothing_stored(app, as_user, world)


def test_a_conversion_over_its_time_limit_is_killed(app, as_user, world):
    app.config["OFFICE_CONVERT_SECONDS"] = 1  # LibreOffice needs more than that just to start
    r = upload(as_user("secretary"), world.meeting.id, office.docx_vietnamese(1), "Chậm.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "conversion_timeout")
    _assert_nothing_stored(app, as_user, world)  # the process group is gone, its folder removed


def test_the_sandbox_seen_from_inside(app, as_user, world, tmp_path, monkeypatch):
    """A stand-in for soffice reports what it sees: a clean environment, limits, no network,
    a private profile that disables macros, a fixed input name; then fails (conversion_failed)."""
    monkeypatch.setenv("SECRET_KEY", "sekrit-of-the-server")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/x")
    report = tmp_path / "report"
    fake = tmp_path / "soffice"
    fake.write_text(f"""#!/bin/sh
{{ echo "ARGS $*"; env | sed 's/^/ENV /'; echo "AS $(ulimit -v)"; echo "CPU $(ulimit -t)"; echo "FSIZE $(ulimit -f)"
  tail -n +3 /proc/net/dev | sed 's/^ */NET /'; echo "PGID $(ps -o pgid= -p $$) SID $(ps -o sid= -p $$)"
  for a in "$@"; do case "$a" in -env:UserInstallation=file://*)
    cat "${{a#-env:UserInstallation=file://}}/user/registrymodifications.xcu";; esac; done
}} > {report} 2>&1
exit 3
""")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    app.config["SOFFICE_PATH"] = str(fake)
    app.config["OFFICE_CONVERT_MEMORY_MB"] = 1536
    r = upload(as_user("secretary"), world.meeting.id, office.docx_vietnamese(1), "Tờ trình; rm -rf ~.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "conversion_failed")
    assert r.json["error"]["details"]["cause"] == "converter_failed"  # the page says which failure it was
    seen = report.read_text()
    assert "sekrit" not in seen and "DATABASE_URL" not in seen and "ENV SECRET_KEY" not in seen
    env = {line[4:].split("=", 1)[0] for line in seen.splitlines() if line.startswith("ENV ")}
    assert env <= {"PATH", "LC_ALL", "LANG", "HOME", "TMPDIR", "SAL_USE_VCLPLUGIN", "PWD", "SHLVL", "_", "OLDPWD"}
    assert f"AS {1536 * 1024}" in seen and "CPU 120" in seen and "FSIZE unlimited" not in seen
    if convert.network_jail():
        assert [line.split(":")[0] for line in seen.splitlines() if line.startswith("NET ")] == ["NET lo"]
    assert '"MacroSecurityLevel" oor:op="fuse"><value>3<' in seen
    assert '"DisableMacrosExecution" oor:op="fuse"><value>true<' in seen
    args = next(line for line in seen.splitlines() if line.startswith("ARGS "))
    assert "--headless" in args and args.endswith("/in/document.docx") and "rm -rf" not in args
    _assert_nothing_stored(app, as_user, world)


# ---------------------------------------------------------------- the source file


def test_the_source_is_for_the_secretariat_only(app, as_user, world):
    data = office.docx_vietnamese(1)
    doc = upload(as_user("secretary"), world.meeting.id, data, "Tờ trình.docx", published="true").json
    r = as_user("secretary").get(doc["source_url"])
    assert r.status_code == 200 and r.data == data
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "attachment" in r.headers["Content-Disposition"] and ".docx" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "private, no-store" and r.headers["X-Content-Type-Options"] == "nosniff"
    r = as_user("delegate").get(doc["source_url"])
    assert (r.status_code, r.json["error"]["code"]) == (403, "forbidden")
    assert as_user("delegate").get(doc["file_url"]).status_code == 200  # the PDF is theirs to read
    assert as_user("outsider").get(doc["source_url"]).status_code == 404
    plain = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1), "Phụ lục.pdf").json
    assert plain["source_url"] is None and plain["source_format"] is None
    r = as_user("secretary").get(f"/api/v1/documents/{plain['id']}/source")
    assert (r.status_code, r.json["error"]["code"]) == (404, "no_source")


def test_each_version_keeps_its_own_source(app, as_user, world, tmp_path):
    secretary = as_user("secretary")
    first_data, second_data = office.docx_vietnamese(1), office.docx_vietnamese(2)
    first = upload(secretary, world.meeting.id, first_data, "Dự thảo.docx").json
    second = new_version(secretary, first["id"], second_data, "Dự thảo lần 2.docx")
    assert second.status_code == 201, second.json
    second = second.json
    assert (second["version"], second["pages"], second["filename"]) == (2, 2, "Dự thảo lần 2.pdf")
    assert second["source_filename"] == "Dự thảo lần 2.docx"
    assert secretary.get(second["source_url"]).data == second_data
    assert secretary.get(first["source_url"]).data == first_data  # the old version's own source
    third = new_version(secretary, second["id"], pdfs.simple_pdf(1), "Bản cuối.pdf").json
    assert third["version"] == 3 and third["source_url"] is None
    assert secretary.get(second["source_url"]).data == second_data
    # A refused new version changes nothing.
    before = stored_files(app.config["STORAGE_PATH"])
    r = new_version(secretary, third["id"], office.docx_with_macro(), "Có macro.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "macro_refused")
    assert stored_files(app.config["STORAGE_PATH"]) == before and _count(Document) == 3


def test_a_pdf_named_docx_is_taken_as_a_pdf(app, as_user, world):
    r = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(2), "Thực ra là PDF.docx")
    assert r.status_code == 201 and r.json["source_url"] is None and r.json["pages"] == 2


# ---------------------------------------------------------------- the checks alone (no LibreOffice)


def _check(tmp_path: Path, data: bytes, ext: str, **limits):
    from meetings.documents.office_check import OfficeLimits, check_file

    path = tmp_path / f"f.{ext}"
    path.write_bytes(data)
    return check_file(str(path), ext, OfficeLimits(**limits))


def _refused(tmp_path: Path, data: bytes, ext: str, **limits) -> str:
    from meetings.documents.office_check import Refused

    with pytest.raises(Refused) as err:
        _check(tmp_path, data, ext, **limits)
    return err.value.code


def test_office_checks(tmp_path):
    assert _check(tmp_path, office.docx_vietnamese(1), "docx")["kind"] == "ooxml"
    assert _check(tmp_path, office.xlsx_two_sheets(), "xlsx")["members"] > 5
    assert _refused(tmp_path, office.many_parts_docx(50), "docx", max_members=40) == "zip_bomb"
    assert _refused(tmp_path, office.zip_bomb_docx(20), "docx") == "zip_bomb"  # the ratio
    assert _refused(tmp_path, office.zip_bomb_docx(20), "docx", max_ratio=10**6,
                    max_uncompressed=10 * 1024 * 1024) == "zip_bomb"  # the total
    # Headers that understate the size do not help: what is decompressed is counted (or the part is damaged).
    assert _refused(tmp_path, office.lying_zip_bomb(40), "docx", max_ratio=10**6,
                    max_uncompressed=10 * 1024 * 1024) in ("zip_bomb", "corrupt_office_file")
    # A bomb inside a document (an embedded workbook) counts in the same budget.
    nested = office.rewrite_zip(office.docx_vietnamese(1), add={
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": office.zip_bomb_docx(20)})
    assert _refused(tmp_path, nested, "docx", max_ratio=10**6, max_uncompressed=10 * 1024 * 1024) == "zip_bomb"
    macro_inside = office.rewrite_zip(office.docx_vietnamese(1), add={
        "word/embeddings/oleObject1.xlsx": office.docx_with_macro()})
    assert _refused(tmp_path, macro_inside, "docx") == "macro_refused"
    sheets = office.rewrite_zip(office.xlsx_two_sheets(), add={"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"})
    assert _refused(tmp_path, sheets, "xlsx") == "macro_refused"
    assert _refused(tmp_path, b"{\\rtf1 Ok}", "docx") == "corrupt_office_file"
    assert _check(tmp_path, b"{\\rtf1\\ansi Uy ban}", "rtf")["kind"] == "rtf"
    assert _refused(tmp_path, b"PK\x03\x04", "rtf") == "corrupt_office_file"
    assert _refused(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "xls") == "corrupt_office_file"
    assert _refused(tmp_path, b"", "odt") == "empty"
    zip_only = io.BytesIO()
    with zipfile.ZipFile(zip_only, "w") as zf:
        zf.writestr("readme.txt", b"hello")
    assert _refused(tmp_path, zip_only.getvalue(), "docx") == "corrupt_office_file"
    assert _refused(tmp_path, zip_only.getvalue(), "odp") == "corrupt_office_file"


def test_network_is_cut_where_the_kernel_allows(tmp_path):
    if os.geteuid() == 0:  # as root (CI, this machine) unshare always works
        assert convert.network_jail()[-2:] == ("--net", "--")


def test_the_pdf_made_goes_through_the_pdf_intake(app, as_user, world):
    """The same checks as an uploaded PDF (here the page limit), after the conversion."""
    app.config["MAX_PDF_PAGES"] = 1
    r = upload(as_user("secretary"), world.meeting.id, office.docx_vietnamese(2), "Hai trang.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "too_many_pages")
    _assert_nothing_stored(app, as_user, world)


def test_the_wall_clock_kill_takes_the_whole_process_group(app, as_user, world, tmp_path):
    """A stand-in for soffice that hangs and leaves a helper behind (as soffice.bin would):
    both are gone once the time limit passed."""
    fake = tmp_path / "soffice"
    fake.write_text('#!/bin/sh\nsh -c "sleep 60; :" helper "$@" >/dev/null 2>&1 &\nsleep 60\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    app.config.update(SOFFICE_PATH=str(fake), OFFICE_CONVERT_SECONDS=2)
    started = time.monotonic()
    r = upload(as_user("secretary"), world.meeting.id, office.docx_vietnamese(1), "Treo.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "conversion_timeout")
    assert time.monotonic() - started < 15
    time.sleep(0.3)
    _assert_nothing_stored(app, as_user, world)


def test_without_libreoffice_the_refusal_says_so(app, as_user, world, tmp_path):
    """A server set up without LibreOffice: Office files are refused with the cause the page names."""
    app.config["SOFFICE_PATH"] = str(tmp_path / "no-such-soffice")
    r = upload(as_user("secretary"), world.meeting.id, office.docx_vietnamese(1), "Tờ trình.docx")
    assert (r.status_code, r.json["error"]["code"]) == (422, "conversion_failed")
    assert r.json["error"]["details"]["cause"] == "no_converter"
    _assert_nothing_stored(app, as_user, world)


def test_the_preparation_page_has_words_for_each_cause(app, world):
    """prepare.js shows ``upload_conversion_failed_<cause>`` when the page has it: each cause in Vietnamese."""
    from meetings.documents.convert import CAUSES
    from tests.factories import page_client

    page = page_client(app, "secretary").get(f"/meetings/{world.meeting.id}/prepare").get_data(as_text=True)
    words = json.loads(page.split('<script type="application/json" id="console-strings">', 1)[1].split("</script>")[0])
    said = {cause: words.get(f"upload_conversion_failed_{cause}") for cause in CAUSES}
    assert all(said.values()), said
    assert said["no_converter"].startswith("Máy chủ này không chuyển đổi được tệp Office (chưa cài LibreOffice)")
    assert "tệp có thể bị hỏng, hoặc cần nhiều bộ nhớ hơn" in said["converter_failed"]
