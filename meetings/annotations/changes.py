"""How a change to an annotation goes out: its wire form, its cursor, its audience.

Shared by every writer of annotations (``service`` for the users' own changes,
``carryover`` for the moves to a new document version), so each change gets
the next document ``rev`` and reaches exactly those who may see it:

* ``meeting`` and ``presenter`` → the meeting event log (``eventlog.append``);
* ``participants`` → ``eventlog.notify`` to the author and each chosen user;
* ``private`` → ``eventlog.notify`` to the author (their other devices).

When a change narrows the audience, those who lose sight of the annotation
get ``annotation.withdrawn`` with its id only, never its content.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.annotations import rules
from meetings.annotations.models import Annotation, AnnotationClock
from meetings.platform.realtime import eventlog

Audience = str | set[int]


def serialize(ann: Annotation) -> dict[str, Any]:
    """The wire form of an annotation (REST and socket); a tombstone carries no content."""
    base = {"id": ann.id, "document_id": ann.document_id, "meeting_id": ann.meeting_id,
            "author_id": ann.author_id, "version": ann.version, "rev": ann.rev,
            "updated_at": ann.updated_at.isoformat() if ann.updated_at else None,
            "deleted": ann.deleted_at is not None}
    if ann.deleted_at is not None:
        return base
    return {**base, "kind": ann.kind, "page": ann.page, "visibility": ann.visibility,
            "shared_with": list(ann.shared_with or []), "color": ann.color, "geometry": ann.geometry,
            "anchor": ann.anchor, "text": ann.text, "target_id": ann.target_id, "orphaned": ann.orphaned,
            "created_at": ann.created_at.isoformat() if ann.created_at else None}


def visible_to(ann: Annotation, user: User) -> bool:
    """Whether ``user`` may see ``ann`` (its visibility, author and chosen participants)."""
    return rules.may_see(ann.visibility, ann.author_id, list(ann.shared_with or []), user.id)


def audience_of(ann: Annotation) -> Audience:
    """``"meeting"`` or the set of user ids who see ``ann`` now."""
    return rules.audience(ann.visibility, ann.author_id, list(ann.shared_with or []))


def next_rev(session: Session, document_id: int) -> int:
    """The document's next change cursor. UPDATE … RETURNING holds the clock row's lock until
    commit, so concurrent writers get increasing cursors in commit order; the first change of a
    document inserts the row (ON CONFLICT: two first writers racing still make one row)."""
    stmt = (update(AnnotationClock).where(AnnotationClock.document_id == document_id)
            .values(rev=AnnotationClock.rev + 1).returning(AnnotationClock.rev))
    opts = {"synchronize_session": False}
    rev = session.execute(stmt, execution_options=opts).scalar_one_or_none()
    if rev is not None:
        return rev
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(AnnotationClock).values(document_id=document_id, rev=0).on_conflict_do_nothing())
    return session.execute(stmt, execution_options=opts).scalar_one()


def broadcast(session: Session, ann: Annotation, type_: str, before: Audience | None, actor_id: int) -> None:
    """Queue the change for exactly its audience (sent after commit); tell those who lost sight of it."""
    now = audience_of(ann)
    gone = {"id": ann.id, "document_id": ann.document_id}
    if before == "meeting" and now != "meeting":
        eventlog.append(session, ann.meeting_id, "annotation.withdrawn", gone, actor_id=actor_id)
    elif isinstance(before, set) and isinstance(now, set):
        for uid in sorted(before - now):
            eventlog.notify(session, uid, "annotation.withdrawn", gone)
    announce(session, ann, type_, now, actor_id)


def announce(session: Session, ann: Annotation, type_: str, audience: Audience, actor_id: int) -> None:
    """Queue ``type_`` with the annotation's wire form for ``audience``."""
    payload = {"annotation": serialize(ann)}
    if audience == "meeting":
        eventlog.append(session, ann.meeting_id, type_, payload, actor_id=actor_id)
    else:
        for uid in sorted(audience):
            eventlog.notify(session, uid, type_, payload)
