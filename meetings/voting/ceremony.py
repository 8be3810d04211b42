"""The counting committee's key ceremony (a joint Feldman DKG), round by round.

Each member's device calls these through REST (``committee_views``); ``committee`` holds
the election and the reading side. Every message is verified before it is stored (a
refused one leaves nothing behind), the meeting's committees are locked first
(``committees.start_write``), and each write records an audit entry and announces
``committee.changed`` (counts and status, never a message).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid
from meetings.platform.audit import service as audit
from meetings.voting import committee as committees
from meetings.voting import elgamal, elgamal_dkg
from meetings.voting.committee_models import CommitteeMember, CountingCommittee, KeyShareMessage


def _locked_seat(session: Session, meeting: Meeting, user: User, checked: CountingCommittee
                 ) -> tuple[CountingCommittee, CommitteeMember, list[CommitteeMember]]:
    """After the checks and verification of a write: lock, then read the committee afresh
    (409 if it was replaced meanwhile: the message was checked against the old one)."""
    committees.start_write(session, meeting.id)
    committee, me = committees.seat(session, meeting, user)
    if committee.id != checked.id:
        raise Conflict("The committee was elected again meanwhile.", code="bad_state")
    members = committees.seated_members(session, committee)
    me = next(m for m in members if m.id == me.id)
    return committee, me, members


def _in_ceremony(committee: CountingCommittee) -> None:
    if committee.status != "ceremony":
        raise Conflict(f"The committee's key ceremony is over (it is {committee.status}).", code="bad_state")


def _verified_round1(committee: CountingCommittee, index: int, data: dict[str, Any]) -> dict[str, Any]:
    message = {"transport_key": data.get("transport_key"), "commitments": data.get("commitments"),
               "pok": data.get("pok")}
    try:
        elgamal_dkg.verify_round1(committee.uid, index, committee.threshold, message)
    except (elgamal.InvalidProof, TypeError, ValueError) as exc:
        raise committees.InvalidMessage(f"Round 1 refused: {exc}.") from exc
    return message


def publish_round1(session: Session, meeting: Meeting, user: User, data: dict[str, Any]
                   ) -> tuple[CountingCommittee, bool]:
    """Store the member's verified round-1 message; (committee, created). Once per member: the
    same message again is accepted (created False), a different one refused (409)."""
    committee, me = committees.seat(session, meeting, user)
    message = _verified_round1(committee, me.index, data)
    committee, me, members = _locked_seat(session, meeting, user, committee)
    if me.round1 is not None:
        if me.round1 == message:
            return committee, False
        raise Conflict("You have published round 1 already; it cannot change.", code="already_published")
    _in_ceremony(committee)
    for other in members:
        if other.round1 is not None and (other.round1["transport_key"] == message["transport_key"]
                                         or other.round1["commitments"][0] == message["commitments"][0]):
            raise committees.InvalidMessage("Round 1 refused: it repeats another member's key.")
    me.round1 = message
    session.flush()
    audit.record(session, "committee.round1", actor_id=user.id, object_type="counting_committee",
                 object_id=committee.id, meeting_id=meeting.id, details={"index": me.index})
    committees.announce_change(session, committee, user)
    return committee, True


def _checked_shares(committee: CountingCommittee, me: CommitteeMember, shares: list[dict[str, Any]]
                    ) -> dict[int, tuple[str, str]]:
    """{recipient: (ephemeral, ciphertext)}: exactly one well-formed share per other member."""
    out: dict[int, tuple[str, str]] = {}
    others = set(range(1, committee.size + 1)) - {me.index}
    for share in shares:
        to = share.get("to")
        if not isinstance(to, int) or to not in others:
            raise committees.InvalidMessage(f"Round 2 refused: no other member has index {to!r}.")
        if to in out:
            raise committees.InvalidMessage(f"Round 2 refused: two shares for member {to}.")
        try:
            ephemeral = elgamal.point_hex(elgamal.parse_point(share.get("ephemeral"), "ephemeral"))
        except elgamal.InvalidProof as exc:
            raise committees.InvalidMessage(f"Round 2 refused: {exc}.") from exc
        ciphertext = share.get("ciphertext")
        if not isinstance(ciphertext, str) or not committees.HEX64.fullmatch(ciphertext):
            raise committees.InvalidMessage("Round 2 refused: a ciphertext must be 64 lowercase hex digits.")
        out[to] = (ephemeral, ciphertext)
    if set(out) != others:
        raise committees.InvalidMessage(f"Round 2 refused: send one share to each of members {sorted(others)}.")
    return out


def send_shares(session: Session, meeting: Meeting, user: User, shares: list[dict[str, Any]]
                ) -> tuple[CountingCommittee, bool]:
    """Store the member's round-2 shares (once every member published round 1); (committee, created)."""
    committee, me = committees.seat(session, meeting, user)
    checked = _checked_shares(committee, me, shares)
    committee, me, members = _locked_seat(session, meeting, user, committee)
    stored = {r.recipient_index: (r.ephemeral, r.ciphertext) for r in session.execute(
        select(KeyShareMessage).where(KeyShareMessage.committee_id == committee.id,
                                      KeyShareMessage.sender_index == me.index)).scalars()}
    if stored:
        if stored == checked:
            return committee, False
        raise Conflict("You have sent your shares already; they cannot change.", code="already_sent")
    _in_ceremony(committee)
    if any(m.round1 is None for m in members):
        raise Conflict("Round 2 starts once every member has published round 1.", code="wrong_round")
    session.add_all(KeyShareMessage(committee_id=committee.id, sender_index=me.index, recipient_index=to,
                                    ephemeral=e, ciphertext=ct) for to, (e, ct) in sorted(checked.items()))
    session.flush()
    audit.record(session, "committee.round2", actor_id=user.id, object_type="counting_committee",
                 object_id=committee.id, meeting_id=meeting.id, details={"index": me.index})
    committees.announce_change(session, committee, user)
    return committee, True


