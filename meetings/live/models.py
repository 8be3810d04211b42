"""The live room's state: attendance, presence, presenter state, speakers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.accounts.models import User
from meetings.core.db import Base, UtcDateTime, utcnow

ATTENDANCE_STATUSES = ("present", "absent", "excused", "remote")
SPEECH_KINDS = ("speech", "question", "point_of_order")
SPEECH_POSITIONS = ("for", "against")
# waiting → speaking → done; waiting → skipped | withdrawn
SPEAKER_STATUSES = ("waiting", "speaking", "done", "skipped", "withdrawn")


class Attendance(Base):
    """The roll call: one row per participant once the secretariat has marked them."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Presence(Base):
    """One connected socket that joined a meeting. A user is online in a meeting
    while they have at least one row; several devices give several rows.

    Kept in the database (not in one process's memory) so that every server
    process behind the message queue sees the same presence; ``node`` names the
    process holding the socket so rows left by a crashed process can be purged.
    """

    __tablename__ = "live_presence"
    __table_args__ = (UniqueConstraint("sid", "meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sid: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(120), index=True)
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveState(Base):
    """What the hall shows now: one row per meeting, updated in place (a page turn
    is one UPDATE of this row plus its event)."""

    __tablename__ = "live_state"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    page: Mapped[int] = mapped_column(Integer, default=1)
    zoom: Mapped[float] = mapped_column(Float, default=1.0)
    # Who may drive the viewers besides the chair and secretariat: the open item's
    # presenter by default, or whoever the chair designates.
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SpeakerRequest(Base):
    """A request to speak, and — once called — the speech itself (for the minutes)."""

    __tablename__ = "speaker_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="speech")
    position: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    # Queue order among waiting requests; lower speaks first.
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    limit_seconds: Mapped[int | None] = mapped_column(Integer)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
