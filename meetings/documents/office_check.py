"""What an Office file must pass before LibreOffice opens it: its container, bombs, macros.

Runs inside the conversion child (``convert.py``), under its memory and CPU
limits, so a hostile file costs that child only; it imports the standard library
and ``olefile`` only (the child starts without the application).

- **Container**: ``.docx/.xlsx/.pptx`` are Office Open XML and ``.odt/.ods/.odp``
  OpenDocument, both zip files, read whole here (every member decompressed and
  its CRC checked: a damaged or truncated zip is refused, not "repaired" by
  LibreOffice); ``.doc/.xls/.ppt`` are OLE2 compound files sniffed by their
  magic number and their directory read with olefile; ``.rtf`` starts ``{\\rtf``.
- **Zip bombs**: at most ``max_members`` parts, ``max_uncompressed`` bytes in all
  (counted as decompressed, not as the headers claim: headers can lie) and a
  compression ratio of ``max_ratio`` once past ``ratio_floor``; zips and OLE2
  files embedded in a document (a spreadsheet inside a Word file) are checked
  the same way, within the same budget, ``max_depth`` levels deep.
- **Macros**: a document carrying them is refused, whatever the profile's macro
  setting (which is "never run" too, see ``convert.py``): VBA projects
  (``vbaProject.bin``, OLE2 ``Macros``/``_VBA_PROJECT_CUR``/``VBA`` storages),
  Excel 4.0 macro sheets, macro-enabled OOXML content types (a ``.docm`` renamed
  ``.docx``), OpenDocument ``Basic/`` and ``Scripts/`` and event bindings to scripts.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

MB = 1024 * 1024

# Accepted extensions → container kind.
FORMATS = {
    "docx": "ooxml", "xlsx": "ooxml", "pptx": "ooxml",
    "odt": "odf", "ods": "odf", "odp": "odf",
    "doc": "ole2", "xls": "ole2", "ppt": "ole2",
    "rtf": "rtf",
}
# Macro-enabled (or add-in) formats: refused by name, before anything is read.
MACRO_EXTENSIONS = frozenset({"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "ppam", "sldm"})

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
RTF_MAGIC = b"{\\rtf"

# Storages and streams of a VBA project in an OLE2 file (Word: Macros/VBA, Excel:
# _VBA_PROJECT_CUR/VBA; the project stream itself is _VBA_PROJECT).
_OLE_MACRO_NAMES = frozenset({"macros", "_vba_project_cur", "vba", "_vba_project"})
# Markers of macros in the XML parts (content types of VBA and macro-enabled main parts,
# OpenDocument event bindings to Basic or other scripts).
_XML_MACRO_MARKERS = (b"macroenabled", b"vbaproject", b"vnd.ms-office.vba", b"vnd.sun.star.script:",
                      b"macro:///", b"ms-excel.macrosheet", b"ms-excel.intlmacrosheet")
_SCANNED_PARTS = ("[content_types].xml", "content.xml", "styles.xml", "meta-inf/manifest.xml")
_CHUNK = 256 * 1024
_MAX_EMBEDDED = 64 * MB  # embedded containers are checked in memory up to this size


class Refused(Exception):
    """The file is not given to LibreOffice: ``code`` says why (the REST error's code)."""

    def __init__(self, code: str, message: str, reason: str | None = None):
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason


@dataclass(frozen=True)
class OfficeLimits:
    """How much a document may unpack to (OFFICE_MAX_UNCOMPRESSED_MB) and the fixed bomb limits."""

    max_uncompressed: int = 512 * MB
    max_members: int = 10_000
    max_ratio: int = 100
    ratio_floor: int = 16 * MB
    max_depth: int = 2


def check_file(path: str, ext: str, limits: OfficeLimits) -> dict:
    """Check the file at ``path`` uploaded as ``.ext``; raises Refused, else returns what was seen."""
    ext = ext.lower()
    if ext in MACRO_EXTENSIONS:
        raise Refused("macro_refused", f"Macro-enabled .{ext} files are not accepted; save the document "
                                       "without macros (.docx, .xlsx, .pptx) and upload it again.")
    kind = FORMATS.get(ext)
    if kind is None:
        raise Refused("unsupported_type", f"Files of type .{ext} are not accepted.")
    with open(path, "rb") as fh:
        head = fh.read(8)
        size = fh.seek(0, 2)
    if size == 0:
        raise Refused("empty", "The file is empty.")
    budget = _Budget(limits)
    if kind in ("ooxml", "odf"):
        if head.startswith(OLE2_MAGIC):
            _encrypted_ooxml(path)
        if not head.startswith(ZIP_MAGIC):
            raise Refused("corrupt_office_file", f"The file is not a .{ext} document: its content is not "
                                                 "the zip container such documents are.")
        with open(path, "rb") as fh:
            _check_zip(fh, kind, size, budget, depth=0)
    elif kind == "ole2":
        if head.startswith(RTF_MAGIC) and ext == "doc":  # Word's "RTF saved as .doc"
            return {"kind": "rtf", "uncompressed": size}
        if not head.startswith(OLE2_MAGIC):
            raise Refused("corrupt_office_file", f"The file is not a .{ext} document (Office 97-2003): "
                                                 "its content does not start like one.")
        _check_ole(path, budget)
    elif not head.startswith(RTF_MAGIC):
        raise Refused("corrupt_office_file", "The file is not an RTF document: it must start with {\\rtf.")
    return {"kind": kind, "uncompressed": budget.used, "members": budget.members}


class _Budget:
    """Decompressed bytes and parts counted over a document and everything embedded in it."""

    def __init__(self, limits: OfficeLimits):
        self.limits = limits
        self.used = 0
        self.members = 0

    def add_members(self, n: int) -> None:
        self.members += n
        if self.members > self.limits.max_members:
            raise Refused("zip_bomb", f"The document has more than {self.limits.max_members} parts.")

    def add(self, n: int) -> None:
        self.used += n
        if self.used > self.limits.max_uncompressed:
            raise Refused("zip_bomb", "The document decompresses to more than "
                                      f"{self.limits.max_uncompressed // MB} MB.")

    def ratio(self, uncompressed: int, compressed: int) -> None:
        if uncompressed > self.limits.ratio_floor and uncompressed > self.limits.max_ratio * max(1, compressed):
            raise Refused("zip_bomb", f"The document decompresses to {uncompressed // MB} MB from "
                                      f"{max(1, compressed // 1024)} KB: a compression ratio over "
                                      f"{self.limits.max_ratio} is a zip bomb's.")


def _check_zip(fh, kind: str, size: int, budget: _Budget, depth: int) -> None:
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused("corrupt_office_file", "The document is damaged: its zip container cannot be read.",
                      f"{type(exc).__name__}: {exc}"[:300]) from None
    with zf:
        infos = zf.infolist()
        budget.add_members(len(infos))
        declared = sum(i.file_size for i in infos)
        if budget.used + declared > budget.limits.max_uncompressed:
            raise Refused("zip_bomb", f"The document declares {declared // MB} MB of content; at most "
                                      f"{budget.limits.max_uncompressed // MB} MB are accepted.")
        budget.ratio(declared, size)
        names = [i.filename.lower() for i in infos]
        if len(set(names)) != len(names):
            raise Refused("corrupt_office_file", "The document's zip container names a part twice.")
        _check_names(names, kind, depth)
        scanned = b""
        for info in infos:
            if info.flag_bits & 0x1:
                raise Refused("encrypted", "The document is encrypted or password-protected; "
                                           "upload it without protection.")
            data = _read_member(zf, info, budget, depth)
            if info.filename.lower() in _SCANNED_PARTS:
                scanned += data.lower() + b"\n"
            elif data and depth < budget.limits.max_depth:
                _check_embedded(data, budget, depth + 1)
        if depth == 0:
            _check_parts(scanned, names, kind)


def _check_names(names: list[str], kind: str, depth: int) -> None:
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base in ("vbaproject.bin", "vbadata.xml") or "/macrosheets/" in f"/{name}" \
                or "/intlmacrosheets/" in f"/{name}":
            raise Refused("macro_refused", "The document carries macros (a VBA project or macro sheets); "
                                           "save it without macros and upload it again.", name)
        if kind == "odf" and (name.startswith("basic/") or name.startswith("scripts/")):
            raise Refused("macro_refused", "The document carries macros (Basic or script libraries); "
                                           "remove them and upload it again.", name)
    if depth == 0 and kind == "ooxml" and "[content_types].xml" not in names:
        raise Refused("corrupt_office_file", "The file is a zip but not an Office Open XML document "
                                             "([Content_Types].xml is missing).")
    if depth == 0 and kind == "odf" and "mimetype" not in names:
        raise Refused("corrupt_office_file", "The file is a zip but not an OpenDocument file "
                                             "(its mimetype part is missing).")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, depth: int) -> bytes:
    """Decompress one part, counting every byte; returns it when worth keeping (XML scanned,
    embedded containers to check), else b"". The CRC is checked at the end by zipfile."""
    keep = info.filename.lower() in _SCANNED_PARTS
    kept = io.BytesIO()
    try:
        with zf.open(info) as member:
            first = True
            while chunk := member.read(_CHUNK):
                budget.add(len(chunk))
                if first:
                    keep = keep or (depth < budget.limits.max_depth and info.file_size <= _MAX_EMBEDDED
                                    and chunk.startswith((ZIP_MAGIC, OLE2_MAGIC)))
                    first = False
                if keep:
                    kept.write(chunk)
    except Refused:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise Refused("corrupt_office_file", "The document is damaged: a part of it cannot be decompressed.",
                      f"{info.filename}: {type(exc).__name__}: {exc}"[:300]) from None
    return kept.getvalue()


