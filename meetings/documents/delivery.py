"""Sending a document's file: from disk with sendfile, Range, ETag and private caching.

What is delivered is the disarmed copy (``doc.sha256``: the upload without its
JavaScript, actions and embedded files, see ``disarm.py``) or, once a scan's OCR is
ready, its rendition with a text layer (``doc.ocr_sha256``, see ``ocr.py``: the same
pages with invisible text, so highlights and find work; :func:`served_sha256`); the original upload
(``doc.original_sha256``) leaves only through :func:`send_original`, to the
secretariat, as a download. Every file goes out under a name ending in ``.pdf``
(:func:`served_filename`), whatever the upload was called.

Normal documents are the stored blob itself (ETag = its sha256, so a tablet's copy is
refreshed when the rendition arrives). Confidential
ones are a copy stamped for the viewer, made once per (document version,
viewer, marking, name) in a child process and cached under
``watermarked/<document id>/``; later requests send that file the same way.

A conditional request (If-None-Match, If-Modified-Since) is answered by
:func:`not_modified` from the database row and at most one ``stat``, after the
caller was authorized and before any file is opened or stamped: a hall of tablets
revalidating its briefcase costs the token, the permission and this, nothing more.

Behind nginx (``X_ACCEL_REDIRECT_PREFIX``), :func:`send` authorizes and answers with
an empty body and ``X-Accel-Redirect: <prefix>/<path under STORAGE_PATH>`` (a
content-addressed blob, or the viewer's stamped copy once made), so nginx sends the
bytes from an ``internal`` location (docs/deployment.md). A stamped copy not made yet
is made by the app first; only the bytes go through nginx.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from flask import Response, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import http_date, is_resource_modified, parse_range_header

from meetings.accounts.models import User
from meetings.core.errors import Unavailable
from meetings.documents import storage
from meetings.documents.models import Document
from meetings.documents.watermark import MARKINGS, WatermarkFailed, stamp

# Tablets may keep a copy (the offline briefcase) but must ask again before using it,
# so a withdrawn document or a revoked participant is noticed; shared caches never store it.
CACHE_CONTROL = "private, no-cache"
# The original may carry scripts: never cached, never shown inline, never run as a page.
ORIGINAL_HEADERS = {"Cache-Control": "private, no-store", "Content-Security-Policy": "sandbox",
                    "X-Content-Type-Options": "nosniff"}
MAX_SERVED_NAME = 150


def served_filename(name: str | None) -> str:
    """The Content-Disposition name of a document: the upload's name without path, control or
    shell-special characters, ending in ``.pdf`` (``x.exe`` → ``x.exe.pdf``, ``x.PDF`` → ``x.pdf``),
    so a tablet or browser never saves it as a program."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r'[\x00-\x1f\x7f"*:<>?|;\u202a-\u202e\u2066-\u2069]', "", name)  # incl. bidi overrides
    name = re.sub(r"\s+", " ", name).strip()
    if name.lower().endswith(".pdf"):
        name = name[:-4]
    # No leading dot (a hidden file), no trailing dot or space (Windows drops them).
    return (name[:MAX_SERVED_NAME].strip(" .") or "document") + ".pdf"


def _local_time() -> str:
    try:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M (GMT+7)")
    except Exception:  # no tz database on this host: say UTC rather than fail
        return datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")


def marking_of(doc: Document) -> str:
    return MARKINGS.get(doc.confidentiality, MARKINGS["confidential"])


def watermark_path(root: str | Path, doc: Document, viewer: User) -> Path:
    """Where the viewer's stamped copy of ``doc`` is cached. The key covers everything
    printed on it except the time, so a renamed viewer or a new marking gets a new copy."""
    key = hashlib.sha256(f"{served_sha256(doc, root)}|{marking_of(doc)}|{viewer.full_name}".encode()).hexdigest()[:20]
    return storage.watermark_dir(root, doc.id) / f"{int(viewer.id)}-{key}.pdf"


def watermarked_copy(root: str | Path, doc: Document, viewer: User, *, font_path: Path,
                     seconds: float, memory_mb: int) -> Path:
    """The viewer's stamped copy of ``doc``, made now if not cached yet."""
    path = watermark_path(root, doc, viewer)
    if path.exists():
        return path
    try:
        stamp(source_path(root, doc), path, marking=marking_of(doc), viewer_name=viewer.full_name,
              when=_local_time(), font_path=font_path, seconds=seconds, memory_mb=memory_mb)
    except WatermarkFailed as exc:
        raise Unavailable("The watermarked copy could not be made; try again later.",
                          code="watermark_failed", details={"reason": str(exc)[-300:]}) from None
    return path


def served_sha256(doc: Document, root: str | Path | None = None) -> str:
    """The blob delivered for ``doc``: the OCR rendition once ready, else the disarmed copy.
    With ``root``, a rendition missing from storage falls back to the disarmed copy."""
    if doc.text_layer == "ready" and doc.ocr_sha256:
        if root is None or storage.blob_path(root, doc.ocr_sha256).is_file():
            return doc.ocr_sha256
    return doc.sha256


def source_path(root: str | Path, doc: Document) -> Path:
    """The stored file delivered for ``doc``: its disarmed copy, or its OCR rendition once ready."""
    path = storage.blob_path(root, served_sha256(doc, root))
    if not path.is_file():
        raise Unavailable("The document's file is missing from storage.", code="file_missing")
    return path


