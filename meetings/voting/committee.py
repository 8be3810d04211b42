"""The counting committee: its election and its key ceremony (a joint Feldman DKG).

The chair or secretariat elects n members and a threshold k (default: the chair and
the secretary, 2 of 2, made when the first secret poll is created). Each member's
device then runs the rounds of ``meetings.voting.elgamal_dkg`` through REST (``ceremony``):

1. ``publish_round1``: transport key, Feldman commitments, proof of knowledge;
2. ``send_shares`` (once every member published): one encrypted share per other member;
3. ``confirm`` (once every member sent): the verification key K_j, checked against the
   commitments, or a complaint naming a member whose share failed, which fails the
   committee (the secretariat elects again).

When every member confirmed, the committee is ``ready`` and its public key Y = Σ C_{i,0}
encrypts the ballots of the sitting's secret polls. The server stores only public
messages (the shares travel encrypted to their recipients) and verifies every one
before storing it: a refused message leaves nothing behind.

Each write: permission (``policy``), validation, the meeting's committees locked (so rounds
and the last confirmation are decided by one transaction at a time), the write, an
audit entry and a ``committee.changed`` event to the meeting's room (counts and
status, no message); the caller's commit point commits.
"""
from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.core.db import end_read_only_transaction
from meetings.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.voting import policy
from meetings.voting.committee_models import CommitteeMember, CountingCommittee, KeyShareMessage
from meetings.voting.models import Poll

MIN_SIZE, MAX_SIZE = 2, 15
# Any constant works; it names "a meeting's counting committees" among PostgreSQL advisory locks.
_COMMITTEE_LOCK = 727_014
HEX64 = re.compile(r"[0-9a-f]{64}")


class InvalidMessage(DomainError):
    """A ceremony message that does not verify (bad encoding, point, proof or key): 400."""

    status = 400
    code = "invalid_message"


# --- reading ------------------------------------------------------------------------------------

