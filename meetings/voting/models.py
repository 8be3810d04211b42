"""Polls, their options, who has voted, the tally, the encrypted ballots, and proxies.

Named polls: ``BallotCast`` holds who voted and their choice; ``PollTally`` the counts.

Secret polls: "who has voted" (``SecretBallotCast``) is kept apart from "what was
voted" (``EncryptedBallot``, ElGamal ciphertexts under the counting committee's
key, see ``meetings.voting.elgamal``). Neither table has a serial id, a
timestamp or a rowid (SQLite: WITHOUT ROWID, rows kept in primary-key order),
so nothing lines a ballot up with its voter. No plaintext choice or count of a
secret poll is ever stored before the committee decrypts the aggregate.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.core.db import Base, UtcDateTime, utcnow
from meetings.voting import committee_models as _committee  # noqa: F401 (polls.committee_id refers to it)

POLL_KINDS = ("for_against_abstain", "single", "multiple")
# "counting": a secret poll takes no more ballots; its encrypted tally waits for k partial decryptions.
POLL_STATUSES = ("draft", "open", "counting", "closed", "published", "annulled")
MAJORITY_BASES = ("cast", "present", "entitled")
TIE_RULES = ("chair", "reject")
OUTCOMES = ("adopted", "rejected", "no_quorum")
# The roles of a for/against/abstain poll's three options.
OPTION_ROLES = ("for", "against", "abstain")


class Poll(Base):
    """One vote of a meeting, with its rules and (once closed) its stored outcome."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30), default="for_against_abstain")
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    # Named polls only: tallies visible to everyone while open.
    results_live: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=False)
    presence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    weighted: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_on_close: Mapped[bool] = mapped_column(Boolean, default=False)
    close_when_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    min_choices: Mapped[int] = mapped_column(Integer, default=1)
    max_choices: Mapped[int] = mapped_column(Integer, default=1)
    # Quorum: at least num/den of the voting members present; None → the meeting's rule.
    quorum_numerator: Mapped[int | None] = mapped_column(Integer)
    quorum_denominator: Mapped[int | None] = mapped_column(Integer)
    majority_base: Mapped[str] = mapped_column(String(20), default="cast")
    threshold_numerator: Mapped[int] = mapped_column(Integer, default=1)
    threshold_denominator: Mapped[int] = mapped_column(Integer, default=2)
    # True: "more than" the fraction; False: "at least" it.
    threshold_strict: Mapped[bool] = mapped_column(Boolean, default=True)
    tie_rule: Mapped[str] = mapped_column(String(20), default="reject")
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    annulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    annul_reason: Mapped[str | None] = mapped_column(Text)
    # When the last live tally went to the room (throttles "poll.tally" events).
    tally_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    tie_break_used: Mapped[bool] = mapped_column(Boolean, default=False)
    # Every figure the outcome was computed from (rules.decide's answer).
    result: Mapped[dict | None] = mapped_column(JSON)
    # Secret polls: the committee whose key encrypts the ballots, the board id (random hex, set at
    # open; the context of every proof), the key copied at open, and the aggregate set at close.
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("counting_committees.id", ondelete="SET NULL"))
    board_id: Mapped[str | None] = mapped_column(String(32))
    public_key: Mapped[str | None] = mapped_column(String(64))
    # [{"a", "b"}] per option in position order; [] when no ballot was cast.
    encrypted_tally: Mapped[list | None] = mapped_column(JSON)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", cascade="all, delete-orphan", order_by="PollOption.position"
    )


class PollOption(Base):
    __tablename__ = "poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(300))
    # for / against / abstain on a for_against_abstain poll; None otherwise.
    role: Mapped[str | None] = mapped_column(String(10))

    poll: Mapped[Poll] = relationship(back_populates="options")


class BallotCast(Base):
    """That ``voter`` has voted in named poll ``poll`` (cast by ``cast_by``, the voter or their proxy).

    ``choice`` holds the option ids. Secret polls use ``SecretBallotCast`` instead (rows
    of secret polls from before encrypted ballots keep ``choice`` NULL). The unique
    constraint is what makes a ballot count once.
    """

    __tablename__ = "ballots_cast"
    __table_args__ = (UniqueConstraint("poll_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    weight: Mapped[int] = mapped_column(Integer, default=1)
    cast_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    choice: Mapped[list | None] = mapped_column(JSON)


class PollTally(Base):
    """The running counts of one poll: ``counts`` maps option id (as text) to weighted count.

    A secret poll keeps one row too, only as the lock row of its ballots and for
    the public counters ``ballots`` and ``weight``; its ``counts`` stay {} until
    the result. Deliberately no timestamp and no reference to any ballot. ``sealed`` is
    set when the poll closes, so the row's last version is written by the
    closing transaction rather than by the last voter's.
    """

    __tablename__ = "poll_tallies"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    ballots: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=0)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)


class SecretBallotCast(Base):
    """That ``voter`` has voted in secret poll ``poll`` (cast by ``cast_by``: the voter or their proxy).

    No id, no time, no reference to the ballot: WITHOUT ROWID on SQLite, so the
    rows are stored in (poll, voter) order, not in the order they arrived.
    """

    __tablename__ = "secret_ballots_cast"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    weight: Mapped[int] = mapped_column(Integer, default=1)


class EncryptedBallot(Base):
    """One secret ballot as cast: its ciphertexts and proofs (``content``), keyed by its hash.

    No timestamp, no voter, no serial id; WITHOUT ROWID on SQLite, so rows are
    kept in hash order (random), not in arrival order. The primary key also
    refuses a copied ballot.
    """

    __tablename__ = "encrypted_ballots"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[dict] = mapped_column(JSON)


class PartialDecryption(Base):
    """Committee member ``member_index``'s partial decryption of a poll's encrypted tally, with proofs."""

    __tablename__ = "partial_decryptions"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    member_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # [{"d", "c", "z"}] per option in position order.
    shares: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Proxy(Base):
    """Member ``grantor`` authorizes member ``holder`` to vote for them in one meeting (ủy quyền).

    ``active_grantor_id`` equals ``grantor_id`` while the proxy is in force and
    is NULL once revoked: the unique constraint on it allows one active proxy
    per grantor and meeting on both SQLite and PostgreSQL (NULLs are distinct).
    """

    __tablename__ = "proxies"
    __table_args__ = (UniqueConstraint("meeting_id", "active_grantor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    grantor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    active_grantor_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
