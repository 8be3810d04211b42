"""Receiving an upload: stream it to disk, check and disarm it in a child, store both files.

The step of every upload before its database row (``service.add_document``,
``service.replace_document``): stream into ``tmp/`` while hashing (size cap) →
checks that need no parser → the pypdf check and the disarm (pikepdf,
``disarm.py``) in a child process (``intake.py``) → atomic rename of the
original and of the disarmed copy into their content addresses. A refusal at
any step deletes the temporary files, so nothing is half-stored; blobs of an
upload whose transaction then fails are removed again (``_drop_orphan_blobs``).

An Office upload (``.docx``, ``.xlsx`` … see ``office.py``) is first converted
to PDF by LibreOffice in its sandbox (``convert.py``, after ``office_check.py``
refused bombs and macros); the PDF made then takes the same path as an uploaded
one, and the Office file is kept as the document's source (``source_sha256``),
stored only once the PDF passed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from meetings.core.db import end_read_only_transaction, ends_savepoint
from meetings.core.errors import DomainError
from meetings.documents import office, storage
from meetings.documents.convert import ConversionLimits, ConversionRefused
from meetings.documents.intake import REFUSALS, IntakeLimits, Verdict, check_pdf, quick_check
from meetings.documents.models import Document


class DocumentRefused(DomainError):
    """An upload that is not accepted; ``code`` says why (see intake.REFUSALS)."""

    def __init__(self, code: str, message: str, details: Any = None):
        super().__init__(message, code=code, details=details)
        self.status = REFUSALS.get(code, 422)


def default_limits() -> IntakeLimits:
    """The limits of the running application, or of the environment outside one."""
    from flask import current_app, has_app_context

    if has_app_context():
        return IntakeLimits.from_config(current_app.config)
    from meetings.core.config import load_settings

    return IntakeLimits.from_config(load_settings())


def default_conversion_limits() -> ConversionLimits:
    """The Office conversion settings of the running application, or of the environment."""
    from flask import current_app, has_app_context

    if has_app_context():
        return ConversionLimits.from_config(current_app.config)
    from meetings.core.config import load_settings

    return ConversionLimits.from_config(load_settings())


class Ingested(NamedTuple):
    """A stored upload: the delivered (disarmed) file's sha256 and size, and the original's;
    for an Office upload also the source file's (the PDF made from it is the "original")."""

    sha256: str
    size: int
    pages: int
    original_sha256: str
    disarmed: dict[str, int]
    signed: bool
    filename: str = ""  # the document's name: the upload's, ending .pdf for a converted one
    source_sha256: str | None = None
    source_filename: str | None = None
    source_format: str | None = None  # "docx", "xlsx" …
    conversion_seconds: float | None = None

    def row(self) -> dict[str, Any]:
        """The Document columns this upload fills (``filename`` apart: the caller names it)."""
        return {"sha256": self.sha256, "size": self.size, "page_count": self.pages,
                "original_sha256": self.original_sha256, "disarmed": self.disarmed,
                "signed_original": self.signed, "source_sha256": self.source_sha256,
                "source_filename": self.source_filename, "source_format": self.source_format}

    def details(self) -> dict[str, Any]:
        """What the audit entry of the upload records: both files and what the disarm removed."""
        details = {"sha256": self.sha256, "pages": self.pages, "size": self.size,
                   "original_sha256": self.original_sha256, "disarmed": self.disarmed,
                   "signed_original": self.signed}
        if self.source_sha256:
            details.update(source_sha256=self.source_sha256, source_filename=self.source_filename,
                           source_format=self.source_format,
                           conversion_seconds=round(self.conversion_seconds or 0, 2))
        return details


def ingest(source: BinaryIO | bytes | Path, storage_path: str | Path, limits: IntakeLimits,
           *, session: Session | None = None) -> tuple[str, int, int]:
    """Check, disarm and store a PDF; returns the delivered file's (sha256, size, pages)."""
    got = ingest_upload(source, storage_path, limits, session=session)
    return got.sha256, got.size, got.pages


