"""Follow-up tasks: what a conclusion (or an opinion result) asks a unit to do, by when.

A task is assigned to a lead unit (đơn vị chủ trì), to a person, or both, with supporting
units (đơn vị phối hợp). Its life: assigned → in_progress → submitted (done, with evidence)
→ accepted, or returned (sent back with a reason) → in_progress again. Its source is kept
generic (kind, id, label, the meeting) so a task never depends on the module it came from.
``TaskEntry`` is the task's history: every report, decision and change, in order.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.accounts.models import User
from meetings.bodies.unit_models import Unit
from meetings.core.db import Base, UtcDateTime, utcnow

TASK_STATUSES = ("assigned", "in_progress", "submitted", "accepted", "returned")
PRIORITIES = ("low", "normal", "high", "urgent")
SOURCE_KINDS = ("conclusion", "opinion", "manual")
EXTENSION_STATUSES = ("pending", "approved", "refused")


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    # The sitting the task came from (a conclusion notice's meeting), for the dashboard's filter.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    source_kind: Mapped[str] = mapped_column(String(20), default="manual")
    source_id: Mapped[int | None] = mapped_column(Integer)
    # What the source was called when the task was made ("Kết luận 2, Thông báo số 15/TB-UBND").
    source_label: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    # The deadline first given; ``deadline`` moves with approved extensions.
    original_deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="assigned", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    supports: Mapped[list[TaskSupport]] = relationship(back_populates="task", cascade="all, delete-orphan")
    entries: Mapped[list[TaskEntry]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                    order_by="TaskEntry.id")
    files: Mapped[list[TaskFile]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                 order_by="TaskFile.id")
    extensions: Mapped[list[TaskExtension]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                           order_by="TaskExtension.id")

    @property
    def support_unit_ids(self) -> list[int]:
        return [s.unit_id for s in self.supports]


class TaskSupport(Base):
    """A supporting unit (đơn vị phối hợp) of a task."""

    __tablename__ = "task_supports"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)

    task: Mapped[Task] = relationship(back_populates="supports")
    unit: Mapped[Unit] = relationship()


class TaskEntry(Base):
    """One line of a task's history: a progress report, a submission, a decision, a change."""

    __tablename__ = "task_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    text: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int | None] = mapped_column(Integer)
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    task: Mapped[Task] = relationship(back_populates="entries")
    author: Mapped[User | None] = relationship()


class TaskFile(Base):
    """A file reported on a task (progress or evidence): a checked PDF in the content-addressed store."""

    __tablename__ = "task_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("task_entries.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="files")


class TaskExtension(Base):
    """A request to move a task's deadline, and the office's answer."""

    __tablename__ = "task_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    old_deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    new_deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer: Mapped[str | None] = mapped_column(Text)

    task: Mapped[Task] = relationship(back_populates="extensions")
