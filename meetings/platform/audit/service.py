"""Writing and verifying the hash-chained audit log.

Every state-changing service call records one entry inside its own
transaction, so an action and its audit entry commit or roll back together.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.platform.audit.models import AuditEntry

GENESIS = "0" * 64
# Any constant works; it names "the audit chain" among PostgreSQL advisory locks.
_CHAIN_LOCK = 727_001
_ENTRIES = AuditEntry.__table__
# Built once: constructing statements is a good part of an append's cost.
_LAST_HASH = select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
_INSERT = insert(_ENTRIES).returning(_ENTRIES.c.id)
_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "meeting_id", "details", "prev_hash", "hash")


def _utc_text(at: datetime) -> str:
    # SQLite hands back naive datetimes, PostgreSQL aware ones: hash one form.
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def entry_hash(entry: AuditEntry) -> str:
    """The sha256 that chains ``entry`` to the one before it."""
    body = {
        "prev": entry.prev_hash,
        "at": _utc_text(entry.at),
        "actor": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "meeting": entry.meeting_id,
        "details": entry.details or {},
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    object_type: str | None = None,
    object_id: int | None = None,
    meeting_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to the chain in the caller's transaction.

    ``details`` must never carry a secret: no passwords, no secret ballot choices.
    Pending changes of the session are flushed first (the chain's read does it).
    """
    if session.get_bind().dialect.name == "postgresql":
        # Held until commit: appends are serialized so the chain never forks.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    prev = session.execute(_LAST_HASH).scalar_one_or_none()
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        meeting_id=meeting_id,
        details=details or {},
        prev_hash=prev or GENESIS,
    )
    entry.hash = entry_hash(entry)
    # A plain INSERT rather than a unit-of-work flush: this runs on every audited change
    # (each ballot, each shared annotation). The returned entry is a record of what was
    # stored, not attached to the session.
    entry.id = session.execute(_INSERT, {c: getattr(entry, c) for c in _COLUMNS}).scalar_one()
    return entry


_INSERT_MANY = insert(_ENTRIES)


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append several entries to the chain, in order, in the caller's transaction: one read of the
    chain's end and one INSERT for all (a batch of ballots, ``meetings.voting.group_commit``).

    Each dict holds ``action`` and :func:`record`'s keyword arguments; the same rule on secrets."""
    if not entries:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    prev = session.execute(_LAST_HASH).scalar_one_or_none() or GENESIS
    rows = []
    for fields in entries:
        entry = AuditEntry(at=utcnow(), actor_id=fields.get("actor_id"), action=fields["action"],
                           object_type=fields.get("object_type"), object_id=fields.get("object_id"),
                           meeting_id=fields.get("meeting_id"), details=fields.get("details") or {}, prev_hash=prev)
        entry.hash = prev = entry_hash(entry)
        rows.append({c: getattr(entry, c) for c in _COLUMNS})
    session.execute(_INSERT_MANY, rows)  # executed row by row in this order: ids follow the chain


@dataclass
class ChainProblem:
    entry_id: int
    problem: str


def verify_chain(session: Session) -> list[ChainProblem]:
    """Walk the whole chain; return every break found (empty when intact)."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        if entry.prev_hash != expected_prev:
            problems.append(ChainProblem(entry.id, "does not follow the entry before it "
                                                    "(an entry was inserted or deleted)"))
        if entry_hash(entry) != entry.hash:
            problems.append(ChainProblem(entry.id, "content changed after it was written"))
        expected_prev = entry.hash
    return problems
