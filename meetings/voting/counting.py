"""The count of a secret poll: the committee's partial decryptions, and combining them into the result.

Once a secret poll closes (``closing.close``: status ``counting``, its encrypted
tally stored), each member's device posts its partial decryption of the tally
with a proof (``meetings.voting.elgamal``). A partial is checked against the
member's verification key K_j before anything is written, and stored once per
member. The transaction that stores the k-th valid partial combines any k of
them, and ``closing.conclude`` computes the outcome from the counts: no member's
absence blocks the count while k remain.

Kill -9 between the k-th partial's commit and the combine cannot happen (they are
one transaction), but a partial stored before an upgrade, or a combine that
failed, would leave a ``counting`` poll with k partials: the next read of it
combines then (``needs_combining``, called by ``expiry.settle``).
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, scoped_session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import end_read_only_transaction
from meetings.core.errors import Conflict, DomainError, Forbidden
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.voting import closing, elgamal, policy, tally
from meetings.voting.committee_models import CommitteeMember, CountingCommittee
from meetings.voting.models import PartialDecryption, Poll

log = logging.getLogger(__name__)
_INSERT_PARTIAL = insert(PartialDecryption.__table__)


def committee_member(session: Session, poll: Poll, user: User) -> CommitteeMember | None:
    """The caller's seat on the committee whose key the poll uses, if they have one."""
    if poll.committee_id is None:
        return None
    return session.execute(select(CommitteeMember).where(
        CommitteeMember.committee_id == poll.committee_id, CommitteeMember.user_id == user.id)).scalar_one_or_none()


def stored_partials(session: Session, poll_id: int) -> dict[int, list[dict]]:
    """Every stored partial decryption of the poll: member index → shares (each verified on receipt)."""
    rows = session.execute(select(PartialDecryption.member_index, PartialDecryption.shares)
                           .where(PartialDecryption.poll_id == poll_id)
                           .order_by(PartialDecryption.member_index)).all()
    return {index: shares for index, shares in rows}


def _threshold(session: Session, poll: Poll) -> int:
    return session.execute(select(CountingCommittee.threshold)
                           .where(CountingCommittee.id == poll.committee_id)).scalar_one()


def _answer(poll: Poll, index: int, shares: list[dict], received: int, threshold: int) -> dict[str, Any]:
    return {"poll_id": poll.id, "member_index": index, "shares": shares, "status": poll.status,
            "partials": received, "threshold": threshold}


def _verified(poll: Poll, member: CommitteeMember, shares: Any) -> list[dict]:
    """The member's shares if each proof holds against their K_j (else 400 invalid_partial)."""
    tally_items = poll.encrypted_tally or []
    if not isinstance(shares, list) or len(shares) != len(tally_items) or not member.verification_key:
        raise DomainError(f"Send one partial decryption per option ({len(tally_items)}).",  # 400
                          code="invalid_partial")
    try:
        for i, (item, share) in enumerate(zip(tally_items, shares, strict=True), 1):
            elgamal.verify_partial(poll.board_id, i, member.index, member.verification_key, item, share)
    except (elgamal.InvalidProof, ValueError, TypeError, KeyError) as err:
        raise DomainError(f"The partial decryption does not verify: {err}.", code="invalid_partial") from None
    return shares


def submit_partial(session: Session, poll: Poll, user: User, shares: Any) -> dict[str, Any]:
    """Store a committee member's partial decryption of a counting poll; combine at the k-th.

    Idempotent per member: once one is stored, a later valid one answers with the stored
    one. The caller (``reading.visible_poll``) has checked that ``user`` may see the poll;
    the caller commits, so the partial is committed before it is acknowledged.
    """
    if not poll.secret:
        raise Conflict("A named poll is counted without a committee.", code="not_secret")
    member = committee_member(session, poll, user)
    # The member alone, from their own device (as in the ceremony): never the secretariat for them.
    if not policy.can_take_part_in_ceremony(session.get(Meeting, poll.meeting_id), user, member):
        raise Forbidden("Only the counting committee's members decrypt the tally.", code="not_committee_member")
    if poll.status == "open" or poll.status == "draft":
        raise Conflict(f"The poll is {poll.status}: it is counted once closed.", code="poll_not_counting")
    shares = _verified(poll, member, shares)
    threshold = _threshold(session, poll)
    kept = stored_partials(session, poll.id)
    if member.index in kept:
        return _answer(poll, member.index, kept[member.index], len(kept), threshold)
    if poll.status != "counting":
        raise Conflict(f"The count is over (the poll is {poll.status}).", code="poll_not_counting")

    real = session() if isinstance(session, scoped_session) else session
    end_read_only_transaction(real)  # SQLite: the write below waits for the lock like any writer
    tally.locked_tally(session, poll.id)  # partials of one poll one at a time: one combine, by the k-th
    session.refresh(poll)  # as another member's partial may have left it
    kept = stored_partials(session, poll.id)
    if member.index in kept:  # the member's other device got there first
        return _answer(poll, member.index, kept[member.index], len(kept), threshold)
    if poll.status != "counting":
        raise Conflict(f"The count is over (the poll is {poll.status}).", code="poll_not_counting")
    session.execute(_INSERT_PARTIAL, {"poll_id": poll.id, "member_index": member.index, "shares": shares})
    audit.record(session, "poll.partial_decryption", actor_id=user.id, object_type="poll", object_id=poll.id,
                 meeting_id=poll.meeting_id, details={"member_index": member.index})
    received = session.execute(select(func.count()).select_from(PartialDecryption)
                               .where(PartialDecryption.poll_id == poll.id)).scalar_one()
    eventlog.append(session, poll.meeting_id, "poll.count_progress",
                    {"poll_id": poll.id, "partials": received, "threshold": threshold}, actor_id=user.id)
    if received >= threshold:
        combine(session, poll)
    return _answer(poll, member.index, shares, received, threshold)


def combine(session: Session, poll: Poll) -> bool:
    """Counting → closed from any k stored partials (the caller holds the tally row's lock and
    commits). False, with an error logged, when they do not give counts (never expected: each
    partial was verified against its member's key)."""
    threshold = _threshold(session, poll)
    kept = stored_partials(session, poll.id)
    if poll.status != "counting" or len(kept) < threshold:
        return False
    chosen = dict(sorted(kept.items())[:threshold])
    cast_weight = (poll.result or {}).get(closing.AWAITING, {}).get("cast", 0)
    try:
        counts = elgamal.combine(poll.board_id, poll.encrypted_tally, chosen, max_count=cast_weight)
    except elgamal.InvalidProof as err:
        log.error("secret poll %s: the partial decryptions of members %s do not combine (%s)",
                  poll.id, sorted(chosen), err.reason)
        return False
    closing.conclude(session, poll, counts)
    return True


def needs_combining(session: Session, poll: Poll) -> bool:
    """A counting poll with k partials stored and no result yet (a count to resume)."""
    if poll.status != "counting" or poll.committee_id is None:
        return False
    received = session.execute(select(func.count()).select_from(PartialDecryption)
                               .where(PartialDecryption.poll_id == poll.id)).scalar_one()
    return received >= _threshold(session, poll)
