"""Reminding tasks: before the deadline, and once it has passed (overdue).

The job queue runs :func:`tick` every 15 minutes (``tasks.remind``); it takes ``now`` so
tests move the clock. Each notice fires once: a mark (``ReminderMark``, the same table as
the meeting reminders) names the task, the offset and the deadline it is about, so a
second tick passes it by and a deadline moved by an extension is reminded again for the
new date. The outbox's dedupe keys add the person, should a mark ever be missing.

- Before: the assignees of a task not yet reported done, ``OFFSETS`` before its deadline
  (3 days, 1 day; only the nearest when several are due at once, as for meetings).
- After: the assignees (if they have not reported it done) and the body's office get one
  overdue notice per deadline, and the audit log a ``task.overdue`` entry (no actor: the job).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.notifications.reminders import due_offset, take_mark
from meetings.platform import jobs
from meetings.platform.audit import service as audit
from meetings.tasks import notices
from meetings.tasks.models import Task

log = logging.getLogger(__name__)

TICK = "tasks.remind"
OFFSETS = (3 * 1440, 1440)  # minutes before the deadline
OPEN = ("assigned", "in_progress", "returned")


@jobs.periodic(TICK, minute="*/15")
def tick(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Send the task reminders and overdue notices due at ``now``; answers how many people each reached."""
    now = now or utcnow()
    return {"due": remind_due(session, now), "overdue": notify_overdue(session, now)}


def remind_due(session: Session, now: datetime) -> int:
    """Remind the assignees of open tasks whose deadline is near."""
    horizon = now + timedelta(minutes=max(OFFSETS))
    tasks = session.scalars(select(Task).where(Task.status.in_(OPEN), Task.deadline > now,
                                               Task.deadline <= horizon).order_by(Task.deadline, Task.id)).all()
    reached = 0
    for task in tasks:
        offset = due_offset(list(OFFSETS), task.deadline, now)
        if offset is None:
            continue
        if task.created_at >= task.deadline - timedelta(minutes=offset):
            continue  # given inside the span: the assignment itself was the news
        key = f"task:{task.id}:due:{offset}:{int(task.deadline.timestamp())}"
        if take_mark(session, key, now):
            reached += notices.tell(session, task, notices.assignee_ids(session, task), "due", key=key, now=now)
    return reached


def notify_overdue(session: Session, now: datetime) -> int:
    """Tell the assignees and the office, once per deadline, that a task is overdue."""
    tasks = session.scalars(select(Task).where(Task.status != "accepted", Task.deadline <= now)
                            .order_by(Task.deadline, Task.id)).all()
    reached = 0
    for task in tasks:
        key = f"task:{task.id}:overdue:{int(task.deadline.timestamp())}"
        if not take_mark(session, key, now):
            continue
        people = notices.office_ids(session, task.body_id)
        if task.status in OPEN:
            people |= notices.assignee_ids(session, task)
        reached += notices.tell(session, task, people, "overdue", key=key, now=now)
        notices.announce(session, task, "overdue")
        # Flagged overdue is a change of what the task shows (the dashboard, its page): the log says when.
        audit.record(session, "task.overdue", actor_id=None, object_type="task", object_id=task.id,
                     meeting_id=task.meeting_id, details={"body_id": task.body_id, "status": task.status,
                                                          "deadline": task.deadline.isoformat(), "told": len(people)})
        log.info("task %s overdue since %s: %s people told", task.id, task.deadline, len(people))
    return reached