def original_path(root: str | Path, doc: Document) -> Path:
    """The original upload of ``doc`` as received (for the archive): scripts and embedded files
    included, byte-identical, so a signature it carries still validates."""
    path = storage.blob_path(root, doc.original_sha256 or doc.sha256)
    if not path.is_file():
        raise Unavailable("The document's original file is missing from storage.", code="file_missing")
    return path


def send_original(doc: Document, *, root: str | Path) -> Response:
    """The HTTP answer for GET …/original: the upload as received, as an attachment."""
    resp = send_file(original_path(root, doc), mimetype="application/pdf", conditional=True,
                     etag=doc.original_sha256 or doc.sha256, download_name=served_filename(doc.filename),
                     as_attachment=True, max_age=None)
    resp.headers.update(ORIGINAL_HEADERS)
    return resp


def _served_path(root: str | Path, doc: Document, viewer: User) -> Path:
    """The file that would be sent: the blob, or the viewer's stamped copy (maybe not made yet)."""
    if doc.needs_watermark:
        return watermark_path(root, doc, viewer)
    return storage.blob_path(root, served_sha256(doc, root))


def _etag(path: Path, doc: Document, stat_mtime_ns: int | None = None) -> str:
    """A blob's ETag is its sha256 (the file's name); a stamped copy's is its key and the time it
    was made (a copy made again prints another time: other bytes, another ETag)."""
    if not doc.needs_watermark:
        return path.stem
    return f"{path.stem}-{stat_mtime_ns if stat_mtime_ns is not None else path.stat().st_mtime_ns}"


def not_modified(doc: Document, viewer: User, *, root: str | Path) -> Response | None:
    """The 304 for a conditional GET whose copy is still current, or None when the file must be sent.

    Decided before any heavy work: a blob's ETag is known from the row (no file touched, so a 304
    still comes for a blob missing from storage, as a copy the tablet has is still the right one);
    a stamped copy, and If-Modified-Since, cost one ``stat`` (no copy yet: None, it is made then)."""
    conditional = request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since")
    if not conditional or request.method not in ("GET", "HEAD"):
        return None
    path = _served_path(root, doc, viewer)
    mtime = None
    if doc.needs_watermark or not request.headers.get("If-None-Match"):
        try:
            st = path.stat()
        except OSError:
            return None
        mtime = st.st_mtime_ns
    etag = _etag(path, doc, mtime)
    last_modified = datetime.fromtimestamp(mtime / 1e9, UTC) if mtime is not None else None
    if is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        return None
    resp = Response(status=304)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = CACHE_CONTROL
    if last_modified is not None:
        resp.headers["Last-Modified"] = http_date(last_modified)
    return resp


def _disposition(name: str) -> str:
    """``inline`` with the name, as ``send_file`` writes it (RFC 6266: ASCII, and UTF-8 in ``filename*``)."""
    try:
        name.encode("ascii")
        return f'inline; filename="{name}"'
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return f'inline; filename="{simple}"; filename*=UTF-8\'\'{quote(name, safe="!#$&+^`|~")}'


def accel_redirect(path: Path, doc: Document, *, root: str | Path, prefix: str) -> Response:
    """The answer that has nginx send ``path`` (under ``root``) from its internal location ``prefix``:
    no body, the headers the file goes out with (nginx passes Content-Type, Content-Disposition,
    Cache-Control and Accept-Ranges on; the documented config sets the ETag from ours)."""
    relative = path.resolve().relative_to(Path(root).resolve()).as_posix()
    resp = Response(b"", status=200, mimetype="application/pdf")
    resp.headers["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(relative)}"
    resp.set_etag(_etag(path, doc))
    resp.headers["Cache-Control"] = CACHE_CONTROL
    resp.headers["Content-Disposition"] = _disposition(served_filename(doc.filename))
    resp.headers["Accept-Ranges"] = "bytes"
    return resp


def send(doc: Document, viewer: User, *, root: str | Path, font_path: Path | None = None,
         seconds: float = 60, memory_mb: int = 1024, accel_prefix: str | None = None) -> Response:
    """The HTTP answer for GET …/file: 200, 206 (Range), 304 (If-None-Match) or 416; with
    ``accel_prefix``, an X-Accel-Redirect for nginx instead of the bytes. ``font_path`` is needed
    for a confidential document only (its stamp)."""
    if doc.needs_watermark:
        if font_path is None:
            raise ValueError("a confidential document needs the font for its watermark")
        path = watermarked_copy(root, doc, viewer, font_path=font_path, seconds=seconds, memory_mb=memory_mb)
    else:
        path = source_path(root, doc)
    if accel_prefix:
        return accel_redirect(path, doc, root=root, prefix=accel_prefix)
    etag = _etag(path, doc)
    wanted = request.headers.get("Range")
    if wanted and getattr(parse_range_header(wanted), "units", None) != "bytes":
        # RFC 9110 §14.2: a Range the server does not understand is ignored (whole file),
        # where Werkzeug would answer 416.
        request.environ.pop("HTTP_RANGE", None)
    try:
        # A path (not a file object) lets the server use sendfile; conditional=True
        # answers Range and If-None-Match / If-Modified-Since.
        resp = send_file(path, mimetype="application/pdf", conditional=True, etag=etag,
                         download_name=served_filename(doc.filename), as_attachment=False, max_age=None)
    except RequestedRangeNotSatisfiable:
        from meetings.platform.http.errors import error_response

        return error_response(416, "range_not_satisfiable", "The requested byte range is outside the file.",
                              headers={"Content-Range": f"bytes */{path.stat().st_size}"})
    resp.headers["Cache-Control"] = CACHE_CONTROL
    resp.headers["Accept-Ranges"] = "bytes"
    return resp
