"""Reading a participant list (CSV or XLSX) into clean rows, with an error per bad cell.

Pure: no database. The secretariat's lists come from Excel, in Vietnamese or in English:
headers such as "Họ và tên" or "name", roles such as "chủ tọa" or "chair", voting rights
"có"/"không"/"yes"/"no"/"1"/"0". CSV is UTF-8 (with or without the BOM Excel writes) or,
failing that, Windows-1258 (Vietnamese Windows), or UTF-16 (Excel's "Unicode Text"). Rows are
numbered as the spreadsheet shows them, blank lines included; the header is the first row with a
name column (a title above it is skipped), usually row 1, the first person row 2.

What is checked here is what one row (or the file) says by itself: a missing name, a bad
e-mail, an unknown role, a weight that is not a positive whole number, a username or e-mail
given twice in the file, a second chair in the file. What needs the database (an e-mail
that belongs to another account, a chair already in the meeting) is ``imports``'s.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

from meetings.core.errors import Invalid

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

# Each field's accepted headers, compared without diacritics, case or spacing (see ``fold``).
HEADERS = {
    "full_name": ("ho va ten", "ho ten", "ten", "name", "full name", "full_name", "fullname"),
    "username": ("ten dang nhap", "dang nhap", "username", "user name", "login", "tai khoan"),
    "email": ("email", "e-mail", "e mail", "thu dien tu", "dia chi email", "dia chi thu dien tu"),
    "phone": ("dien thoai", "so dien thoai", "phone", "telephone", "sdt", "mobile"),
    "unit": ("don vi", "unit", "co quan", "department"),
    "role": ("vai tro", "role"),
    "can_vote": ("quyen bieu quyet", "bieu quyet", "voting right", "voting", "can vote", "can_vote", "vote"),
    "vote_weight": ("trong so", "weight", "vote weight", "vote_weight", "so phieu"),
    # Body imports only (``imports.import_body_members``).
    "position": ("chuc vu", "position", "title"),
    "is_secretariat": ("to thu ky", "thu ky ky hop", "secretariat", "is secretariat", "van phong"),
}
_BY_HEADER = {alias: name for name, aliases in HEADERS.items() for alias in aliases}

ROLES = {
    "chair": ("chu toa", "chu tri", "chair", "chairman", "chairperson"),
    "secretary": ("thu ky", "secretary"),
    "delegate": ("dai bieu", "thanh vien", "delegate", "member"),
    "observer": ("khach moi", "du thinh", "observer", "guest"),
}
_BY_ROLE = {alias: role for role, aliases in ROLES.items() for alias in aliases}
_YES = {"co", "yes", "y", "1", "true", "x", "dung"}
_NO = {"khong", "no", "n", "0", "false", "sai"}

_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,30}$")
_USERNAME = re.compile(r"^[\w.@+-]{1,80}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What a spreadsheet program runs as a formula (names, units, positions): "=" or "@" first, or a sign
# stuck to what follows ("+cmd|…", "-2+3"). A dash and a space is a list's bullet ("- Phó Giám đốc"),
# and a lone "-" the usual "none": both are kept.
_FORMULA = re.compile(r"^(?:[=@]|[+-][^\s+-])")
# An .xlsx is a zip: what it may hold once unpacked, and how many cells and shared strings (the XML
# elements ``c`` and ``si``) its parts may have, counted before openpyxl reads them. A list of 10,000
# people and a dozen columns unpacks to a few MB and holds about 120,000 cells.
MAX_UNPACKED = 30 * 1024 * 1024
MAX_ELEMENTS = 600_000
_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:c|si)[\s/>]")
# The columns read (the rest of a row is ignored: a declared ``XFD`` would be 16,384 a row), and the
# rows scanned for people: the rest of a sheet that Excel numbers to 1,048,576 is ignored.
MAX_COLUMNS = 64
MAX_SCANNED_ROWS = 100_000
# The header is the first row that names a "Họ và tên" column, within the first few: Vietnamese lists
# open with a title ("DANH SÁCH ĐẠI BIỂU …") and a blank line above the table.
HEADER_SEARCH_ROWS = 10


@dataclass
class RowError:
    """One problem: the spreadsheet's row number, the field it is about, a code and an English message."""

    row: int
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class Row:
    """One person as the file gives them; ``None`` where the file leaves a cell empty or lacks the column."""

    number: int
    full_name: str = ""
    username: str | None = None
    email: str | None = None
    phone: str | None = None
    unit: str | None = None
    role: str | None = None            # None: keep an existing participant's, "delegate" for a new one
    can_vote: bool | None = None       # None: keep, or "everyone but observers" for a new participant
    vote_weight: int | None = None     # None: keep, or 1
    position: str | None = None
    is_secretariat: bool = False
    errors: list[RowError] = field(default_factory=list)

    def fail(self, column: str | None, code: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, code, message))


