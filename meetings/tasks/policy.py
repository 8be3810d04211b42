"""Who may see and do what with follow-up tasks: one function per decision.

- The **office** of the task's body (an administrator, or a member of the body's
  secretariat: ``units.is_body_office``) creates, assigns, edits, accepts, returns and
  decides on extensions.
- The **chair** of the body (whoever chairs one of its meetings) sees every task of the
  body and the dashboard, but changes nothing.
- The **assignees** (the assigned person, and the members of the lead unit) see the task
  and report on it: progress, done with evidence, a request for more time.
- Members of a **supporting unit** see the task and report progress, nothing more.
- Anyone else, a member of another unit or another body, or a delegate who is in none of
  these, does not see the task at all (404: ids do not leak).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import units
from meetings.bodies.models import Meeting, Participant
from meetings.bodies.unit_models import UnitMember
from meetings.core.errors import Forbidden, NotFound
from meetings.tasks.models import Task


def _uid(user: User | None) -> int | None:
    return getattr(user, "id", None) if user is not None else None


def is_office(session: Session, body_id: int, user: User | None) -> bool:
    """The body's office: an administrator or its secretariat."""
    return units.is_body_office(session, body_id, user)


def is_chair(session: Session, body_id: int, user: User | None) -> bool:
    """Whoever chairs a meeting of the body (the body's leadership)."""
    uid = _uid(user)
    if not uid:
        return False
    found = session.execute(select(Participant.id).join(Meeting, Meeting.id == Participant.meeting_id).where(
        Meeting.body_id == body_id, Participant.user_id == uid, Participant.role == "chair").limit(1)).first()
    return found is not None


def can_see_dashboard(session: Session, body_id: int, user: User | None) -> bool:
    """The dashboard, the body's whole list and its exports: the office and the chair."""
    return is_office(session, body_id, user) or is_chair(session, body_id, user)


def _in_units(session: Session, user_id: int, unit_ids: list[int]) -> bool:
    if not unit_ids:
        return False
    return session.execute(select(UnitMember.id).where(
        UnitMember.user_id == user_id, UnitMember.unit_id.in_(unit_ids)).limit(1)).first() is not None


def is_assignee(session: Session, task: Task, user: User | None) -> bool:
    """The assigned person, or a member of the lead unit."""
    uid = _uid(user)
    if not uid:
        return False
    if task.assignee_id == uid:
        return True
    return task.lead_unit_id is not None and _in_units(session, uid, [task.lead_unit_id])


def is_supporter(session: Session, task: Task, user: User | None) -> bool:
    """A member of one of the task's supporting units."""
    uid = _uid(user)
    return bool(uid) and _in_units(session, uid, task.support_unit_ids)


def can_view(session: Session, task: Task, user: User | None) -> bool:
    """See the task, its history and its files."""
    return (is_assignee(session, task, user) or is_supporter(session, task, user)
            or can_see_dashboard(session, task.body_id, user))


def can_report(session: Session, task: Task, user: User | None) -> bool:
    """Report progress (text, files): the assignees and the supporting units."""
    return is_assignee(session, task, user) or is_supporter(session, task, user)


def can_submit(session: Session, task: Task, user: User | None) -> bool:
    """Mark done with evidence, or ask for more time: the assignees."""
    return is_assignee(session, task, user)


def can_manage(session: Session, task: Task, user: User | None) -> bool:
    """Edit, accept, return, decide on extensions: the body's office."""
    return is_office(session, task.body_id, user)


def visible_task(session: Session, task_id: int, user: User | None) -> Task:
    """The task if ``user`` may see it, else NotFound (the same as for an id that does not exist)."""
    task = session.get(Task, task_id)
    if task is None or not can_view(session, task, user):
        raise NotFound("No such task.")
    return task


def require(allowed: bool, message: str) -> None:
    """Forbidden with ``message`` unless ``allowed``."""
    if not allowed:
        raise Forbidden(message)
