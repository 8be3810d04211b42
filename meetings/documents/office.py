"""Office uploads: which files are converted, their names, and their source file's download.

A ``.docx .doc .odt .rtf .xlsx .xls .ods .pptx .ppt .odp`` upload becomes a
document whose file is the PDF LibreOffice made from it (``convert.py``); the
Office file itself stays the document's *source* (``Document.source_sha256``,
``source_filename``, ``source_format``), each version its own, downloadable by
those who prepare the meeting (``GET /api/v1/documents/<id>/source``).
A file that starts ``%PDF-`` is a PDF whatever its name.
"""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from flask import Response, send_file
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.errors import NotFound, Unavailable
from meetings.documents import convert, policy, storage
from meetings.documents.models import Document
from meetings.documents.office_check import FORMATS, MACRO_EXTENSIONS

# The prepare page's <input accept>, and what the REST docs list.
ACCEPTED_EXTENSIONS = ("pdf", *FORMATS)
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in ACCEPTED_EXTENSIONS) + ",application/pdf"
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "rtf": "application/rtf",
}
# The source may carry anything LibreOffice ignored: never cached, never shown inline.
SOURCE_HEADERS = {"Cache-Control": "private, no-store", "Content-Security-Policy": "sandbox",
                  "X-Content-Type-Options": "nosniff"}


def extension(filename: str | None) -> str:
    """The lower-case extension of ``filename`` without its dot ("" when it has none)."""
    base = os.path.basename((filename or "").replace("\\", "/"))
    stem, dot, ext = base.rpartition(".")
    return ext.lower().strip() if dot and stem else ""


def office_format(filename: str | None, head: bytes, size: int) -> str | None:
    """The Office format to convert the upload from, or None for a PDF (or what the PDF checks
    refuse: empty, not a PDF). Raises ConversionRefused for a macro-enabled or unknown type."""
    if size == 0 or head.startswith(b"%PDF-"):
        return None
    ext = extension(filename)
    if ext in FORMATS:
        return ext
    if ext in MACRO_EXTENSIONS:
        raise convert.ConversionRefused("macro_refused", f"Macro-enabled .{ext} files are not accepted; save "
                                        "the document without macros (.docx, .xlsx, .pptx) and upload it again.")
    if ext in ("", "pdf"):
        return None
    raise convert.ConversionRefused("unsupported_type", f"Files of type .{ext} are not accepted: upload a PDF, "
                                    "or a Word, Excel, PowerPoint, OpenDocument or RTF document ("
                                    + ", ".join(f".{e}" for e in FORMATS) + ").")


def convert_file(source: Path, fmt: str, out: Path, limits: convert.ConversionLimits) -> convert.Converted:
    """Convert the staged Office file to the PDF ``out`` in the sandbox (``convert.py``)."""
    return convert.convert(source, fmt, out, limits)


def title_stem(filename: str) -> str:
    """A document's default title: its file name without .pdf or an Office extension."""
    ext = extension(filename)
    return filename[: -len(ext) - 1] if ext == "pdf" or ext in FORMATS else filename


def delivered_name(filename: str) -> str:
    """The name of the PDF made from an Office file: ``Tờ trình.docx`` → ``Tờ trình.pdf``."""
    return f"{title_stem(filename) or 'document'}.pdf"


def open_source(session: Session, document_id: int, user: User) -> Document:
    """The document whose Office source ``user`` is about to download: NotFound if not theirs
    to see or if it was uploaded as a PDF, Forbidden unless they prepare the meeting."""
    doc = policy.visible_document(session, document_id, user)
    policy.require_source(session.get(Meeting, doc.meeting_id), user)
    if not doc.source_sha256:
        raise NotFound("This document was uploaded as a PDF: it has no Office source file.", code="no_source")
    return doc


def source_download_name(doc: Document) -> str:
    """The source's attachment name: its upload name without path, control or shell-special
    characters, with its own Office extension."""
    name = unicodedata.normalize("NFC", (doc.source_filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r'[\x00-\x1f\x7f"*:<>?|;\u202a-\u202e\u2066-\u2069]', "", name)
    stem = re.sub(r"\s+", " ", title_stem(name)).strip(" .")[:150] or "document"
    return f"{stem}.{doc.source_format or 'bin'}"


def send_source(doc: Document, *, root: str | Path) -> Response:
    """The HTTP answer for GET …/source: the Office file as received, as an attachment."""
    path = storage.blob_path(root, doc.source_sha256)
    if not path.is_file():
        raise Unavailable("The document's source file is missing from storage.", code="file_missing")
    resp = send_file(path, mimetype=MEDIA_TYPES.get(doc.source_format or "", "application/octet-stream"),
                     conditional=True, etag=doc.source_sha256, download_name=source_download_name(doc),
                     as_attachment=True, max_age=None)
    resp.headers.update(SOURCE_HEADERS)
    return resp