@dataclass
class Sheet:
    """A parsed file: its format, which header went to which field, the rows and the file-level errors."""

    format: str
    columns: dict[str, str]
    ignored_columns: list[str]
    rows: list[Row]
    errors: list[RowError]

    def all_errors(self) -> list[RowError]:
        return [*self.errors, *(e for r in self.rows for e in r.errors)]


def fold(text: Any) -> str:
    """Lower case, no diacritics, single spaces: "  Họ và  TÊN " → "ho va ten" (đ → d)."""
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().replace("_", " ").split())


def _clean(value: Any) -> str:
    """A cell as NFC text without surrounding or doubled spaces ("" for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 84912345678 and 2 as floats
    # Control characters (NUL above all: PostgreSQL text cannot hold it) are never part of a name.
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", str(value))).split())


# --------------------------------------------------------------------------- the file

def _utf16(data: bytes) -> str | None:
    """Excel's "Unicode Text" (UTF-16 with its BOM; without one, every other byte of Latin text is NUL)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:1000]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        return data.decode("utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be")
    return None


def _decode(data: bytes) -> str:
    try:
        text = _utf16(data)
        if text is not None:
            return text
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid("The file is not readable text: save the list again as CSV UTF-8 or .xlsx.",
                      code="unreadable_file", details={"reason": str(exc)[:200]}) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Windows-1258 writes many Vietnamese letters as a base letter and a combining mark: NFC joins them.
        return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


def _names_a_person(cells: list[Any]) -> bool:
    """Whether a row is a header: one of its cells is a "Họ và tên" (name) column."""
    return any(_BY_HEADER.get(fold(c)) == "full_name" for c in cells if isinstance(c, str))


def _numbered(rows: Any) -> list[tuple[int, list[Any]]]:
    """(the row's number as the spreadsheet shows it, its cells) of each row with something in it."""
    return [(n, list(r)) for n, r in enumerate(rows, 1) if any(v is not None and v != "" for v in r)]


