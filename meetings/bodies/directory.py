"""Who shares a meeting with whom: the scope of the user directory for everyone but administrators.

The accounts domain (below this one) owns the directory but cannot see meetings;
this module registers the query with it (``accounts.service.colleagues_from``)
when imported, which ``create_app`` does. A user may see the people of:

- every meeting they take part in and may see (a draft only when they run it: its
  delegates must not learn of it before it is published), and
- every meeting of a body whose secretariat they are, and the members of every body
  they prepare meetings of (its secretariat, or a meeting's secretary): whom they
  choose participants from.
"""
from __future__ import annotations

from sqlalchemy import Select, or_, select, union

from meetings.accounts.models import User
from meetings.accounts.service import colleagues_from
from meetings.bodies.models import BodyMember, Meeting, Participant
from meetings.bodies.permissions import MANAGER_ROLES


def colleague_ids(user: User) -> Select:
    """The ids of the users ``user`` shares a meeting with, as defined above (one SELECT)."""
    managed_bodies = select(BodyMember.body_id).where(BodyMember.user_id == user.id,
                                                      BodyMember.is_secretariat.is_(True))
    preparing_bodies = (select(Meeting.body_id).join(Participant, Participant.meeting_id == Meeting.id)
                        .where(Participant.user_id == user.id, Participant.role == "secretary"))
    taken_part = (select(Participant.meeting_id).join(Meeting, Meeting.id == Participant.meeting_id)
                  .where(Participant.user_id == user.id,
                         or_(Meeting.status != "draft", Participant.role.in_(MANAGER_ROLES))))
    managed = select(Meeting.id).where(Meeting.body_id.in_(managed_bodies))
    meetings = union(taken_part, managed).subquery()
    return union(
        select(Participant.user_id).where(Participant.meeting_id.in_(select(meetings.c[0]))),
        select(BodyMember.user_id).where(BodyMember.body_id.in_(managed_bodies.union(preparing_bodies))),
    )


colleagues_from(colleague_ids)
