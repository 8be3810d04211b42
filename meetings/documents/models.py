"""Agenda documents: each row is one version of one document."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.core.db import Base, UtcDateTime, utcnow


class Document(Base):
    """One version of an agenda document.

    Versions of the same document share ``series_id`` (the id of the first
    version); ``previous_id`` links each version to the one it replaced and
    ``is_current`` marks the newest. The file itself is stored once per
    sha256 (content-addressed), however many versions point at it.

    ``sha256`` is the file delivered (and watermarked, exported, bundled): the
    upload with its JavaScript, actions and embedded files removed
    (``documents.disarm``). ``original_sha256`` is the upload as received, kept
    for the archive and the secretariat; the two are equal when there was nothing
    to remove. ``disarmed`` lists what was removed (kind → count);
    ``signed_original`` says the upload carried digital signatures, which only the
    original still validates if anything was removed.
    """

    __tablename__ = "documents"
    # Two replacements of the same version racing: one wins, the other gets a conflict.
    __table_args__ = (UniqueConstraint("series_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Rows made without it (older callers, fixtures) had nothing removed: the original is the file.
    original_sha256: Mapped[str] = mapped_column(
        String(64), index=True, default=lambda ctx: ctx.get_current_parameters()["sha256"])
    disarmed: Mapped[dict] = mapped_column(JSON, default=dict)
    signed_original: Mapped[bool] = mapped_column(Boolean, default=False)
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    confidentiality: Mapped[str] = mapped_column(String(20), default="normal")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # An Office upload (.docx, .xlsx …): the file as received, kept beside the PDF made from it.
    source_filename: Mapped[str | None] = mapped_column(String(300))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_format: Mapped[str | None] = mapped_column(String(10))
    # The text layer: "text" (the PDF has one), "queued"/"running" (OCR in the job queue),
    # "ready" (the OCR rendition ``ocr_sha256`` carries it), "failed" (``ocr_error`` says why).
    text_layer: Mapped[str] = mapped_column(String(20), default="text")
    ocr_sha256: Mapped[str | None] = mapped_column(String(64))
    ocr_error: Mapped[str | None] = mapped_column(String(300))

    previous: Mapped[Document | None] = relationship(remote_side=[id])

    @property
    def was_disarmed(self) -> bool:
        """Whether the delivered file differs from the upload (something removed or repaired)."""
        return self.original_sha256 not in (None, self.sha256)

    @property
    def needs_watermark(self) -> bool:
        return self.confidentiality != "normal"