def _check_embedded(data: bytes, budget: _Budget, depth: int) -> None:
    """An embedded workbook, document or OLE object: the same bomb and macro checks."""
    if data.startswith(ZIP_MAGIC):
        _check_zip(io.BytesIO(data), "ooxml", len(data), budget, depth)
    elif data.startswith(OLE2_MAGIC):
        _check_ole(io.BytesIO(data), budget, embedded=True)


def _check_parts(scanned: bytes, names: list[str], kind: str) -> None:
    for marker in _XML_MACRO_MARKERS:
        if marker in scanned:
            raise Refused("macro_refused", "The document carries macros or binds events to scripts; "
                                           "save it without macros and upload it again.", marker.decode())
    if kind == "odf" and b"encryption-data" in scanned:
        raise Refused("encrypted", "The document is encrypted or password-protected; "
                                   "upload it without protection.")


def _ole(source):
    import olefile

    try:
        return olefile.OleFileIO(source)
    except Exception as exc:  # olefile raises OSError, struct errors, IndexError … on bad input
        raise Refused("corrupt_office_file", "The document is damaged: its Office 97-2003 structure "
                                             "cannot be read.", f"{type(exc).__name__}: {exc}"[:300]) from None


def _encrypted_ooxml(path: str) -> None:
    """An OOXML file with a password is an OLE2 file holding EncryptionInfo: say so."""
    ole = _ole(path)
    with ole:
        if ole.exists("EncryptionInfo"):
            raise Refused("encrypted", "The document is encrypted or password-protected; "
                                       "upload it without protection.")


def _check_ole(source, budget: _Budget, *, embedded: bool = False) -> None:
    ole = _ole(source)
    with ole:
        try:
            entries = ole.listdir(streams=True, storages=True)
        except Exception as exc:
            raise Refused("corrupt_office_file", "The document is damaged: its Office 97-2003 directory "
                                                 "cannot be read.", f"{type(exc).__name__}: {exc}"[:300]) from None
        budget.add_members(len(entries))
        for entry in entries:
            if any(part.lower() in _OLE_MACRO_NAMES for part in entry):
                raise Refused("macro_refused", "The document carries macros (a VBA project); save it "
                                               "without macros and upload it again.", "/".join(entry))
        if not embedded and ole.exists("EncryptionInfo"):
            raise Refused("encrypted", "The document is encrypted or password-protected; "
                                       "upload it without protection.")
