"""The counting committee (ban kiểm phiếu) of a meeting and its key ceremony.

A committee of n members holds, jointly, the private key of the meeting's
secret ballots: each member's device keeps one share of it (encrypted under
the member's passphrase) and the server never sees a share. k of them decrypt
a poll's encrypted tally together (``meetings.voting.elgamal``, section 1 of
the scheme). The server keeps only what is public: each member's round-1
message (transport key, Feldman commitments, proof), the round-2 shares
encrypted to their recipients, and each member's verification key K_j.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.core.db import Base, UtcDateTime, utcnow

# ceremony: rounds running; ready: the key exists; failed: a complaint (elect again);
# replaced: a newer committee took its place before any poll used it.
COMMITTEE_STATUSES = ("ceremony", "ready", "failed", "replaced")


class CountingCommittee(Base):
    """One committee of a meeting, with its threshold k of n and (once ready) the public key Y."""

    __tablename__ = "counting_committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    # Random hex: the ceremony's context string (cid), so messages of one committee fit no other.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    threshold: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="ceremony")
    public_key: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure: Mapped[str | None] = mapped_column(String(500))

    members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="committee", cascade="all, delete-orphan", order_by="CommitteeMember.index"
    )


class CommitteeMember(Base):
    """Member ``index`` (1..n) of a committee: their public round-1 message and K_j once confirmed."""

    __tablename__ = "committee_members"
    __table_args__ = (UniqueConstraint("committee_id", "index"), UniqueConstraint("committee_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("counting_committees.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    # {"transport_key", "commitments", "pok"}, as verified on receipt.
    round1: Mapped[dict | None] = mapped_column(JSON)
    verification_key: Mapped[str | None] = mapped_column(String(64))
    # The index of the member whose share failed this member's Feldman check.
    complaint_against: Mapped[int | None] = mapped_column(Integer)

    committee: Mapped[CountingCommittee] = relationship(back_populates="members")


class KeyShareMessage(Base):
    """Round 2: the share s_ij of ``sender_index`` for ``recipient_index``, encrypted to the recipient."""

    __tablename__ = "key_share_messages"
    __table_args__ = (UniqueConstraint("committee_id", "sender_index", "recipient_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("counting_committees.id", ondelete="CASCADE"))
    sender_index: Mapped[int] = mapped_column(Integer)
    recipient_index: Mapped[int] = mapped_column(Integer)
    ephemeral: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[str] = mapped_column(String(64))
