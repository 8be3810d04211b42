"""Every write of the documents domain: intake, replacement, edits; and what a user may list.

The writes a user asks for (``upload_document``, ``upload_version``,
``replace_document``, ``update_document``) check the actor first
(``documents.policy``); ``add_document`` stores for a caller that already
decided (the upload, the demo loader). Nothing here commits.

An upload goes: stream into ``tmp/`` while hashing (size cap) → checks that need
no parser → the pypdf check and the disarm (pikepdf) in a child process → atomic
rename of the original and of the disarmed copy into their content addresses
(``receiving.py``) → database row, audit entry and (if delegates should know)
a meeting event. A refusal at any step deletes the temporary file, so nothing
is half-stored. A new version tells the annotations domain through the
``document_replaced`` signal; serving a file sends ``document_opened``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import CONFIDENTIALITY, AgendaItem, Meeting
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.documents import ocr, office, policy, storage
from meetings.documents.intake import IntakeLimits
from meetings.documents.models import Document

# Re-exported: callers (views, the demo loader, tests, bench) know them as service.*.
from meetings.documents.receiving import (  # noqa: F401
    DocumentRefused,
    Ingested,
    default_limits,
    ingest,
    ingest_upload,
    too_large_message,
)
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.signals import document_opened, document_published, document_replaced

MAX_TITLE = 500
MAX_FILENAME = 300


def clean_filename(name: str | None) -> str:
    """The file's own name without any path, control characters or excess length."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip() or "document.pdf"
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 10 else name[:MAX_FILENAME]
    return name


def _title_from(filename: str) -> str:
    stem = office.title_stem(filename)  # without .pdf or an Office extension (.docx …)
    return stem[:MAX_TITLE] or "Tài liệu"


def _check_item(session: Session, meeting: Meeting, agenda_item_id: int | None) -> None:
    if agenda_item_id is None:
        return
    item = session.get(AgendaItem, agenda_item_id)
    if item is None or item.meeting_id != meeting.id:
        raise Invalid("The agenda item does not belong to this meeting.", code="invalid_agenda_item")


def _check_fields(title: str | None, confidentiality: str | None) -> None:
    if title is not None and not (0 < len(title.strip()) and len(title) <= MAX_TITLE):
        raise Invalid(f"The title must have 1 to {MAX_TITLE} characters.", code="invalid_title")
    if confidentiality is not None and confidentiality not in CONFIDENTIALITY:
        raise Invalid(f"Confidentiality must be one of {', '.join(CONFIDENTIALITY)}.",
                      code="invalid_confidentiality")


def summary(doc: Document) -> dict[str, Any]:
    """The small payload of a document event (ids, not the file)."""
    return {"document_id": doc.id, "series_id": doc.series_id, "version": doc.version,
            "title": doc.title, "agenda_item_id": doc.agenda_item_id, "pages": doc.page_count}


def add_document(
    session: Session,
    meeting: Meeting,
    data: bytes | Path | BinaryIO,
    *,
    title: str | None,
    filename: str,
    uploaded_by_id: int | None,
    agenda_item_id: int | None = None,
    confidentiality: str = "normal",
    published: bool = False,
    storage_path: str | Path,
    limits: IntakeLimits | None = None,
) -> Document:
    """Check and store a PDF and create the first version of a new document.

    Asks nobody's permission: for callers that already decided who uploads
    (:func:`upload_document`, the demo loader)."""
    filename = clean_filename(filename)
    title = title if title is not None and title.strip() else _title_from(filename)
    _check_fields(title, confidentiality)
    _check_item(session, meeting, agenda_item_id)
    got = ingest_upload(data, storage_path, limits or default_limits(), session=session, filename=filename)
    filename = got.filename  # an Office upload's document is the PDF made from it
    doc = Document(
        meeting_id=meeting.id, agenda_item_id=agenda_item_id, title=title, filename=filename,
        **got.row(), text_layer=ocr.text_layer_at_intake(storage_path, got.sha256), version=1, is_current=True,
        published=bool(published), confidentiality=confidentiality, uploaded_by_id=uploaded_by_id,
    )
    session.add(doc)
    session.flush()
    doc.series_id = doc.id
    session.flush()
    audit.record(session, "document.upload", actor_id=uploaded_by_id, object_type="document",
                 object_id=doc.id, meeting_id=meeting.id,
                 details={**got.details(), "title": title, "filename": filename,
                          "confidentiality": confidentiality, "published": doc.published})
    if doc.published:
        _announce(session, meeting, "document.published", doc, uploaded_by_id)
        document_published.send(None, session=session, document=doc, actor_id=uploaded_by_id)
    return doc


