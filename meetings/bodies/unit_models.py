"""Units of a body: the departments and offices that carry out its conclusions.

A People's Committee's units are its departments (Sở Tài chính, Sở Xây dựng …) and
offices; a board's are its divisions. A user belongs to a unit through a
``UnitMember`` row; the head (``is_head``) answers for the unit's tasks.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.accounts.models import User
from meetings.core.db import Base, UtcDateTime, utcnow


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("body_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(50))
    # e-mail of the unit's office, for notices addressed to the unit rather than a person
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    members: Mapped[list[UnitMember]] = relationship(back_populates="unit", cascade="all, delete-orphan")

    @property
    def members_in_order(self) -> list[UnitMember]:
        """Its members as every list of them reads: the head(s) first, then by name."""
        return sorted(self.members, key=lambda m: (not m.is_head, m.user.full_name, m.id))


class UnitMember(Base):
    __tablename__ = "unit_members"
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)

    unit: Mapped[Unit] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
