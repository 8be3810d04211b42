"""Who may see and change a meeting's documents, built on ``meetings.bodies.permissions``.

One function per decision, used by every service of the domain (REST today;
the same checks would hold for any other transport).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.errors import Forbidden, NotFound
from meetings.documents.models import Document


def visible_document(session: Session, document_id: int, user: User | None) -> Document:
    """The document, if ``user`` may see it; otherwise NotFound, as for an id that does not
    exist (another meeting's, or unpublished and not theirs to prepare), so ids do not leak."""
    doc = session.get(Document, document_id)
    meeting = session.get(Meeting, doc.meeting_id) if doc is not None else None
    if doc is None or meeting is None or not permissions.can_view_document(meeting, user, doc.published):
        raise NotFound("No such document.")
    return doc


def require_manage(meeting: Meeting, user: User | None) -> None:
    """Upload, replace and edit the meeting's documents: the secretariat (``can_prepare``)."""
    if not permissions.can_prepare(meeting, user):
        raise Forbidden("Only the meeting's secretariat manages its documents.")


def require_original(meeting: Meeting, user: User | None) -> None:
    """The original upload, scripts and embedded files included (delegates get the disarmed
    copy only): those who prepare the meeting (``can_prepare``), for the archive and checks."""
    if not permissions.can_prepare(meeting, user):
        raise Forbidden("Only the meeting's secretariat may download the original upload.")


def require_source(meeting: Meeting, user: User | None) -> None:
    """The Office file a converted document was made from (delegates read the PDF only):
    those who prepare the meeting (``can_prepare``), to edit and upload it again."""
    if not permissions.can_prepare(meeting, user):
        raise Forbidden("Only the meeting's secretariat may download the document's source file.")