def _csv_cells(data: bytes) -> list[tuple[int, list[Any]]]:
    text = _decode(data)
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    first = next((line for line in lines if _names_a_person(re.split(r"[,;\t]", line))), lines[0] if lines else "")
    # Excel with a Vietnamese (or any comma-decimal) locale writes ";" between cells; "Unicode Text" tabs.
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return _numbered(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KB limit
        raise Invalid("The file is not a readable CSV list.", code="unreadable_file",
                      details={"reason": str(exc)[:200]}) from exc


def _check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook that unpacks, or would parse, to far more than a participant list."""
    if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED:
        raise Invalid("The workbook unpacks to too much data.", code="zip_bomb")
    elements = 0
    for info in archive.infolist():
        elements += len(_ELEMENT.findall(archive.read(info)))
        if elements > MAX_ELEMENTS:
            raise Invalid(f"The workbook holds more than {MAX_ELEMENTS:,} cells or texts: it is not a "
                          "participant list.", code="zip_bomb")


def _xlsx_cells(data: bytes) -> list[tuple[int, list[Any]]]:
    import openpyxl  # only imports need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_archive(archive)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]  # the first sheet: where Excel opens
            sheet.reset_dimensions()  # a declared size is neither trusted (stale) nor padded to (XFD1048576)
            rows = []  # an absent row comes as an empty one: the numbers stay Excel's
            for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_SCANNED_ROWS,
                                                            values_only=True), 1):
                if any(v is not None and v != "" for v in values):
                    rows.append((number, list(values)))
                    if len(rows) > HEADER_SEARCH_ROWS + MAX_ROWS:
                        break
            return rows
        finally:
            book.close()
    except Invalid:
        raise
    except Exception as exc:  # noqa: BLE001 — whatever a damaged or hostile file makes openpyxl raise
        raise Invalid("The file is not a readable XLSX workbook.", code="unreadable_file",
                      details={"reason": str(exc)[:200]}) from exc


def read_sheet(data: bytes, filename: str | None = None) -> Sheet:
    """Parse a CSV or XLSX participant list (XLSX recognised by its content, whatever its name).
    Invalid (422) for a file that cannot be read at all; row problems are in the rows' ``errors``."""
    if not data:
        raise Invalid("The file is empty.", code="empty_file")
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", code="file_too_large")
    is_xlsx = data[:4] == b"PK\x03\x04"
    if not is_xlsx and (filename or "").lower().endswith((".xls", ".ods", ".xlsm")):
        raise Invalid("Save the list as .xlsx or .csv.", code="unsupported_type")
    cells = _xlsx_cells(data) if is_xlsx else _csv_cells(data)
    cells = [(n, c) for n, c in cells if any(_clean(v) for v in c)]  # blank lines are not people
    if not cells:
        raise Invalid("The file has no header row.", code="no_header")
    # Rows above the header (the list's title) are not people; without a name column, the first row is it.
    start = next((i for i, (_, c) in enumerate(cells[:HEADER_SEARCH_ROWS]) if _names_a_person(c)), 0)
    cells = cells[start:]
    if len(cells) - 1 > MAX_ROWS:
        raise Invalid(f"At most {MAX_ROWS} people per file.", code="too_many_rows")
    return _rows(cells, "xlsx" if is_xlsx else "csv")


def _rows(cells: list[tuple[int, list[Any]]], fmt: str) -> Sheet:
    """The header row and the people rows, each with its spreadsheet row number."""
    header_number, header = cells[0][0], [_clean(h) for h in cells[0][1]]
    positions: dict[str, int] = {}
    columns, ignored = {}, []
    for i, name in enumerate(header):
        target = _BY_HEADER.get(fold(name))
        if target and target not in positions:
            positions[target] = i
            columns[name] = target
        elif name:
            ignored.append(name)
    errors = []
    if "full_name" not in positions:
        errors.append(RowError(header_number, "full_name", "missing_column",
                               'No name column: the header needs "Họ và tên" (or "name").'))
    rows = []
    for number, values in cells[1:]:
        cell = {f: _clean(values[i]) if i < len(values) else "" for f, i in positions.items()}
        raw = {f: values[i] if i < len(values) else None for f, i in positions.items()}
        rows.append(_row(number, cell, raw))
    _check_file_duplicates(rows)
    return Sheet(fmt, columns, ignored, rows, errors)


# --------------------------------------------------------------------------- one row

def _row(number: int, cell: dict[str, str], raw: dict[str, Any]) -> Row:
    row = Row(number=number, full_name=cell.get("full_name", ""))
    if not row.full_name:
        row.fail("full_name", "missing_name", "The name is missing.")
    elif len(row.full_name) > 200:
        row.fail("full_name", "name_too_long", "The name is longer than 200 characters.")
    username = cell.get("username", "")
    if username:
        if not _USERNAME.match(username):
            row.fail("username", "bad_username",
                     "A username is 1 to 80 letters, digits or . _ @ + - (no spaces).")
        row.username = username
    email = cell.get("email", "").lower()
    if email:
        if len(email) > 200 or not _EMAIL.match(email):
            row.fail("email", "bad_email", f"{email!r} is not an e-mail address.")
        row.email = email
    phone = cell.get("phone", "")
    if phone:
        if not _PHONE.match(phone):
            row.fail("phone", "bad_phone", f"{phone!r} is not a phone number.")
        row.phone = re.sub(r"[ .()-]", "", phone)
    if cell.get("unit"):
        row.unit = cell["unit"][:300]
    role = cell.get("role", "")
    if role:
        found = _BY_ROLE.get(fold(role))
        if found is None:
            row.fail("role", "unknown_role",
                     f"Unknown role {role!r}: chủ tọa, thư ký, đại biểu, khách mời (chair, secretary, delegate, "
                     "observer).")
        else:
            row.role = found
    row.can_vote = _yes_no(row, "can_vote", raw.get("can_vote"), cell.get("can_vote", ""))
    if row.role == "observer" and row.can_vote:
        row.fail("can_vote", "observer_cannot_vote", "Observers (khách mời) never vote.")
    weight = cell.get("vote_weight", "")
    if weight:
        row.vote_weight = _weight(row, raw.get("vote_weight"), weight)
    if cell.get("position"):
        row.position = cell["position"][:200]
    row.is_secretariat = bool(_yes_no(row, "is_secretariat", raw.get("is_secretariat"),
                                      cell.get("is_secretariat", "")))
    for column in ("full_name", "unit", "position"):
        if _FORMULA.match(cell.get(column) or ""):
            row.fail(column, "formula_like", f"{cell[column][:40]!r} starts like a spreadsheet formula "
                     "(= + - @): a name never does, and every list exported later would run it.")
    return row


def _yes_no(row: Row, column: str, raw: Any, text: str) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if not text:
        return None
    word = fold(text)
    if word in _YES:
        return True
    if word in _NO:
        return False
    row.fail(column, "bad_yes_no", f"{text!r} is not có/không (yes/no, 1/0).")
    return None


def _weight(row: Row, raw: Any, text: str) -> int | None:
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    else:
        value = int(text) if re.fullmatch(r"[0-9]{1,6}", text) else None
    if value is None or not 1 <= value <= 1_000_000:
        row.fail("vote_weight", "bad_weight", f"The weight {text!r} is not a whole number ≥ 1.")
        return None
    return value


def _check_file_duplicates(rows: list[Row]) -> None:
    """A username or e-mail given twice, or two chairs: each later row gets the error."""
    seen: dict[tuple[str, str], int] = {}
    chair: int | None = None
    for row in rows:
        for column, value in (("username", row.username and row.username.casefold()), ("email", row.email)):
            if not value:
                continue
            first = seen.setdefault((column, value), row.number)
            if first != row.number:
                row.fail(column, f"duplicate_{column}", f"{value!r} is already on row {first} of the file.")
        if row.role == "chair":
            if chair is not None:
                row.fail("role", "second_chair", f"Row {chair} is already the chair; a meeting has one chair.")
            chair = chair or row.number
