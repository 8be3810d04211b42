"""A secret poll's bulletin board: everything public about its count, in one JSON file.

The committee's public key material, every encrypted ballot (sorted by hash: the
order they came in is not kept anywhere), the encrypted tally, the partial
decryptions with their proofs and the counts. Anyone can check it with
``meetings/voting/verify_board.py`` alone; a voter finds their tracking code in
it. It never names a voter beside a ballot: only how many voted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.voting import elgamal
from meetings.voting.committee_models import CommitteeMember, CountingCommittee
from meetings.voting.models import EncryptedBallot, PartialDecryption, Poll, SecretBallotCast

FORMAT = "meetings-bulletin-board/1"
# What the stand-alone verifier needs beside the board (and pysodium): `python verify_board.py board.json`.
VERIFIER_FILES = ("verify_board.py", "elgamal.py", "elgamal_dkg.py")


def verifier_files() -> dict[str, bytes]:
    """The stand-alone verifier's files by name, as shipped with each board (the meeting's bundle)."""
    here = Path(__file__).resolve().parent
    return {name: (here / name).read_bytes() for name in VERIFIER_FILES}


def _committee(session: Session, poll: Poll) -> dict[str, Any] | None:
    committee = session.get(CountingCommittee, poll.committee_id) if poll.committee_id else None
    if committee is None:
        return None
    rows = session.execute(select(CommitteeMember, User.full_name).join(User, User.id == CommitteeMember.user_id)
                           .where(CommitteeMember.committee_id == committee.id)
                           .order_by(CommitteeMember.index)).all()
    members = []
    for member, name in rows:
        r1 = member.round1 or {}
        members.append({"index": member.index, "name": name, "commitments": r1.get("commitments"),
                        "pok": r1.get("pok"), "transport_key": r1.get("transport_key"),
                        "verification_key": member.verification_key})
    return {"uid": committee.uid, "threshold": committee.threshold, "size": committee.size,
            "public_key": poll.public_key or committee.public_key, "members": members}


def _counts(poll: Poll) -> dict[str, list[int]] | None:
    figures = poll.result or {}
    if poll.status not in ("closed", "published", "annulled") or "options" not in figures:
        return None
    by_id = {o["id"]: o["count"] for o in figures["options"]}
    return {"counts": [by_id.get(o.id, 0) for o in poll.options]}


def bulletin_board(session: Session, poll: Poll, with_result: bool = True) -> dict[str, Any]:
    """The board of a secret poll. ``with_result`` False (a caller who may not see the result yet):
    no counts and, once the count is done, no partial decryptions (k of them give the counts)."""
    ballots = session.execute(select(EncryptedBallot.hash, EncryptedBallot.weight, EncryptedBallot.content)
                              .where(EncryptedBallot.poll_id == poll.id).order_by(EncryptedBallot.hash)).all()
    voters = session.execute(select(func.count()).select_from(SecretBallotCast)
                             .where(SecretBallotCast.poll_id == poll.id)).scalar_one()
    show_partials = with_result or poll.status == "counting"
    partials = session.execute(select(PartialDecryption.member_index, PartialDecryption.shares)
                               .where(PartialDecryption.poll_id == poll.id)
                               .order_by(PartialDecryption.member_index)).all() if show_partials else []
    return {
        "format": FORMAT, "board_id": poll.board_id,
        "poll": {"id": poll.id, "meeting_id": poll.meeting_id, "title": poll.title,
                 "options": [{"position": o.position, "label": o.label} for o in poll.options],
                 "min_choices": poll.min_choices, "max_choices": poll.max_choices, "weighted": poll.weighted,
                 "status": poll.status},
        "committee": _committee(session, poll),
        "voters": voters,
        "ballots": [{"hash": h, "tracking_code": elgamal.tracking_code(h), "weight": w, "ballot": content}
                    for h, w, content in ballots],
        "encrypted_tally": poll.encrypted_tally if poll.status != "open" else None,
        "partial_decryptions": [{"member_index": i, "shares": shares} for i, shares in partials],
        "result": _counts(poll) if with_result else None,
    }
