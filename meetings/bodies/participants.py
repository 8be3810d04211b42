"""Who takes part in a meeting, with which role, voting right and weight.

Every write is ``(session, meeting, actor, **fields)``: only those preparing
the meeting (``permissions.can_prepare``) change its participants. Decisions
worth knowing:
- A meeting has at most one chair: adding or promoting a second one is a 409;
  change the current chair's role first.
- Observers never vote: an observer's ``can_vote`` is always False (asking for
  True is a 422).
- A closed meeting's participants no longer change (409).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.checks import announce, check_open, known_user, require_changes, require_prepare
from meetings.bodies.models import PARTICIPANT_ROLES, Meeting, Participant
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.signals import participant_added, participant_removed

_ROLE_ORDER = {"chair": 0, "secretary": 1, "delegate": 2, "observer": 3}


def in_role_order(meeting: Meeting) -> list[Participant]:
    """The meeting's participants, chair first, then secretary, delegates, observers; by name."""
    return sorted(meeting.participants, key=lambda p: (_ROLE_ORDER.get(p.role, 9), p.user.full_name, p.id))


def _find(meeting: Meeting, participant_id: int) -> Participant:
    participant = next((p for p in meeting.participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound("No such participant in this meeting.")
    return participant


def _check_participant(meeting: Meeting, role: str, can_vote: bool, vote_weight: int,
                       participant_id: int | None) -> None:
    if role not in PARTICIPANT_ROLES:
        raise Invalid(f"Role must be one of {', '.join(PARTICIPANT_ROLES)}.")
    if role == "observer" and can_vote:
        raise Invalid("Observers never vote.", code="observer_cannot_vote")
    if not isinstance(vote_weight, int) or vote_weight < 1:
        raise Invalid("vote_weight must be a whole number ≥ 1.")
    if role == "chair" and any(p.role == "chair" and p.id != participant_id for p in meeting.participants):
        raise Conflict("This meeting already has a chair; change that participant's role first.",
                       code="chair_taken")


def add_participant(session: Session, meeting: Meeting, actor: User, *, user_id: int, role: str = "delegate",
                    can_vote: bool | None = None, vote_weight: int = 1) -> Participant:
    """Invite a user to a meeting with a role; a user takes part once."""
    require_prepare(meeting, actor)
    check_open(meeting)
    known_user(session, user_id)
    if can_vote is None:
        can_vote = role != "observer"
    _check_participant(meeting, role, can_vote, vote_weight, None)
    if any(p.user_id == user_id for p in meeting.participants):
        raise Conflict("That user already takes part in this meeting.", code="duplicate_participant")
    participant = Participant(user_id=user_id, role=role, can_vote=can_vote, vote_weight=vote_weight)
    meeting.participants.append(participant)
    session.flush()
    audit.record(session, "participant.added", actor_id=actor.id, object_type="participant",
                 object_id=participant.id, meeting_id=meeting.id,
                 details={"user_id": user_id, "role": role, "can_vote": can_vote, "vote_weight": vote_weight})
    announce(session, meeting, "participants.changed",
             {"action": "added", "participant_id": participant.id, "user_id": user_id}, actor)
    participant_added.send(None, session=session, meeting=meeting, participant=participant, actor=actor)
    return participant


def update_participant(session: Session, meeting: Meeting, actor: User, *, participant_id: int,
                       **fields: Any) -> Participant:
    """Change a participant's role, voting right or weight."""
    require_prepare(meeting, actor)
    participant = _find(meeting, participant_id)
    require_changes(fields)
    check_open(meeting)
    role = fields.get("role", participant.role)
    # Becoming an observer drops the voting right unless the caller insists otherwise (then 422).
    default_vote = False if role == "observer" else participant.can_vote
    can_vote = fields["can_vote"] if "can_vote" in fields else default_vote
    vote_weight = fields.get("vote_weight", participant.vote_weight)
    _check_participant(meeting, role, can_vote, vote_weight, participant.id)
    participant.role, participant.can_vote, participant.vote_weight = role, can_vote, vote_weight
    session.flush()
    audit.record(session, "participant.updated", actor_id=actor.id, object_type="participant",
                 object_id=participant.id, meeting_id=meeting.id,
                 details={"user_id": participant.user_id, "role": role, "can_vote": can_vote,
                          "vote_weight": vote_weight})
    announce(session, meeting, "participants.changed",
             {"action": "updated", "participant_id": participant.id, "user_id": participant.user_id}, actor)
    return participant


def remove_participant(session: Session, meeting: Meeting, actor: User, *, participant_id: int) -> None:
    """Remove a participant; items they were to present lose their presenter."""
    require_prepare(meeting, actor)
    participant = _find(meeting, participant_id)
    check_open(meeting)
    for item in meeting.items:
        if item.presenter_id == participant.user_id:
            item.presenter_id = None
    pid, uid = participant.id, participant.user_id
    meeting.participants.remove(participant)
    session.flush()
    audit.record(session, "participant.removed", actor_id=actor.id, object_type="participant", object_id=pid,
                 meeting_id=meeting.id, details={"user_id": uid})
    announce(session, meeting, "participants.changed",
             {"action": "removed", "participant_id": pid, "user_id": uid}, actor)
    participant_removed.send(None, session=session, meeting=meeting, user_id=uid, actor=actor)
