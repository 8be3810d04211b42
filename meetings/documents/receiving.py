"""Receiving an upload: stream it to disk, check and disarm it in a child, store both files.

The step of every upload before its database row (``service.add_document``,
``service.replace_document``): stream into ``tmp/`` while hashing (size cap) →
checks that need no parser → the pypdf check and the disarm (pikepdf,
``disarm.py``) in a child process (``intake.py``) → atomic rename of the
original and of the disarmed copy into their content addresses. A refusal at
any step deletes the temporary files, so nothing is half-stored; blobs of an
upload whose transaction then fails are removed again (``_drop_orphan_blobs``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from meetings.core.db import end_read_only_transaction, ends_savepoint
from meetings.core.errors import DomainError
from meetings.documents import storage
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


class Ingested(NamedTuple):
    """A stored upload: the delivered (disarmed) file's sha256 and size, and the original's."""

    sha256: str
    size: int
    pages: int
    original_sha256: str
    disarmed: dict[str, int]
    signed: bool

    def row(self) -> dict[str, Any]:
        """The Document columns this upload fills."""
        return {"sha256": self.sha256, "size": self.size, "page_count": self.pages,
                "original_sha256": self.original_sha256, "disarmed": self.disarmed,
                "signed_original": self.signed}

    def details(self) -> dict[str, Any]:
        """What the audit entry of the upload records: both files and what the disarm removed."""
        return {"sha256": self.sha256, "pages": self.pages, "size": self.size,
                "original_sha256": self.original_sha256, "disarmed": self.disarmed,
                "signed_original": self.signed}


def ingest(source: BinaryIO | bytes | Path, storage_path: str | Path, limits: IntakeLimits,
           *, session: Session | None = None) -> tuple[str, int, int]:
    """Check, disarm and store a PDF; returns the delivered file's (sha256, size, pages)."""
    got = ingest_upload(source, storage_path, limits, session=session)
    return got.sha256, got.size, got.pages


def ingest_upload(source: BinaryIO | bytes | Path, storage_path: str | Path, limits: IntakeLimits,
                  *, session: Session | None = None) -> Ingested:
    """Check a PDF, disarm it and store both the original and the disarmed copy (one blob when
    nothing was removed); raises DocumentRefused.

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
    try:
        verdict = quick_check(staged.head(), staged.tail(), staged.size) or check_pdf(
            staged.path, limits, disarm_to=out)
        if not verdict.ok:
            raise _refusal(verdict)
        served = storage.adopt(out) if verdict.rewritten else staged
        for kept in [staged] if served is staged else [staged, served]:
            target = storage.accept(kept, storage_path)
            if session is not None and kept.created_blob:
                session.info.setdefault(_NEW_BLOBS, []).append(target)
    finally:
        staged.discard()  # no-op once accepted (the file was renamed away)
        out.unlink(missing_ok=True)
    return Ingested(served.sha256, served.size, verdict.pages, staged.sha256, verdict.disarmed, verdict.signed)


def too_large_message(max_bytes: int) -> str:
    """The 413 message for an upload over ``max_bytes``."""
    return f"The file is larger than the upload limit of {max_bytes / (1024 * 1024):g} MB."


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
                    Document.sha256 == path.stem, Document.original_sha256 == path.stem)).limit(1)).first()
        except Exception:  # database still unreachable: leave the harmless blob
            continue
        if used is None:
            path.unlink(missing_ok=True)