def confirm(session: Session, meeting: Meeting, user: User, verification_key: str | None,
            complaint_against: int | None) -> tuple[CountingCommittee, bool]:
    """The member's verification key K_j (checked against every commitment), or a complaint
    against a member whose share failed (the committee fails). The last K_j makes it ready."""
    if (verification_key is None) == (complaint_against is None):
        raise Invalid("Give either verification_key or complaint_against.", code="confirm_or_complain")
    committee, me = committees.seat(session, meeting, user)
    if complaint_against is not None and (complaint_against == me.index
                                          or not 1 <= complaint_against <= committee.size):
        raise committees.InvalidMessage(f"No other member has index {complaint_against}.")
    key = None
    if verification_key is not None:
        try:
            key = elgamal.point_hex(elgamal.parse_point(verification_key, "verification key"))
        except elgamal.InvalidProof as exc:
            raise committees.InvalidMessage(f"Confirmation refused: {exc}.") from exc
    committee, me, members = _locked_seat(session, meeting, user, committee)
    if key is not None and me.verification_key == key:
        return committee, False
    if me.verification_key is not None:
        raise Conflict("You have confirmed already.", code="already_confirmed")
    if complaint_against is not None and me.complaint_against == complaint_against:
        return committee, False
    _in_ceremony(committee)
    if committees.share_count(session, committee) < committee.size * (committee.size - 1):
        raise Conflict("Confirm once every member has sent their shares.", code="wrong_round")
    if complaint_against is not None:
        return _complain(session, committee, me, user, complaint_against), True
    commitments = {m.index: m.round1["commitments"] for m in members}
    if key != elgamal_dkg.expected_verification_key(me.index, commitments):
        raise committees.InvalidMessage(
            "Confirmation refused: the verification key does not follow from the commitments.")
    me.verification_key = key
    session.flush()
    audit.record(session, "committee.confirmed", actor_id=user.id, object_type="counting_committee",
                 object_id=committee.id, meeting_id=meeting.id, details={"index": me.index})
    if all(m.verification_key is not None for m in members):
        committee.status, committee.ready_at = "ready", utcnow()
        committee.public_key = elgamal_dkg.committee_public_key(commitments)
        session.flush()
        audit.record(session, "committee.ready", actor_id=user.id, object_type="counting_committee",
                     object_id=committee.id, meeting_id=meeting.id, details={"public_key": committee.public_key})
    committees.announce_change(session, committee, user)
    return committee, True


def _complain(session: Session, committee: CountingCommittee, me: CommitteeMember, user: User,
              against: int) -> CountingCommittee:
    me.complaint_against = against
    committee.status = "failed"
    committee.failure = f"Member {me.index} found member {against}'s share wrong."
    session.flush()
    audit.record(session, "committee.failed", actor_id=user.id, object_type="counting_committee",
                 object_id=committee.id, meeting_id=committee.meeting_id,
                 details={"index": me.index, "complaint_against": against})
    committees.announce_change(session, committee, user)
    return committee