class Received(NamedTuple):
    """An upload as the transport received it: the file's bytes, its name, the form's fields."""

    stream: BinaryIO
    filename: str
    fields: dict[str, Any]


def upload_document(session: Session, meeting: Meeting, actor: User, receive: Callable[[], Received], *,
                    storage_path: str | Path, limits: IntakeLimits | None = None) -> Document:
    """Upload a PDF as a new document of ``meeting`` (the secretariat). ``receive`` reads the
    request body: called only once the actor may upload, so nobody else makes us read it."""
    policy.require_manage(meeting, actor)
    upload = receive()
    form = upload.fields
    return add_document(
        session, meeting, upload.stream, title=form.get("title"), filename=upload.filename,
        uploaded_by_id=actor.id, agenda_item_id=form.get("agenda_item_id"),
        confidentiality=form["confidentiality"], published=form.get("published", False),
        storage_path=storage_path, limits=limits,
    )


def upload_version(session: Session, current: Document, actor: User, receive: Callable[[], Received], *,
                   storage_path: str | Path, limits: IntakeLimits | None = None) -> Document:
    """Replace ``current`` with an uploaded PDF (the secretariat); ``receive`` as for
    :func:`upload_document`."""
    policy.require_manage(session.get(Meeting, current.meeting_id), actor)
    upload = receive()
    return _store_version(session, current, actor, upload.stream, filename=upload.filename,
                          title=upload.fields.get("title"), storage_path=storage_path, limits=limits)


def replace_document(session: Session, current: Document, actor: User, data: bytes | Path | BinaryIO, *,
                     filename: str, title: str | None = None, storage_path: str | Path,
                     limits: IntakeLimits | None = None) -> Document:
    """Store a new version of ``current`` (the secretariat); the old one is kept, no longer current."""
    policy.require_manage(session.get(Meeting, current.meeting_id), actor)
    return _store_version(session, current, actor, data, filename=filename, title=title,
                          storage_path=storage_path, limits=limits)


