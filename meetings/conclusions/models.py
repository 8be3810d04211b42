"""Conclusion notices (thông báo kết luận): the notice, its numbered conclusions, the body's register and settings.

A notice is composed from a closed sitting's conclusions per agenda item
(``AgendaItem.conclusion``), edited by the secretariat, signed by the chair
(or the Chánh Văn phòng "TL. Chủ tịch", by the body's setting), published and
sent to the recipients (Nơi nhận). Its conclusions are the rows follow-up
tasks are made from (``meetings.tasks``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.core.db import Base, UtcDateTime, utcnow

# draft → (edited) → ready (number taken, final PDF with its empty field) → signed → published (and sent)
NOTICE_STATUSES = ("draft", "ready", "signed", "published")
# Who signs: the chair ("KT." / "TM." and the chair), or the Chánh Văn phòng by authority ("TL. CHỦ TỊCH").
SIGNING_MODES = ("chair", "chief_of_office")
SIGN_HEADS = ("TM.", "KT.", "")


class ConclusionNotice(Base):
    """One Thông báo kết luận of a meeting (one per meeting)."""

    __tablename__ = "conclusion_notices"
    __table_args__ = (UniqueConstraint("meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    number: Mapped[str | None] = mapped_column(String(60))
    # "Kết luận của Chủ tịch UBND tỉnh tại phiên họp …": the subtitle under THÔNG BÁO.
    subject: Mapped[str] = mapped_column(String(1000))
    opening_text: Mapped[str | None] = mapped_column(Text)
    # "Nơi nhận:" lines as printed; units and e-mails below are who the published notice is sent to.
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    recipient_unit_ids: Mapped[list] = mapped_column(JSON, default=list)
    extra_emails: Mapped[list] = mapped_column(JSON, default=list)
    send_to_participants: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fixed when the notice is made ready: how the signature block reads and who signs.
    signing_mode: Mapped[str] = mapped_column(String(20), default="chair")
    sign_head: Mapped[str] = mapped_column(String(10), default="KT.")
    signer_title: Mapped[str | None] = mapped_column(String(200))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[dict] = mapped_column(JSON, default=dict)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    certificate_subject: Mapped[str | None] = mapped_column(String(500))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("signer_keys.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the date line's day
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[ConclusionItem]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="ConclusionItem.number")


class ConclusionItem(Base):
    """One numbered conclusion of a notice ("1. …"), from an agenda item or added by the secretariat."""

    __tablename__ = "conclusion_items"
    __table_args__ = (UniqueConstraint("notice_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("conclusion_notices.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)

    notice: Mapped[ConclusionNotice] = relationship(back_populates="items")


class ConclusionRegister(Base):
    """A body's register of notice numbers: one counter per calendar year ("Số: 12/TB-UBND")."""

    __tablename__ = "conclusion_registers"
    __table_args__ = (UniqueConstraint("body_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ConclusionSettings(Base):
    """A body's settings for its notices: who signs, the chair's title, the default Nơi nhận."""

    __tablename__ = "conclusion_settings"

    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True)
    signing_mode: Mapped[str] = mapped_column(String(20), default="chair")
    # "KT." (the vice-chair signs for the chair) or "TM." (on behalf of the body) above the chair's title.
    sign_head: Mapped[str] = mapped_column(String(10), default="TM.")
    chair_title: Mapped[str] = mapped_column(String(200), default="Chủ tịch")
    # The Chánh Văn phòng, who signs "TL. CHỦ TỊCH / CHÁNH VĂN PHÒNG" when signing_mode is chief_of_office.
    office_chief_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    office_chief_title: Mapped[str] = mapped_column(String(200), default="Chánh Văn phòng")
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
