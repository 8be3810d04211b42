"""Every write to annotations, and the lookups that decide who may make it.

One path for every change: check the caller (here, through
``meetings.bodies.permissions``) → validate → write (version +1, next document
``rev``) → audit entry → broadcast queued for after commit, to exactly the
audience that may see the annotation (``changes``). Nothing here commits: the
HTTP request's or the socket event's commit point does.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.annotations import rules
from meetings.annotations.changes import announce, audience_of, broadcast, next_rev, serialize, visible_to
from meetings.annotations.models import VISIBILITIES, Annotation, AnnotationClock
from meetings.bodies.models import AgendaItem, Meeting, Participant
from meetings.bodies.permissions import can_run, can_view, can_view_document, participant_of
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.documents.models import Document
from meetings.platform.audit.service import record

EDITABLE = ("page", "visibility", "shared_with", "color", "geometry", "anchor", "text", "target_id")


def document_for(session: Session, document_id: int, user: User) -> tuple[Document, Meeting]:
    """The document and its meeting, if ``user`` may view it (404 when the meeting is not theirs)."""
    doc = session.get(Document, document_id)
    meeting = session.get(Meeting, doc.meeting_id) if doc is not None else None
    if doc is None or meeting is None or not can_view(meeting, user):
        raise NotFound("No such document.")
    if not can_view_document(meeting, user, doc.published):
        raise Forbidden("This document is not released to you yet.")
    return doc, meeting


def annotation_for(session: Session, annotation_id: Any, user: User) -> tuple[Annotation, Document, Meeting]:
    """An annotation the user may see (others' private ones answer 404, as if absent)."""
    ann = session.get(Annotation, annotation_id) if isinstance(annotation_id, str) else None
    if ann is None:
        raise NotFound("No such annotation.")
    doc, meeting = document_for(session, ann.document_id, user)
    if not visible_to(ann, user):
        raise NotFound("No such annotation.")
    return ann, doc, meeting


def list_annotations(session: Session, document: Document, user: User, since: str | None = None
                     ) -> dict[str, Any]:
    """The annotations of ``document`` the user may see. With ``since`` (a ``rev`` cursor
    or an ISO time) only changes after it, tombstones included; else live ones only."""
    q = select(Annotation).where(Annotation.document_id == document.id)
    if since is None:
        q = q.where(Annotation.deleted_at.is_(None))
    else:
        cursor = parse_since(since)
        q = q.where(Annotation.rev > cursor) if isinstance(cursor, int) else q.where(Annotation.updated_at >= cursor)
    rows = session.execute(q.order_by(Annotation.rev)).scalars().all()
    clock = session.get(AnnotationClock, document.id)
    return {"annotations": [serialize(a) for a in rows if visible_to(a, user)],
            "cursor": clock.rev if clock else 0}


def parse_since(value: str) -> int | datetime:
    if value.isdigit():
        return int(value)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise Invalid("since must be a cursor (an integer) or an ISO 8601 time.", code="invalid_since") from err
    # A time without an offset is taken as UTC, as the server's times are.
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def check_sharing(session: Session, meeting: Meeting, document: Document, user: User,
                  visibility: str, shared_with: list[int]) -> list[int]:
    """Whether ``user`` may give an annotation of ``document`` this visibility (Forbidden or
    Invalid if not); the chosen participants, checked, for ``participants``."""
    if visibility not in VISIBILITIES:
        raise Invalid(f"visibility must be one of {', '.join(VISIBILITIES)}.", code="invalid_visibility")
    if visibility == "private":
        return []
    if visibility == "presenter":
        item = session.get(AgendaItem, document.agenda_item_id) if document.agenda_item_id else None
        if not (can_run(meeting, user) or (item is not None and item.presenter_id == user.id)):
            raise Forbidden("Only the chair, the secretariat or the item's presenter can draw for everyone.")
        return []
    if participant_of(meeting, user) is None and not can_run(meeting, user):
        raise Forbidden("Only participants of the meeting can share annotations.")
    if visibility == "meeting":
        return []
    ids = sorted({i for i in shared_with if i != user.id})
    if not ids:
        raise Invalid("Choose at least one participant to share with.", code="invalid_shared_with")
    if len(ids) > rules.MAX_SHARED_WITH:
        raise Invalid("Too many participants chosen.", code="invalid_shared_with")
    members = set(session.execute(select(Participant.user_id).where(
        Participant.meeting_id == meeting.id, Participant.user_id.in_(ids))).scalars())
    unknown = [i for i in ids if i not in members]
    if unknown:
        raise Invalid("Some chosen users are not participants of this meeting.", code="invalid_shared_with",
                      details={"user_ids": unknown})
    return ids


def _validated(session: Session, document: Document, meeting: Meeting, user: User, kind: str,
               fields: dict[str, Any]) -> dict[str, Any]:
    """Check every field of the annotation's intended state; return the normalised values."""
    out = {
        "page": rules.check_page(fields.get("page"), document.page_count),
        "color": rules.check_color(fields.get("color", "#ffd400")),
        "geometry": rules.check_geometry(kind, fields.get("geometry")),
        "text": rules.check_text(fields.get("text"), required=kind == "note" and not fields.get("target_id")),
        "anchor": rules.check_anchor(fields["anchor"]) if kind == "highlight" else None,
        "visibility": fields.get("visibility", "private"),
    }
    out["shared_with"] = check_sharing(session, meeting, document, user, out["visibility"],
                                       list(fields.get("shared_with") or []))
    target = fields.get("target_id")
    if target is not None:
        parent = session.get(Annotation, target) if isinstance(target, str) else None
        if (kind != "note" or parent is None or parent.document_id != document.id or parent.kind != "highlight"
                or parent.deleted_at is not None or not visible_to(parent, user)):
            raise Invalid("A note can be attached only to a highlight on the same document.", code="invalid_target")
    out["target_id"] = target
    return out


def _audit(session: Session, action: str, ann: Annotation, actor_id: int) -> None:
    # Never the text or the geometry: a private note stays private in the audit log too.
    record(session, action, actor_id=actor_id, object_type="annotation", meeting_id=ann.meeting_id,
           details={"annotation_id": ann.id, "document_id": ann.document_id, "kind": ann.kind,
                    "visibility": ann.visibility, "version": ann.version})


def create_annotation(session: Session, document: Document, meeting: Meeting, user: User,
                      data: dict[str, Any]) -> tuple[Annotation, bool]:
    """Create an annotation with the client's UUID; replaying the same create returns the
    existing one (``created`` False) instead of a duplicate."""
    try:
        ann_id = str(uuid.UUID(str(data.get("id")))) if data.get("id") is not None else str(uuid.uuid4())
    except ValueError as err:
        raise Invalid("id must be a UUID.", code="invalid_id") from err
    existing = session.get(Annotation, ann_id)
    if existing is not None:
        if existing.author_id != user.id or existing.document_id != document.id:
            raise Conflict("This id is already used by another annotation.", code="id_taken")
        return existing, False
    if not document.is_current:
        raise Conflict("This document was replaced; annotate the current version.", code="document_replaced")
    kind = data.get("kind")
    if kind not in ("ink", "highlight", "note", "rect", "arrow"):
        raise Invalid("Unknown kind of annotation.", code="invalid_kind")
    live = session.execute(select(func.count()).select_from(Annotation).where(
        Annotation.document_id == document.id, Annotation.author_id == user.id,
        Annotation.deleted_at.is_(None))).scalar_one()
    if live >= rules.MAX_PER_USER_PER_DOCUMENT:
        raise Invalid(f"You already have {rules.MAX_PER_USER_PER_DOCUMENT} annotations on this document.",
                      code="annotation_limit", details={"max": rules.MAX_PER_USER_PER_DOCUMENT})
    values = _validated(session, document, meeting, user, kind, data)
    now = utcnow()
    ann = Annotation(id=ann_id, document_id=document.id, meeting_id=meeting.id, author_id=user.id, kind=kind,
                     version=1, rev=next_rev(session, document.id), orphaned=False,
                     created_at=now, updated_at=now, **values)
    session.add(ann)
    session.flush()
    _audit(session, "annotation.created", ann, user.id)
    broadcast(session, ann, "annotation.created", None, user.id)
    return ann, True


def update_annotation(session: Session, ann: Annotation, document: Document, meeting: Meeting, user: User,
                      changes: dict[str, Any], expected_version: int) -> Annotation:
    """Apply ``changes`` if ``expected_version`` is current. A replay of a change already
    applied (same values) answers the current state; anything else stale is a 409."""
    if ann.author_id != user.id:
        raise Forbidden("Only the author can change an annotation.")
    if ann.deleted_at is not None:
        raise Conflict("The annotation was deleted.", code="deleted", details={"current": serialize(ann)})
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    current = serialize(ann)
    wanted = {**{k: current[k] for k in EDITABLE}, **changes}
    values = _validated(session, document, meeting, user, ann.kind, wanted)
    if all(getattr(ann, k) == v for k, v in values.items()):
        return ann  # nothing to change: a replay of an applied change, or an empty patch
    if expected_version != ann.version:
        raise Conflict("The annotation changed since you loaded it.", code="version_conflict",
                       details={"current": current})
    before = audience_of(ann)
    rev = next_rev(session, ann.document_id)  # before the changes, so they flush as one UPDATE
    for k, v in values.items():
        setattr(ann, k, v)
    ann.version += 1
    ann.rev = rev
    ann.updated_at = utcnow()
    session.flush()
    _audit(session, "annotation.updated", ann, user.id)
    broadcast(session, ann, "annotation.updated", before, user.id)
    return ann


def delete_annotation(session: Session, ann: Annotation, meeting: Meeting, user: User,
                      expected_version: int | None = None) -> Annotation:
    """Tombstone an annotation (author; or the chair/secretariat clearing presenter ink).
    Deleting a deleted annotation again is a harmless replay."""
    if ann.author_id != user.id and not (ann.visibility == "presenter" and can_run(meeting, user)):
        raise Forbidden("Only the author can delete an annotation.")
    if ann.deleted_at is not None:
        return ann
    if expected_version is not None and expected_version != ann.version:
        raise Conflict("The annotation changed since you loaded it.", code="version_conflict",
                       details={"current": serialize(ann)})
    audience = audience_of(ann)
    ann.deleted_at = ann.updated_at = utcnow()
    ann.version += 1
    ann.rev = next_rev(session, ann.document_id)
    session.flush()
    _audit(session, "annotation.deleted", ann, user.id)
    announce(session, ann, "annotation.deleted", audience, user.id)
    return ann


def clear_presenter(session: Session, document: Document, meeting: Meeting, user: User) -> int:
    """Clear every presenter annotation of a document (the "then cleared" of a presentation)."""
    if not can_run(meeting, user):
        raise Forbidden("Only the chair or the secretariat can clear the presenter's drawing.")
    rows = session.execute(select(Annotation).where(
        Annotation.document_id == document.id, Annotation.visibility == "presenter",
        Annotation.deleted_at.is_(None))).scalars().all()
    for ann in rows:
        delete_annotation(session, ann, meeting, user)
    return len(rows)
