"""Written opinion forms (phiếu lấy ý kiến): questions, recipients, attachments, answers.

A form belongs to a body (and may name the meeting it prepares); the secretariat drafts it,
sends it ("open"), it closes at its deadline or by hand, and its report (Báo cáo tổng hợp ý
kiến) is composed, signed and published ("reported"). One answer per (form, member) is a
database unique constraint; a changed answer keeps its row and counts its revisions.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.core.db import Base, UtcDateTime, utcnow

FORM_STATUSES = ("draft", "open", "closed", "reported")
QUESTION_KINDS = ("agree", "choice")
# The three answers of an "agree" question and the poll role each counts as in meetings.voting.rules:
# "ý kiến khác" is neither for nor against, so, like an abstention, it stays out of a "cast" base.
AGREE_CHOICES = {"agree": "for", "disagree": "against", "other": "abstain"}


class OpinionForm(Base):
    __tablename__ = "opinion_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    # The sitting the form prepares or replaces, if any (its documents stay the meeting's).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500))
    explanation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=True)
    require_signature: Mapped[bool] = mapped_column(Boolean, default=False)
    # The rules of meetings.voting.rules: base cast / present (answered) / entitled (recipients).
    majority_base: Mapped[str] = mapped_column(String(10), default="entitled")
    threshold_numerator: Mapped[int] = mapped_column(Integer, default=1)
    threshold_denominator: Mapped[int] = mapped_column(Integer, default=2)
    threshold_strict: Mapped[bool] = mapped_column(Boolean, default=True)
    tie_rule: Mapped[str] = mapped_column(String(10), default="chair")
    # Whose answer breaks a tie (the body's chair) and who signs the report (chair or head of the office).
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signer_title: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(50))
    # The tally with every figure it used, stored when the form closes.
    result: Mapped[dict | None] = mapped_column(JSON)
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    report_size: Mapped[int | None] = mapped_column(Integer)
    report_box: Mapped[dict | None] = mapped_column(JSON)
    report_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    report_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    report_signer_name: Mapped[str | None] = mapped_column(String(200))
    report_key_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    questions: Mapped[list[OpinionQuestion]] = relationship(
        back_populates="form", cascade="all, delete-orphan", order_by="OpinionQuestion.position")
    recipients: Mapped[list[OpinionRecipient]] = relationship(cascade="all, delete-orphan")
    attachments: Mapped[list[OpinionAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="OpinionAttachment.id")


class OpinionQuestion(Base):
    __tablename__ = "opinion_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("opinion_forms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    # "choice" questions: [{"id": "o1", "label": "…"}]; "agree" questions have their three fixed answers.
    options: Mapped[list] = mapped_column(JSON, default=list)
    min_choices: Mapped[int] = mapped_column(Integer, default=1)
    max_choices: Mapped[int] = mapped_column(Integer, default=1)

    form: Mapped[OpinionForm] = relationship(back_populates="questions")


class OpinionRecipient(Base):
    __tablename__ = "opinion_recipients"
    __table_args__ = (UniqueConstraint("form_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("opinion_forms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class OpinionAttachment(Base):
    """A PDF sent with the form: checked and disarmed by the document intake, stored as a blob."""

    __tablename__ = "opinion_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("opinion_forms.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    original_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OpinionAnswer(Base):
    __tablename__ = "opinion_answers"
    __table_args__ = (UniqueConstraint("form_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("opinion_forms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # [{"question_id": 1, "choice": "agree", "comment": "…"}, {"question_id": 2, "options": ["o1"], "comment": ""}]
    answers: Mapped[list] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The signed one-page paper of this revision, when the form asks for signatures.
    paper_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    key_id: Mapped[int | None] = mapped_column(Integer)
    certificate_subject: Mapped[str | None] = mapped_column(String(500))
