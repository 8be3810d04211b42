"""Meeting templates of a body, and the documents an agenda item expects (its "slots")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meetings.bodies.recurrence import DEFAULT_TITLE_PATTERN
from meetings.core.db import Base, UtcDateTime, utcnow


class AgendaDocumentSlot(Base):
    """A document an agenda item expects ("Chờ tài liệu: Báo cáo kinh tế - xã hội tháng 12").

    A slot is filled when a current document of the same item carries its title (the
    preparation page uploads into a slot under that title); copies of a meeting and
    templates carry the slots, never the documents, so the new sitting shows what to collect.
    """

    __tablename__ = "agenda_document_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(500))


class MeetingTemplate(Base):
    """A body's meeting skeleton: settings, participants and roles, agenda with document slots.

    ``content`` is a snapshot taken from a meeting (``templates.skeleton_of``), so the template
    stays as it was saved whatever later happens to that meeting. The body's *regular* template
    makes its monthly sitting: the date by ``date_rule`` and the anchor (``day``, ``weekday``,
    ``week``), at ``start_time`` local time, titled by ``title_pattern``.
    """

    __tablename__ = "meeting_templates"
    __table_args__ = (UniqueConstraint("body_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # At most one per body (templates.py keeps it so): the one "Phiên họp thường kỳ" uses.
    regular: Mapped[bool] = mapped_column(Boolean, default=False)
    title_pattern: Mapped[str] = mapped_column(String(300), default=DEFAULT_TITLE_PATTERN)
    date_rule: Mapped[str] = mapped_column(String(30), default="weekday_of_month")
    day: Mapped[int] = mapped_column(Integer, default=1)        # day of month, 1-31
    weekday: Mapped[int] = mapped_column(Integer, default=0)    # Monday 0 … Sunday 6
    week: Mapped[int] = mapped_column(Integer, default=1)       # week of month 1-4, 5 = the last
    start_time: Mapped[str] = mapped_column(String(5), default="08:00")  # local "HH:MM"
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    source_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