def _store_version(session: Session, current: Document, actor: User | None, data: bytes | Path | BinaryIO, *,
                   filename: str, title: str | None, storage_path: str | Path,
                   limits: IntakeLimits | None) -> Document:
    uploaded_by_id = actor.id if actor is not None else None
    filename = clean_filename(filename)
    _check_fields(title, None)
    if not current.is_current:
        raise Conflict("Only the current version of a document can be replaced.", code="not_current")
    got = ingest_upload(data, storage_path, limits or default_limits(), session=session, filename=filename)
    filename = got.filename  # each version keeps its own Office source, if any
    text_layer = ocr.text_layer_at_intake(storage_path, got.sha256)  # a scan is OCR'd once committed
    # Re-read under a row lock (PostgreSQL): of two replacements racing, the second
    # sees the first's result; the unique (series_id, version) settles the rest.
    locked = session.execute(
        select(Document).where(Document.id == current.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if not locked.is_current:
        raise Conflict("This version was replaced meanwhile; reload and try again.", code="not_current")
    new = Document(
        meeting_id=locked.meeting_id, agenda_item_id=locked.agenda_item_id,
        title=title if title and title.strip() else locked.title, filename=filename,
        **got.row(), text_layer=text_layer, version=locked.version + 1,
        series_id=locked.series_id or locked.id, previous_id=locked.id, is_current=True,
        published=locked.published, confidentiality=locked.confidentiality, uploaded_by_id=uploaded_by_id,
    )
    try:
        with session.begin_nested():
            locked.is_current = False
            session.add(new)
            session.flush()
    except IntegrityError:
        raise Conflict("This version was replaced meanwhile; reload and try again.", code="not_current") from None
    audit.record(session, "document.replace", actor_id=uploaded_by_id, object_type="document",
                 object_id=new.id, meeting_id=new.meeting_id,
                 details={"previous_id": locked.id, "version": new.version, **got.details(),
                          "filename": filename})
    if new.published:
        meeting = session.get(Meeting, new.meeting_id)
        _announce(session, meeting, "document.replaced", new, uploaded_by_id, previous_id=locked.id)
    # Higher domains follow (annotations carry over), in this transaction.
    document_replaced.send(None, session=session, old=locked, new=new, actor=actor)
    return new


def update_document(session: Session, doc: Document, actor: User, changes: dict[str, Any], *,
                    storage_path: str | Path) -> Document:
    """Change title, agenda item, published flag or confidentiality of the current version
    (the secretariat)."""
    meeting = session.get(Meeting, doc.meeting_id)
    policy.require_manage(meeting, actor)
    if not changes:
        raise Invalid("Nothing to change.")
    if not doc.is_current:
        raise Conflict("Only the current version of a document can be edited.", code="not_current")
    actor_id = actor.id
    _check_fields(changes.get("title"), changes.get("confidentiality"))
    if "agenda_item_id" in changes:
        _check_item(session, meeting, changes["agenda_item_id"])
    before = {k: getattr(doc, k) for k in ("title", "agenda_item_id", "published", "confidentiality")}
    for key in before:
        if key in changes:
            setattr(doc, key, changes[key])
    changed = {k: [before[k], getattr(doc, k)] for k in before if before[k] != getattr(doc, k)}
    if not changed:
        return doc
    session.flush()
    action = "document.update"
    if "published" in changed:
        action = "document.publish" if doc.published else "document.unpublish"
    audit.record(session, action, actor_id=actor_id, object_type="document", object_id=doc.id,
                 meeting_id=doc.meeting_id, details={"changes": changed})
    if "confidentiality" in changed:
        storage.drop_watermarks(storage_path, doc.id)  # stamped copies carry the old marking
    if "published" in changed:
        _announce(session, meeting, "document.published" if doc.published else "document.unpublished",
                  doc, actor_id)
    if changed.get("published") == [False, True]:  # alerts follow (notifications)
        document_published.send(None, session=session, document=doc, actor_id=actor_id)
    return doc


def _announce(session: Session, meeting: Meeting, type_: str, doc: Document, actor_id: int | None,
              **extra: Any) -> None:
    # Draft meetings are seen by the secretariat only: nobody to tell yet.
    if meeting.status != "draft":
        eventlog.append(session, meeting.id, type_, {**summary(doc), **extra}, actor_id=actor_id)


def open_file(session: Session, document_id: int, user: User) -> Document:
    """The document whose file ``user`` is about to be served (NotFound if not theirs to see).
    Sends ``document_opened``: read receipts are queued from it, never written by this read."""
    doc = policy.visible_document(session, document_id, user)
    document_opened.send(None, document=doc, user=user)
    return doc


def open_original(session: Session, document_id: int, user: User) -> Document:
    """The document whose original upload (before the disarm) ``user`` is about to be served:
    NotFound if not theirs to see, Forbidden unless they prepare the meeting."""
    doc = policy.visible_document(session, document_id, user)
    policy.require_original(session.get(Meeting, doc.meeting_id), user)
    return doc


def visible_documents(session: Session, meeting: Meeting, user: User, *, all_versions: bool = False
                      ) -> list[Document]:
    """The documents of ``meeting`` that ``user`` may see: current published versions, plus the
    unpublished ones (and with ``all_versions`` every version) for those preparing the meeting."""
    if not permissions.can_view(meeting, user):
        raise NotFound("No such meeting.")
    sees_drafts = permissions.can_view_document(meeting, user, published=False)
    if all_versions and not sees_drafts:
        raise Forbidden("Only the secretariat lists every version.")
    query = select(Document).where(Document.meeting_id == meeting.id)
    if not all_versions:
        query = query.where(Document.is_current.is_(True))
    if not sees_drafts:
        query = query.where(Document.published.is_(True))
    return list(session.execute(query.order_by(Document.series_id, Document.version)).scalars())


def versions_of(session: Session, doc: Document, user: User) -> list[Document]:
    """Every version of ``doc``'s series that ``user`` may see, oldest first."""
    meeting = session.get(Meeting, doc.meeting_id)
    query = select(Document).where(Document.series_id == (doc.series_id or doc.id))
    if not permissions.can_view_document(meeting, user, published=False):
        query = query.where(Document.published.is_(True))
    return list(session.execute(query.order_by(Document.version)).scalars())