def ingest_upload(source: BinaryIO | bytes | Path, storage_path: str | Path, limits: IntakeLimits,
                  *, session: Session | None = None, filename: str | None = None,
                  conversion: ConversionLimits | None = None) -> Ingested:
    """Check a PDF, disarm it and store both the original and the disarmed copy (one blob when
    nothing was removed); raises DocumentRefused.

    An Office file (told by ``filename``'s extension, see ``office.office_format``) is
    converted to PDF first, under ``conversion`` (default: the settings); that PDF is
    then the original, and the Office file is stored as the source.

    The files are in ``blobs/`` only once every check passed. With ``session``, a
    blob this call created is removed again if that session rolls back and no
    row refers to it (see ``_drop_orphan_blobs``).
    """
    if session is not None:
        end_read_only_transaction(session)  # the check below waits on a child process
    try:
        staged = storage.stage(source, storage_path, limits.max_bytes)
    except storage.UploadTooLarge:
        raise DocumentRefused("too_large", too_large_message(limits.max_bytes)) from None
    out = storage.scratch(storage_path)
    upload, pdf, seconds = staged, staged, None
    try:
        try:
            fmt = office.office_format(filename, staged.head(), staged.size)
        except ConversionRefused as exc:
            raise _conversion_refusal(exc) from None
        if fmt is not None:
            pdf, seconds = _convert(staged, fmt, storage_path, conversion or default_conversion_limits())
        verdict = quick_check(pdf.head(), pdf.tail(), pdf.size) or check_pdf(pdf.path, limits, disarm_to=out)
        if not verdict.ok:
            raise _refusal(verdict)
        served = storage.adopt(out) if verdict.rewritten else pdf
        # Nothing is kept before every check passed, the Office source included.
        for kept in _distinct(upload, pdf, served):
            target = storage.accept(kept, storage_path)
            if session is not None and kept.created_blob:
                session.info.setdefault(_NEW_BLOBS, []).append(target)
    finally:
        for temporary in (upload, pdf):
            temporary.discard()  # no-op once accepted (the file was renamed away)
        out.unlink(missing_ok=True)
    name = filename or ""
    if fmt is None:
        return Ingested(served.sha256, served.size, verdict.pages, staged.sha256, verdict.disarmed,
                        verdict.signed, name)
    return Ingested(served.sha256, served.size, verdict.pages, pdf.sha256, verdict.disarmed, verdict.signed,
                    office.delivered_name(name), upload.sha256, name or f"document.{fmt}", fmt, seconds)


def _distinct(*files: storage.StagedFile) -> list[storage.StagedFile]:
    """Each staged file once (the PDF is the upload itself, or the served copy the PDF)."""
    return [f for i, f in enumerate(files) if all(f is not g for g in files[:i])]


def _convert(staged: storage.StagedFile, fmt: str, storage_path: str | Path,
             conversion: ConversionLimits) -> tuple[storage.StagedFile, float]:
    """The PDF LibreOffice made from the staged Office file, staged in ``tmp/`` in turn."""
    made = storage.scratch(storage_path)
    try:
        result = office.convert_file(staged.path, fmt, made, conversion)
    except ConversionRefused as exc:
        made.unlink(missing_ok=True)
        raise _conversion_refusal(exc) from None
    except BaseException:
        made.unlink(missing_ok=True)
        raise
    return storage.adopt(made), result.seconds


def too_large_message(max_bytes: int) -> str:
    """The 413 message for an upload over ``max_bytes``."""
    return f"The file is larger than the upload limit of {max_bytes / (1024 * 1024):g} MB."


def _conversion_refusal(exc: ConversionRefused) -> DocumentRefused:
    details = {k: v for k, v in (("reason", exc.reason), ("cause", exc.cause)) if v}
    return DocumentRefused(exc.code, exc.message, details or None)


def _refusal(verdict: Verdict) -> DocumentRefused:
    details = {"reason": verdict.reason} if verdict.reason else None
    return DocumentRefused(verdict.code or "unreadable", verdict.message, details)


# --- blobs of uploads whose transaction failed --------------------------------
_NEW_BLOBS = "new_document_blobs"


@event.listens_for(Session, "after_commit")
def _keep_new_blobs(session: Session) -> None:
    if not ends_savepoint(session):  # version rows are stored in a savepoint; the commit decides
        session.info.pop(_NEW_BLOBS, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_orphan_blobs(session: Session, previous_transaction) -> None:
    """After an upload's transaction failed (e.g. the database connection dropped),
    remove the blob it created unless a committed row uses the same content.

    Checked on a fresh connection; if the database cannot answer, the blob stays:
    it is content-addressed, never served without a row, and a retry reuses it."""
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction may still commit
    paths = session.info.pop(_NEW_BLOBS, None)
    if not paths:
        return
    bind = session.get_bind()
    for path in paths:
        try:
            with bind.connect() as conn:
                used = conn.execute(select(Document.id).where(or_(
                    Document.sha256 == path.stem, Document.original_sha256 == path.stem,
                    Document.source_sha256 == path.stem)).limit(1)).first()
        except Exception:  # database still unreachable: leave the harmless blob
            continue
        if used is None:
            path.unlink(missing_ok=True)
