"""Bodies, meetings, participants and agenda items."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.accounts import factor_roles
from meetings.accounts.models import User
from meetings.core.db import Base, UtcDateTime, utcnow
from meetings.platform.realtime import eventlog

MEETING_STATUSES = ("draft", "scheduled", "in_progress", "adjourned", "closed")
# Allowed moves of a meeting's status; "adjourned" may resume.
MEETING_TRANSITIONS = {
    "draft": {"scheduled"},
    "scheduled": {"draft", "in_progress"},
    "in_progress": {"adjourned"},
    "adjourned": {"in_progress", "closed"},
    "closed": set(),
}
CONFIDENTIALITY = ("normal", "internal", "confidential", "secret", "top_secret")
PARTICIPANT_ROLES = ("chair", "secretary", "delegate", "observer")
ITEM_STATUSES = ("pending", "open", "done", "deferred")


class Body(Base):
    """An organization or committee that holds meetings (e.g. a People's Committee)."""

    __tablename__ = "bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(50))
    # The issuing authority printed above the body's name in documents.
    parent_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    # Default quorum rule for its meetings: at least num/den of the members.
    quorum_numerator: Mapped[int] = mapped_column(Integer, default=2)
    quorum_denominator: Mapped[int] = mapped_column(Integer, default=3)
    # The locality printed on its documents' date line: "Lâm Đồng, ngày … tháng … năm …".
    place_name: Mapped[str | None] = mapped_column(String(100))
    # The minutes' closing words and distribution: "Lập thành … bản", "Nơi nhận".
    minutes_copies: Mapped[int] = mapped_column(Integer, default=2)
    minutes_recipients: Mapped[list] = mapped_column(JSON, default=list)
    # Agenda items never discussed: "mark" them so in the minutes, or "omit" them.
    minutes_undiscussed: Mapped[str] = mapped_column(String(10), default="mark")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    members: Mapped[list[BodyMember]] = relationship(
        back_populates="body", cascade="all, delete-orphan"
    )


class BodyMember(Base):
    __tablename__ = "body_members"
    __table_args__ = (UniqueConstraint("body_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[str | None] = mapped_column(String(200))
    # Secretariat members prepare and run the body's meetings.
    is_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)

    body: Mapped[Body] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    confidentiality: Mapped[str] = mapped_column(String(20), default="normal")
    # Overrides the body's quorum rule when set.
    quorum_numerator: Mapped[int | None] = mapped_column(Integer)
    quorum_denominator: Mapped[int | None] = mapped_column(Integer)
    # Highest event seq handed out for this meeting (see meetings.platform.realtime.eventlog).
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # When the secretariat closed it (the record's end is its last sitting period's end).
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )

    body: Mapped[Body] = relationship()
    sittings: Mapped[list[SittingPeriod]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="SittingPeriod.started_at"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="AgendaItem.position",
    )

    def quorum_rule(self) -> tuple[int, int]:
        """The (numerator, denominator) fraction of members needed for quorum."""
        if self.quorum_numerator and self.quorum_denominator:
            return self.quorum_numerator, self.quorum_denominator
        return self.body.quorum_numerator, self.body.quorum_denominator


class SittingPeriod(Base):
    """One stretch of a sitting actually held: from "in progress" to "adjourned".

    Written by ``sittings.change_status``, never set by hand: the minutes print
    these times (the start, each suspension and resumption, the end), not the
    planned ones.
    """

    __tablename__ = "sitting_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="sittings")


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="delegate")
    can_vote: Mapped[bool] = mapped_column(Boolean, default=True)
    vote_weight: Mapped[int] = mapped_column(Integer, default=1)

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class AgendaItem(Base):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    # One level of sub-items: a parent never has a parent itself.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    planned_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # What the secretariat records as the item's conclusion; feeds the minutes.
    conclusion: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    presenter: Mapped[User | None] = relationship()


# Each meeting's event counter is its own row (docs/realtime.md, "seq").
eventlog.count_on(Meeting.__table__.c.id, Meeting.__table__.c.last_seq, Meeting.__table__.c.status)
# MFA_REQUIRED_ROLES "secretariat": the secretariat of any body (meetings/accounts/factor_roles.py).
factor_roles.role_requires("secretariat", lambda session, user: session.execute(select(BodyMember.id).where(
    BodyMember.user_id == user.id, BodyMember.is_secretariat.is_(True)).limit(1)).first() is not None)
