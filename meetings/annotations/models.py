"""Annotations on agenda documents, their per-document change clock, and read receipts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meetings.core.db import Base, UtcDateTime, utcnow

KINDS = ("ink", "highlight", "note", "rect", "arrow")
VISIBILITIES = ("private", "meeting", "participants", "presenter")


class Annotation(Base):
    """One annotation on one document version.

    The id is a UUID chosen by the client, so a retried or offline-replayed
    create is recognised and answered without a second row. ``version`` counts
    the annotation's own changes (optimistic concurrency); ``rev`` is the
    document-wide change cursor used by ``GET ?since=``. A deletion keeps the
    row as a tombstone (``deleted_at``) so offline clients learn of it.
    Geometry is in PDF user space of ``page`` (1-based), never screen pixels.
    """

    __tablename__ = "annotations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # Denormalised from the document: every broadcast needs it.
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    page: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(20), default="private")
    # User ids a "participants" annotation is shared with (the author is implied).
    shared_with: Mapped[list] = mapped_column(JSON, default=list)
    color: Mapped[str] = mapped_column(String(9), default="#ffd400")
    geometry: Mapped[dict] = mapped_column(JSON, default=dict)
    # Text anchor of a highlight: exact/prefix/suffix quote and start/end offsets in the page's text.
    anchor: Mapped[dict | None] = mapped_column(JSON)
    # Untrusted text of a note (or a comment on a highlight): stored as given, rendered escaped.
    text: Mapped[str | None] = mapped_column(Text)
    # A note attached to a highlight names it here.
    target_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)
    rev: Mapped[int] = mapped_column(Integer, default=0, index=True)
    # Set when a new document version no longer contains the text it was anchored to.
    orphaned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_shared(self) -> bool:
        return self.visibility in ("meeting", "presenter")


class AnnotationClock(Base):
    """The last change cursor handed out for a document's annotations.

    Incremented with UPDATE … RETURNING inside the writing transaction: the row
    lock orders concurrent writers, so a reader's cursor never skips a change.
    """

    __tablename__ = "annotation_clocks"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    rev: Mapped[int] = mapped_column(Integer, default=0)


class DocumentView(Base):
    """Read receipt: that a user opened a document, first and last time."""

    __tablename__ = "document_views"
    __table_args__ = (UniqueConstraint("document_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    first_opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    open_count: Mapped[int] = mapped_column(Integer, default=1)
