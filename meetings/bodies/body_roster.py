"""A body's members into one of its meetings, in one step.

Every member of the meeting's body (or of one unit of it) who does not take part yet
becomes a participant: the body's secretariat as "secretary" without a vote (they serve
the sitting), everyone else as "delegate" with a vote of weight 1. Those already taking
part keep their role. One SELECT for the members, one for the participants, one bulk
INSERT; one audit entry and one ``participants.changed`` event; a ``participants_added``
signal for the group (a published meeting owes them their invitations: the job queue sends them).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.checks import announce, check_open, require_prepare
from meetings.bodies.models import BodyMember, Meeting, Participant
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.errors import Invalid
from meetings.platform.audit import service as audit
from meetings.platform.signals import participants_added


def add_body_members(session: Session, meeting: Meeting, actor: User, *, unit_id: int | None = None) -> dict[str, Any]:
    """Add the body's members (or one unit's) who are not participants yet; returns the counts."""
    require_prepare(meeting, actor)
    check_open(meeting)
    members = select(BodyMember.user_id, BodyMember.is_secretariat).where(BodyMember.body_id == meeting.body_id)
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.body_id != meeting.body_id:
            raise Invalid("That unit is not one of the meeting's body.", code="unknown_unit")
        members = members.where(BodyMember.user_id.in_(select(UnitMember.user_id).where(UnitMember.unit_id == unit_id)))
    taking_part = set(session.scalars(select(Participant.user_id).where(Participant.meeting_id == meeting.id)))
    listed = session.execute(members.order_by(BodyMember.id)).all()
    rows = [{"meeting_id": meeting.id, "user_id": uid, "role": "secretary" if secretariat else "delegate",
             "can_vote": not secretariat, "vote_weight": 1} for uid, secretariat in listed if uid not in taking_part]
    added: list[Participant] = []
    if rows:
        added = list(session.scalars(insert(Participant).returning(Participant, sort_by_parameter_order=True), rows))
        session.expire(meeting, ["participants"])
        audit.record(session, "participants.from_body", actor_id=actor.id, object_type="meeting",
                     object_id=meeting.id, meeting_id=meeting.id,
                     details={"added": len(added), "unit_id": unit_id, "user_ids": [p.user_id for p in added]})
        announce(session, meeting, "participants.changed", {"action": "imported", "added": len(added), "updated": 0},
                 actor)
        participants_added.send(None, session=session, meeting=meeting, user_ids=[p.user_id for p in added],
                                actor=actor)
    return {"added": len(added), "already": len(listed) - len(rows),
            "participants": len(taking_part) + len(added)}
