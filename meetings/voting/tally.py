"""Who may vote, whether a voter is present, the tally row, and who has voted.

Kept apart from service.py so the casting path reads top to bottom. Who is
present for a poll's result comes from the live room's roll call
(``meetings.live.attendance``).
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from meetings.bodies.models import Participant
from meetings.live.attendance import PRESENT_STATUSES
from meetings.live.models import Attendance
from meetings.voting.models import BallotCast, Poll, PollTally, SecretBallotCast


def voting_members(session: Session, meeting_id: int) -> list[Participant]:
    """Participants with a voting right (observers never vote, whatever their flag says)."""
    return list(session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.can_vote.is_(True),
                                  Participant.role != "observer")
    ).scalars())


def entitled_count(session: Session, meeting_id: int) -> int:
    """How many participants have a voting right (a COUNT: the casting path runs it per ballot)."""
    return session.execute(
        select(func.count()).select_from(Participant).where(
            Participant.meeting_id == meeting_id, Participant.can_vote.is_(True), Participant.role != "observer")
    ).scalar_one()


# meeting id -> (last_seq, entitled count): see entitled_cached.
_ENTITLED: dict[int, tuple[int, int]] = {}


def entitled_cached(session: Session, meeting_id: int, last_seq: int) -> int:
    """``entitled_count`` remembered per (meeting, last_seq).

    Every change of a live meeting's participants appends a meeting event (a new
    ``last_seq``), and polls open only in live meetings, so while the seq stays the
    same the count does too; any process that sees a new seq counts again.
    """
    known = _ENTITLED.get(meeting_id)
    if known is not None and known[0] == last_seq:
        return known[1]
    count = entitled_count(session, meeting_id)
    _ENTITLED[meeting_id] = (last_seq, count)
    return count


def is_present(session: Session, meeting_id: int, user_id: int) -> bool:
    """Whether one participant is marked present or remote in the roll call (one indexed query)."""
    return session.execute(
        select(Attendance.id).join(Participant, (Participant.meeting_id == Attendance.meeting_id)
                                   & (Participant.user_id == Attendance.user_id))
        .where(Attendance.meeting_id == meeting_id, Attendance.user_id == user_id,
               Attendance.status.in_(PRESENT_STATUSES))
    ).first() is not None


def voting_member(session: Session, meeting_id: int, user_id: int) -> Participant | None:
    """The participant row of ``user_id`` if they have a voting right in the meeting."""
    p = session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
    ).scalar_one_or_none()
    if p is None or not p.can_vote or p.role == "observer":
        return None
    return p


_LOCKED_TALLY = (select(PollTally).where(PollTally.poll_id == bindparam("poll_id")).with_for_update()
                 .execution_options(populate_existing=True))


def locked_tally(session: Session, poll_id: int) -> PollTally:
    """The poll's tally row, locked until commit (PostgreSQL; SQLite holds the write lock already).

    Read afresh even when the session already holds the row from an earlier transaction."""
    return session.execute(_LOCKED_TALLY, {"poll_id": poll_id}).scalar_one()


def add_to_tally(tally: PollTally, option_ids: list[int], weight: int, sign: int = 1) -> None:
    """Add (or with sign=-1 remove) one ballot's choice; a new dict so the JSON change is saved."""
    counts = dict(tally.counts or {})
    for oid in option_ids:
        counts[str(oid)] = counts.get(str(oid), 0) + sign * weight
    tally.counts = counts
    tally.ballots += sign
    tally.weight += sign * weight


def voter_ids(session: Session, poll: Poll) -> set[int]:
    """Who has a ballot in the poll (in person or by proxy): the has-voted table of its kind."""
    model = SecretBallotCast if poll.secret else BallotCast
    return set(session.execute(select(model.voter_id).where(model.poll_id == poll.id)).scalars())
