"""What may leave the server through the archive, and for whom: the one place for bundles and search.

Built on the pages' own rules, never beside them:

- which meetings: ``meetings.bodies.permissions.visible_meeting`` / ``can_view`` (and its SQL twin
  ``meetings.bodies.sittings.visible_meetings`` for the search): a draft only for those preparing it,
  an archivist only up to their clearance (``meetings.accounts.policy.is_cleared``), an unknown and an
  invisible meeting both 404;
- which documents: the current, published versions, as ``permissions.can_view_document`` releases them to
  participants; confidential ones (every level above "normal") stamped for the exporter through the
  documents domain's watermark (``meetings.documents.delivery.watermarked_copy``), or left out when the
  setting ``BUNDLE_CONFIDENTIAL`` is ``"omit"``;
- which minutes: the published versions, and the signed versions a published correction replaces, as
  ``meetings.minutes.policy.can_read_minutes`` releases them; never a draft, a finalized or a signed but
  unpublished version.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_prepare, visible_meeting
from meetings.bodies.sittings import visible_meetings
from meetings.core.errors import Conflict, Forbidden
from meetings.documents.models import Document
from meetings.minutes.models import Minutes

CONFIDENTIAL_MODES = ("watermark", "omit")
SIGNED = ("secretary_signed", "signed", "published")


def can_export(meeting: Meeting, user: User) -> bool:
    """Archivists, administrators and the meeting's secretariat export its package."""
    return bool(user.is_archivist or user.is_admin) or can_prepare(meeting, user)


def require_export(session: Session, meeting_id: int, user: User) -> Meeting:
    """The meeting whose package ``user`` may take: 404 for whoever may not see the meeting (as its
    page answers them), 403 for whoever sees it but may not export, 409 ``meeting_not_closed`` until
    the meeting is closed (a package is the finished record, not a preview of a sitting)."""
    meeting = visible_meeting(session, meeting_id, user)
    if not can_export(meeting, user):
        raise Forbidden("Only archivists and the secretariat export archival packages.")
    if meeting.status != "closed":
        raise Conflict("Only a closed meeting has an archival package.", code="meeting_not_closed")
    return meeting


def confidential_mode(config: Mapping[str, Any]) -> str:
    """``BUNDLE_CONFIDENTIAL``: "watermark" (default) or "omit"; anything else leaves them out."""
    mode = config.get("BUNDLE_CONFIDENTIAL") or "watermark"
    return mode if mode in CONFIDENTIAL_MODES else "omit"


def bundle_documents(session: Session, meeting: Meeting, config: Mapping[str, Any]) -> list[Document]:
    """The documents that go into the package: current and published; without the confidential ones
    when the setting says "omit" (the others are stamped by the bundle, see ``needs_stamp``)."""
    docs = session.execute(select(Document).where(Document.meeting_id == meeting.id, Document.is_current,
                                                  Document.published.is_(True))
                           .order_by(Document.id)).scalars().all()
    if confidential_mode(config) == "omit":
        return [d for d in docs if not d.needs_watermark]
    return list(docs)


def needs_stamp(doc: Document) -> bool:
    """A document leaves the server stamped for its receiver whenever its page would stamp it."""
    return bool(doc.needs_watermark)


def released_document_ids(session: Session, meeting: Meeting) -> set[int]:
    """Every published document row of the meeting (any version): the audit entries about any other
    (their titles and file names are unpublished material) stay out of the package."""
    return set(session.execute(select(Document.id).where(Document.meeting_id == meeting.id,
                                                         Document.published.is_(True))).scalars())


def bundle_minutes(session: Session, meeting: Meeting) -> list[Minutes]:
    """The published versions of the minutes, plus every signed version a published one replaces
    (the chain of corrections), by version."""
    rows = {m.id: m for m in session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalars()}
    keep: dict[int, Minutes] = {}
    for m in rows.values():
        if m.status != "published":
            continue
        keep[m.id] = m
        prev = rows.get(m.previous_id) if m.previous_id else None
        while prev is not None and prev.id not in keep and prev.status in SIGNED:
            keep[prev.id] = prev
            prev = rows.get(prev.previous_id) if prev.previous_id else None
    return sorted(keep.values(), key=lambda m: m.version)


def searchable_meetings(user: User) -> Select:
    """The ids of the meetings whose published minutes ``user`` finds in the archive: those they may see
    (the SQL twin of ``can_view``, so the search and the pages never disagree)."""
    return visible_meetings(user).with_only_columns(Meeting.id)
