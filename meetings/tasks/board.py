"""Reading tasks: one's own ("Việc của tôi"), a body's list with filters, and the chair's figures.

Overdue is computed, never stored: a task whose deadline has passed at ``now`` and which
is not accepted. The on-time rate is the share of accepted tasks accepted by their
deadline (the deadline in force, after approved extensions).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from meetings.accounts.models import User
from meetings.bodies.models import Body
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.db import utcnow
from meetings.tasks import policy
from meetings.tasks.models import TASK_STATUSES, Task, TaskSupport


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters; None means any."""

    unit_id: int | None = None        # lead or supporting unit
    status: str | None = None         # a status, or "overdue"
    meeting_id: int | None = None     # the source sitting
    since: datetime | None = None     # deadline at or after
    until: datetime | None = None     # deadline before
    source_kind: str | None = None    # conclusion, opinion or manual
    source_id: int | None = None      # the conclusion's or opinion form's id

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()
                if v is not None}


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    """Past its deadline and not accepted."""
    return task.status != "accepted" and task.deadline < (now or utcnow())


def on_time(task: Task) -> bool | None:
    """Accepted by its deadline (None while not accepted)."""
    if task.status != "accepted" or task.accepted_at is None:
        return None
    return task.accepted_at <= task.deadline


def _loaded(q):
    return q.options(selectinload(Task.supports).selectinload(TaskSupport.unit), selectinload(Task.lead_unit),
                     selectinload(Task.assignee))


def body_tasks(session: Session, body: Body, actor: User, filters: Filters = Filters(),
               now: datetime | None = None) -> list[Task]:
    """The body's tasks under ``filters``, soonest deadline first (the office and the chair)."""
    policy.require(policy.can_see_dashboard(session, body.id, actor),
                   "Only the body's office and its chair see all of its tasks.")
    now = now or utcnow()
    q = select(Task).where(Task.body_id == body.id)
    if filters.unit_id is not None:
        q = q.where(or_(Task.lead_unit_id == filters.unit_id, Task.id.in_(
            select(TaskSupport.task_id).where(TaskSupport.unit_id == filters.unit_id))))
    if filters.status == "overdue":
        q = q.where(Task.status != "accepted", Task.deadline < now)
    elif filters.status is not None:
        q = q.where(Task.status == filters.status)
    if filters.meeting_id is not None:
        q = q.where(Task.meeting_id == filters.meeting_id)
    if filters.since is not None:
        q = q.where(Task.deadline >= filters.since)
    if filters.until is not None:
        q = q.where(Task.deadline < filters.until)
    if filters.source_kind is not None:
        q = q.where(Task.source_kind == filters.source_kind)
    if filters.source_id is not None:
        q = q.where(Task.source_id == filters.source_id)
    return list(session.execute(_loaded(q.order_by(Task.deadline, Task.id))).scalars())


def my_tasks(session: Session, actor: User, *, include_accepted: bool = False) -> list[Task]:
    """"Việc của tôi": tasks assigned to the actor, to a unit they are in, or that their unit supports."""
    mine = select(UnitMember.unit_id).where(UnitMember.user_id == actor.id)
    q = select(Task).where(or_(Task.assignee_id == actor.id, Task.lead_unit_id.in_(mine), Task.id.in_(
        select(TaskSupport.task_id).where(TaskSupport.unit_id.in_(mine)))))
    if not include_accepted:
        q = q.where(Task.status != "accepted")
    return list(session.execute(_loaded(q.order_by(Task.deadline, Task.id))).scalars())


def figures(session: Session, body: Body, actor: User, filters: Filters = Filters(),
            now: datetime | None = None) -> dict[str, Any]:
    """The chair's dashboard: counts by status and by lead unit, the overdue list, the on-time rate."""
    now = now or utcnow()
    tasks = body_tasks(session, body, actor, filters, now)
    by_status = Counter(t.status for t in tasks)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.body_id == body.id))}
    rows: dict[int | None, dict[str, Any]] = {}
    for t in tasks:
        row = rows.setdefault(t.lead_unit_id, {
            "unit_id": t.lead_unit_id, "unit_name": units[t.lead_unit_id].name if t.lead_unit_id in units else None,
            "total": 0, "overdue": 0, "by_status": dict.fromkeys(TASK_STATUSES, 0)})
        row["total"] += 1
        row["by_status"][t.status] += 1
        row["overdue"] += is_overdue(t, now)
    accepted = [t for t in tasks if t.status == "accepted"]
    in_time = sum(1 for t in accepted if on_time(t))
    overdue = [t for t in tasks if is_overdue(t, now)]
    return {
        "body_id": body.id, "at": now, "filters": filters.as_dict(), "total": len(tasks),
        "by_status": {s: by_status.get(s, 0) for s in TASK_STATUSES},
        "by_unit": sorted(rows.values(), key=lambda r: (r["unit_name"] is None, r["unit_name"] or "")),
        "overdue_count": len(overdue), "overdue": overdue,
        "accepted": len(accepted), "accepted_on_time": in_time,
        "on_time_rate": round(in_time / len(accepted), 4) if accepted else None,
    }


def unit_names(task: Task) -> tuple[str, list[str]]:
    """(lead unit's name or "", supporting units' names)."""
    return (task.lead_unit.name if task.lead_unit else "", [s.unit.name for s in task.supports])


def row(task: Task, now: datetime | None = None) -> dict[str, Any]:
    """A task as lists and exports show it."""
    lead, supports = unit_names(task)
    return {
        "id": task.id, "body_id": task.body_id, "meeting_id": task.meeting_id, "title": task.title,
        "description": task.description, "source_kind": task.source_kind, "source_id": task.source_id,
        "source_label": task.source_label, "lead_unit_id": task.lead_unit_id, "lead_unit_name": lead or None,
        "support_unit_ids": task.support_unit_ids, "support_unit_names": supports,
        "assignee_id": task.assignee_id, "assignee_name": task.assignee.full_name if task.assignee else None,
        "deadline": task.deadline, "original_deadline": task.original_deadline, "priority": task.priority,
        "status": task.status, "progress": task.progress, "submitted_at": task.submitted_at,
        "accepted_at": task.accepted_at, "overdue": is_overdue(task, now), "on_time": on_time(task),
        "created_at": task.created_at, "updated_at": task.updated_at,
    }