def current_committee(session: Session, meeting_id: int) -> CountingCommittee | None:
    """The meeting's committee in force (ceremony, ready or failed), or None if none was elected."""
    return session.execute(
        select(CountingCommittee)
        .where(CountingCommittee.meeting_id == meeting_id, CountingCommittee.status != "replaced")
        .order_by(CountingCommittee.id.desc()).limit(1)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def ready_committee(session: Session, meeting: Meeting) -> CountingCommittee | None:
    """The committee whose key a secret poll opening now must use, or None if it is not ready.

    Takes the committees' lock first, so a re-election cannot slip in between this
    read and the poll recording the committee (the caller commits)."""
    _lock_committees(session, meeting.id)
    committee = current_committee(session, meeting.id)
    return committee if committee is not None and committee.status == "ready" else None


def member_of(session: Session, committee: CountingCommittee, user: User | None) -> CommitteeMember | None:
    """The user's seat on the committee, or None."""
    if user is None:
        return None
    return session.execute(select(CommitteeMember).where(
        CommitteeMember.committee_id == committee.id, CommitteeMember.user_id == user.id)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def in_use(session: Session, committee: CountingCommittee) -> bool:
    """True once a poll was opened with the committee's key."""
    return session.execute(select(Poll.id).where(Poll.committee_id == committee.id).limit(1)).first() is not None


def taking_ballots(session: Session, committee: CountingCommittee) -> bool:
    """True while a poll under the committee's key is open: ballots are being encrypted to it."""
    return session.execute(select(Poll.id).where(Poll.committee_id == committee.id, Poll.status == "open")
                           .limit(1)).first() is not None


def seated_members(session: Session, committee: CountingCommittee) -> list[CommitteeMember]:
    return list(session.execute(
        select(CommitteeMember).where(CommitteeMember.committee_id == committee.id)
        .order_by(CommitteeMember.index).execution_options(populate_existing=True)).scalars())


def _senders(session: Session, committee: CountingCommittee) -> set[int]:
    return set(session.execute(select(KeyShareMessage.sender_index).where(
        KeyShareMessage.committee_id == committee.id).distinct()).scalars())


def share_count(session: Session, committee: CountingCommittee) -> int:
    return session.execute(select(func.count()).select_from(KeyShareMessage).where(
        KeyShareMessage.committee_id == committee.id)).scalar_one()


def _progress(session: Session, committee: CountingCommittee,
              members: list[CommitteeMember] | None = None) -> dict[str, int]:
    members = members if members is not None else seated_members(session, committee)
    return {"published": sum(m.round1 is not None for m in members),
            "shares_sent": len(_senders(session, committee)),
            "confirmed": sum(m.verification_key is not None for m in members)}


def _round_of(member: CommitteeMember, senders: set[int]) -> str:
    if member.verification_key is not None:
        return "confirmed"
    if member.index in senders:
        return "shares_sent"
    return "published" if member.round1 is not None else "invited"


def _next_step(committee: CountingCommittee, me: CommitteeMember, members: list[CommitteeMember],
               senders: set[int]) -> str:
    """What the member's device must do now: round1, round2, confirm, wait, done or none."""
    if committee.status == "ready":
        return "done"
    if committee.status != "ceremony":
        return "none"
    if me.round1 is None:
        return "round1"
    if any(m.round1 is None for m in members):
        return "wait"
    if me.index not in senders:
        return "round2"
    if len(senders) < len(members):
        return "wait"
    return "confirm" if me.verification_key is None and me.complaint_against is None else "wait"


def committee_view(session: Session, committee: CountingCommittee, user: User | None) -> dict[str, Any]:
    """The committee as REST shows it: status, key, members and their round; the caller's seat."""
    members = seated_members(session, committee)
    senders = _senders(session, committee)
    names = dict(session.execute(select(User.id, User.full_name).where(
        User.id.in_([m.user_id for m in members]))).all())
    mine = next((m for m in members if user is not None and m.user_id == user.id), None)
    return {
        "id": committee.id, "meeting_id": committee.meeting_id, "uid": committee.uid,
        "threshold": committee.threshold, "size": committee.size, "status": committee.status,
        "public_key": committee.public_key, "failure": committee.failure,
        "created_at": committee.created_at, "ready_at": committee.ready_at,
        "in_use": in_use(session, committee),
        "members": [{"index": m.index, "user_id": m.user_id, "name": names.get(m.user_id, ""),
                     "round": _round_of(m, senders), "verification_key": m.verification_key,
                     "complaint_against": m.complaint_against} for m in members],
        "progress": _progress(session, committee, members),
        "me": None if mine is None else {"index": mine.index,
                                         "next": _next_step(committee, mine, members, senders)},
    }


def visible_committee(session: Session, meeting: Meeting, user: User) -> CountingCommittee:
    """The meeting's committee in force, for whoever sees the meeting (404 no_committee if none)."""
    if not policy.can_see_committee(meeting, user):
        raise NotFound("No such meeting.")
    committee = current_committee(session, meeting.id)
    if committee is None:
        raise NotFound("The meeting has no counting committee yet.", code="no_committee")
    return committee


def round1_messages(session: Session, meeting: Meeting, user: User) -> list[dict[str, Any]]:
    """Every member's round-1 message, for the committee's members once all have published."""
    committee, _ = seat(session, meeting, user)
    members = seated_members(session, committee)
    if any(m.round1 is None for m in members):
        raise Conflict("Not every member has published round 1 yet.", code="wrong_round")
    return [{"index": m.index, "message": m.round1} for m in members]


def shares_for(session: Session, meeting: Meeting, user: User) -> list[dict[str, Any]]:
    """The encrypted shares addressed to the caller, once every member has sent theirs."""
    committee, me = seat(session, meeting, user)
    if share_count(session, committee) < committee.size * (committee.size - 1):
        raise Conflict("Not every member has sent their shares yet.", code="wrong_round")
    rows = session.execute(select(KeyShareMessage).where(
        KeyShareMessage.committee_id == committee.id, KeyShareMessage.recipient_index == me.index)
        .order_by(KeyShareMessage.sender_index)).scalars()
    return [{"from": r.sender_index, "to": r.recipient_index, "ephemeral": r.ephemeral,
             "ciphertext": r.ciphertext} for r in rows]


def seat(session: Session, meeting: Meeting, user: User) -> tuple[CountingCommittee, CommitteeMember]:
    """The committee and the caller's seat on it: 404 for who may not see it, 403 for a non-member."""
    committee = visible_committee(session, meeting, user)
    member = member_of(session, committee, user)
    if not policy.can_take_part_in_ceremony(meeting, user, member):
        raise Forbidden("Only the counting committee's members take part in its key ceremony.",
                        code="not_committee_member")
    return committee, member


# --- election -----------------------------------------------------------------------------------

def _lock_committees(session: Session, meeting_id: int) -> None:
    """Committee writes of one meeting run one at a time, until commit.

    PostgreSQL: an advisory lock of the meeting's committees, taken before the audit chain's
    and the meeting row's (the event log's) locks, and never while waiting for one of them,
    so no cycle of waits can form. SQLite: a write that matches nothing still takes the
    database's write lock, which every writer waits for.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k, :m)"), {"k": _COMMITTEE_LOCK, "m": meeting_id})
    else:
        session.execute(update(CountingCommittee).where(CountingCommittee.meeting_id == meeting_id)
                        .values(status=CountingCommittee.status), execution_options={"synchronize_session": False})


def start_write(session: Session, meeting_id: int) -> None:
    """End a transaction that only read (SQLite cannot turn an old read snapshot into a write),
    then take the committees' lock."""
    end_read_only_transaction(session)
    _lock_committees(session, meeting_id)


def announce_change(session: Session, committee: CountingCommittee, actor: User | None) -> None:
    """Tell the room how far the committee is (devices step forward on it). No message, no key share."""
    data: dict[str, Any] = {"committee_id": committee.id, "uid": committee.uid, "status": committee.status,
                            "threshold": committee.threshold, "size": committee.size,
                            **_progress(session, committee)}
    if committee.status == "ready":
        data["public_key"] = committee.public_key
    eventlog.append(session, committee.meeting_id, "committee.changed", data,
                    actor_id=actor.id if actor else None)


def _create(session: Session, meeting: Meeting, actor: User, user_ids: list[int], threshold: int,
            *, default: bool) -> CountingCommittee:
    """Replace the committee in force (unless a poll uses it) by a new one in ceremony."""
    old = current_committee(session, meeting.id)
    if old is not None:
        # A committee whose key a poll used may still be replaced (a member's share lost, say):
        # its polls keep their committee_id and are counted by it; only an open poll forbids it.
        if taking_ballots(session, old):
            raise Conflict("A poll under the counting committee's key is open; close it before electing "
                           "another committee.", code="committee_in_use")
        old.status = "replaced"
    committee = CountingCommittee(meeting_id=meeting.id, uid=secrets.token_hex(16), threshold=threshold,
                                  size=len(user_ids), status="ceremony", created_by_id=actor.id,
                                  members=[CommitteeMember(user_id=uid, index=i)
                                           for i, uid in enumerate(user_ids, 1)])
    session.add(committee)
    session.flush()
    audit.record(session, "committee.elected", actor_id=actor.id, object_type="counting_committee",
                 object_id=committee.id, meeting_id=meeting.id,
                 details={"member_ids": user_ids, "threshold": threshold, "default": default,
                          "replaced": old.id if old is not None else None})
    announce_change(session, committee, actor)
    return committee


def elect(session: Session, meeting: Meeting, actor: User, member_ids: list[int], threshold: int
          ) -> CountingCommittee:
    """Elect the committee: ``member_ids`` (participants, in index order) and k = ``threshold``."""
    if not policy.can_elect_committee(meeting, actor):
        raise Forbidden("Only the chair or the secretariat elects the counting committee.")
    if len(set(member_ids)) != len(member_ids):
        raise Invalid("A member can sit on the committee once only.", code="duplicate_members")
    if not MIN_SIZE <= len(member_ids) <= MAX_SIZE:
        raise Invalid(f"A committee has {MIN_SIZE} to {MAX_SIZE} members.", code="committee_size")
    if not MIN_SIZE <= threshold <= len(member_ids):
        raise Invalid(f"The threshold must be between {MIN_SIZE} and the number of members.",
                      code="committee_threshold")
    found = {p.user_id: p for p in session.execute(select(Participant).where(
        Participant.meeting_id == meeting.id, Participant.user_id.in_(member_ids))).scalars()}
    strangers = [uid for uid in member_ids if not policy.can_sit_on_committee(found.get(uid))]
    if strangers:
        raise Invalid("Committee members must be participants of the meeting.", code="not_participant",
                      details={"user_ids": strangers})
    start_write(session, meeting.id)
    return _create(session, meeting, actor, member_ids, threshold, default=False)


def ensure_committee(session: Session, meeting: Meeting, actor: User) -> CountingCommittee:
    """The committee in force, or the default one made now: the chair and the secretary, 2 of 2.

    For the first secret poll of a sitting (``service.create_poll``, which checked the actor);
    409 no_committee when the meeting has no chair and secretary to make it of."""
    committee = current_committee(session, meeting.id)
    if committee is not None:
        return committee
    roles = {}
    for p in session.execute(select(Participant).where(
            Participant.meeting_id == meeting.id, Participant.role.in_(("chair", "secretary")))
            .order_by(Participant.id)).scalars():
        roles.setdefault(p.role, p.user_id)
    if len(roles) < 2 or roles["chair"] == roles["secretary"]:
        raise Conflict("A secret poll needs a counting committee: elect one, or give the meeting a chair "
                       "and a secretary (the default committee).", code="no_committee")
    start_write(session, meeting.id)
    committee = current_committee(session, meeting.id)  # made meanwhile by another request?
    if committee is not None:
        return committee
    return _create(session, meeting, actor, [roles["chair"], roles["secretary"]], 2, default=True)
