"""Every write of the follow-up tasks: ``(session, target, actor, **fields)``.

Each checks the actor through ``policy``, validates, writes the task and a line of its
history (``TaskEntry``), records one audit entry, tells who must know (``notices``) and
queues ``task.changed`` for after the commit. Nothing here commits.

The life of a task: assigned → in_progress (first report) → submitted (done, with
evidence) → accepted, or returned with a reason → in_progress (or submitted again).
Extensions: an assignee asks (new date, reason), the office approves (the deadline
moves) or refuses.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body, Meeting
from meetings.bodies.unit_models import Unit
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.tasks import files as task_files
from meetings.tasks import notices, policy, sources
from meetings.tasks.models import PRIORITIES, SOURCE_KINDS, Task, TaskEntry, TaskExtension, TaskSupport

EDIT_FIELDS = ("title", "description", "priority", "deadline", "lead_unit_id", "assignee_id", "support_unit_ids")
OPEN = ("assigned", "in_progress", "returned")


def _entry(session: Session, task: Task, actor: User, kind: str, *, text: str | None = None,
           status_from: str | None = None, progress: int | None = None, **details: Any) -> TaskEntry:
    entry = TaskEntry(task=task, kind=kind, author_id=actor.id, at=utcnow(), text=text, progress=progress,
                      status_from=status_from, status_to=task.status, details=details)
    session.add(entry)
    return entry


def _audit(session: Session, action: str, task: Task, actor: User, **details: Any) -> None:
    audit.record(session, action, actor_id=actor.id, object_type="task", object_id=task.id,
                 meeting_id=task.meeting_id, details={"body_id": task.body_id, **details})


def _unit(session: Session, body_id: int, unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    if unit is None or unit.body_id != body_id:
        raise Invalid(f"Unit {unit_id} is not a unit of this body.", code="unknown_unit")
    if not unit.active:
        raise Invalid(f"Unit {unit.name!r} is out of service.", code="inactive_unit")
    return unit


def _person(session: Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Invalid(f"There is no active user {user_id}.", code="unknown_user")
    return user


def _text(value: str | None, *, required: str | None = None, limit: int = 20000) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(required)
    if len(value) > limit:
        raise Invalid(f"The text is longer than {limit} characters.")
    return value or None


def _claim(session: Session, task: Task, allowed: tuple[str, ...], status: str, code: str, message: str) -> None:
    """Move the task's row from one of ``allowed`` to ``status`` in the database itself: of two people who
    read the same state at once (two office screens, a report beside a submission), the second finds the
    row moved on and is refused (409 ``code``) instead of writing a second decision over the first."""
    moved = session.execute(update(Task).where(Task.id == task.id, Task.status.in_(allowed))
                            .values(status=status, updated_at=utcnow()),
                            execution_options={"synchronize_session": False}).rowcount
    if moved != 1:
        session.refresh(task)
        raise Conflict(message, code=code, details={"status": task.status})


def _check_people(session: Session, body_id: int, lead_unit_id: int | None, assignee_id: int | None,
                  support_ids: list[int]) -> None:
    if lead_unit_id is None and assignee_id is None:
        raise Invalid("Assign the task to a unit or to a person.", code="no_assignee")
    _unit(session, body_id, lead_unit_id)
    _person(session, assignee_id)
    for uid in support_ids:
        _unit(session, body_id, uid)
    if lead_unit_id is not None and lead_unit_id in support_ids:
        raise Invalid("The lead unit cannot also be a supporting unit.", code="lead_supports")


def create_task(session: Session, body: Body, actor: User, *, title: str, deadline: datetime,
                description: str | None = None, lead_unit_id: int | None = None, assignee_id: int | None = None,
                support_unit_ids: list[int] | None = None, priority: str = "normal",
                source: dict[str, Any] | None = None, now: datetime | None = None) -> Task:
    """Give a unit or a person a task (the body's office). ``source``: {kind, id, label, meeting_id}."""
    policy.require(policy.is_office(session, body.id, actor), "Only the body's office can assign tasks.")
    now = now or utcnow()
    title = _text(title, required="A task needs a title.", limit=500)
    if priority not in PRIORITIES:
        raise Invalid(f"The priority is one of {', '.join(PRIORITIES)}.")
    if deadline <= now:
        raise Invalid("The deadline must be in the future.", code="deadline_past")
    supports = sorted(set(support_unit_ids or []))
    _check_people(session, body.id, lead_unit_id, assignee_id, supports)
    if (source or {}).get("kind", "manual") not in SOURCE_KINDS:
        raise Invalid(f"The source is one of {', '.join(SOURCE_KINDS)}.")
    source = sources.resolve(session, body.id, source or {})
    kind = source["kind"]
    meeting_id = source.get("meeting_id")
    if meeting_id is not None:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.body_id != body.id:
            raise Invalid("The source meeting is not a meeting of this body.", code="unknown_meeting")
    if kind != "manual" and source.get("id") is None:
        raise Invalid("A task from a conclusion or an opinion names it (source.id).", code="no_source")
    task = Task(body_id=body.id, meeting_id=meeting_id, source_kind=kind, source_id=source.get("id"),
                source_label=_text(source.get("label"), limit=500), title=title, description=_text(description),
                lead_unit_id=lead_unit_id, assignee_id=assignee_id, deadline=deadline, original_deadline=deadline,
                priority=priority, status="assigned", progress=0, created_by_id=actor.id, created_at=now,
                supports=[TaskSupport(unit_id=u) for u in supports])
    session.add(task)
    session.flush()
    _entry(session, task, actor, "created", text=task.description)
    _audit(session, "task.created", task, actor, title=title, lead_unit_id=lead_unit_id, assignee_id=assignee_id,
           support_unit_ids=supports, deadline=deadline.isoformat(), source_kind=kind, source_id=task.source_id)
    notices.tell(session, task, notices.assignee_ids(session, task), "assigned", key=f"task:{task.id}:assigned")
    notices.announce(session, task, "created")
    return task


def update_task(session: Session, task: Task, actor: User, **fields: Any) -> Task:
    """Change what a task asks, of whom, by when (the office); an accepted task no longer changes."""
    policy.require(policy.can_manage(session, task, actor), "Only the body's office can change a task.")
    fields = {k: v for k, v in fields.items() if k in EDIT_FIELDS}
    if not fields:
        raise Invalid("Nothing to change.")
    if task.status == "accepted":
        raise Conflict("The task was accepted as done; it no longer changes.", code="task_closed")
    if "title" in fields:
        fields["title"] = _text(fields["title"], required="A task needs a title.", limit=500)
    if "description" in fields:
        fields["description"] = _text(fields["description"])
    if "priority" in fields and fields["priority"] not in PRIORITIES:
        raise Invalid(f"The priority is one of {', '.join(PRIORITIES)}.")
    if "deadline" in fields and fields["deadline"] != task.deadline and fields["deadline"] <= utcnow():
        raise Invalid("The deadline must be in the future.", code="deadline_past")
    supports = sorted(set(fields.pop("support_unit_ids", task.support_unit_ids) or []))
    lead = fields.get("lead_unit_id", task.lead_unit_id)
    person = fields.get("assignee_id", task.assignee_id)
    before = notices.assignee_ids(session, task)
    _check_people(session, task.body_id, lead, person, supports)
    for key, value in fields.items():
        setattr(task, key, value)
    if supports != sorted(task.support_unit_ids):
        task.supports = [s for s in task.supports if s.unit_id in supports] + [
            TaskSupport(unit_id=u) for u in supports if u not in task.support_unit_ids]
    changed = sorted(fields) + (["support_unit_ids"] if "support_unit_ids" not in fields else [])
    session.flush()
    _entry(session, task, actor, "edited", fields=changed)
    _audit(session, "task.updated", task, actor, fields=changed,
           **({"deadline": task.deadline.isoformat()} if "deadline" in fields else {}))
    new = notices.assignee_ids(session, task) - before
    if new:
        notices.tell(session, task, new, "assigned", key=f"task:{task.id}:assigned")
    notices.announce(session, task, "edited", before)
    return task


def report_progress(session: Session, task: Task, actor: User, *, text: str | None, progress: int | None = None,
                    uploads: list[task_files.Upload] | None = None, storage_path: str, limits: Any) -> TaskEntry:
    """A progress report with text and files (assignees, supporting units); starts the work if not yet started."""
    policy.require(policy.can_report(session, task, actor), "Only the task's units can report on it.")
    if task.status not in OPEN:
        raise Conflict("The task is submitted or accepted; report after the office returns it.", code="task_submitted")
    text = _text(text)
    if progress is not None and not 0 <= progress <= 100:
        raise Invalid("Progress is a percentage from 0 to 100.")
    if not text and not uploads and progress is None:
        raise Invalid("Say what was done, or attach a file.", code="empty_report")
    # Every file is received before any write: a refused file loses nothing.
    stored = task_files.receive(session, uploads or [], storage_path, limits)
    before = task.status
    _claim(session, task, OPEN, "in_progress", "task_submitted",
           "The task was just reported done or accepted; report after the office returns it.")
    task.status = "in_progress"
    if progress is not None:
        task.progress = progress
    entry = _entry(session, task, actor, "progress", text=text, status_from=before, progress=progress)
    session.flush()
    task_files.attach(session, task, entry, actor, stored)
    _audit(session, "task.progress", task, actor, progress=progress, files=[s.sha256 for s in stored],
           status_from=before, status_to=task.status)
    notices.announce(session, task, "progress")
    return entry


def submit(session: Session, task: Task, actor: User, *, text: str | None,
           uploads: list[task_files.Upload] | None = None, storage_path: str, limits: Any,
           now: datetime | None = None) -> TaskEntry:
    """Mark the task done, with evidence (text, files): the assignees. The office then accepts or returns it."""
    policy.require(policy.can_submit(session, task, actor), "Only the task's assignees can report it done.")
    if task.status not in OPEN:
        raise Conflict("The task is already submitted or accepted.", code="task_submitted")
    text = _text(text)
    if not text and not uploads:
        raise Invalid("Reporting a task done needs evidence: a text or a file.", code="no_evidence")
    stored = task_files.receive(session, uploads or [], storage_path, limits)
    before = task.status
    _claim(session, task, OPEN, "submitted", "task_submitted", "The task was just submitted or accepted.")
    task.status, task.progress, task.submitted_at = "submitted", 100, now or utcnow()
    entry = _entry(session, task, actor, "submitted", text=text, status_from=before, progress=100)
    session.flush()
    task_files.attach(session, task, entry, actor, stored)
    _audit(session, "task.submitted", task, actor, files=[s.sha256 for s in stored], status_from=before)
    notices.tell(session, task, notices.office_ids(session, task.body_id), "submitted",
                 key=f"task:{task.id}:submitted:{entry.id}")
    notices.announce(session, task, "submitted")
    return entry


def accept(session: Session, task: Task, actor: User, *, text: str | None = None,
           now: datetime | None = None) -> Task:
    """The office accepts a submitted task as done."""
    policy.require(policy.can_manage(session, task, actor), "Only the body's office can accept a task.")
    if task.status != "submitted":
        raise Conflict("Only a task reported done can be accepted.", code="not_submitted")
    _claim(session, task, ("submitted",), "accepted", "not_submitted", "The task was just accepted or returned.")
    task.status, task.accepted_at = "accepted", now or utcnow()
    _entry(session, task, actor, "accepted", text=_text(text), status_from="submitted")
    _audit(session, "task.accepted", task, actor, on_time=task.accepted_at <= task.deadline)
    notices.tell(session, task, notices.assignee_ids(session, task), "accepted", key=f"task:{task.id}:accepted")
    notices.announce(session, task, "accepted")
    return task


def return_task(session: Session, task: Task, actor: User, *, reason: str) -> Task:
    """The office sends a submitted task back, saying why; the assignees work on."""
    policy.require(policy.can_manage(session, task, actor), "Only the body's office can return a task.")
    if task.status != "submitted":
        raise Conflict("Only a task reported done can be returned.", code="not_submitted")
    reason = _text(reason, required="Say why the task is returned.")
    _claim(session, task, ("submitted",), "returned", "not_submitted", "The task was just accepted or returned.")
    task.status, task.submitted_at = "returned", None
    entry = _entry(session, task, actor, "returned", text=reason, status_from="submitted")
    session.flush()
    _audit(session, "task.returned", task, actor)
    notices.tell(session, task, notices.assignee_ids(session, task), "returned", text=reason,
                 key=f"task:{task.id}:returned:{entry.id}")
    notices.announce(session, task, "returned")
    return task


def request_extension(session: Session, task: Task, actor: User, *, new_deadline: datetime,
                      reason: str) -> TaskExtension:
    """An assignee asks for more time: a later date and the reason."""
    policy.require(policy.can_submit(session, task, actor), "Only the task's assignees can ask for more time.")
    if task.status == "accepted":
        raise Conflict("The task was accepted as done.", code="task_closed")
    if any(e.status == "pending" for e in task.extensions):
        raise Conflict("An extension request is already waiting for the office's answer.", code="extension_pending")
    if new_deadline <= task.deadline:
        raise Invalid("The new deadline must be later than the current one.", code="not_later")
    if new_deadline <= utcnow():
        raise Invalid("The new deadline must be in the future.", code="deadline_past")
    reason = _text(reason, required="Say why more time is needed.")
    ext = TaskExtension(task=task, requested_by_id=actor.id, requested_at=utcnow(), old_deadline=task.deadline,
                        new_deadline=new_deadline, reason=reason, status="pending")
    session.add(ext)
    session.flush()
    _entry(session, task, actor, "extension_requested", text=reason, extension_id=ext.id,
           new_deadline=new_deadline.isoformat())
    _audit(session, "task.extension_requested", task, actor, extension_id=ext.id,
           new_deadline=new_deadline.isoformat())
    notices.tell(session, task, notices.office_ids(session, task.body_id), "extension", text=reason,
                 key=f"task:{task.id}:extension:{ext.id}")
    notices.announce(session, task, "extension_requested")
    return ext


def get_extension(session: Session, extension_id: int, actor: User) -> TaskExtension:
    """An extension request of a task the actor sees, or NotFound."""
    ext = session.get(TaskExtension, extension_id)
    if ext is None or not policy.can_view(session, ext.task, actor):
        raise NotFound("No such extension request.")
    return ext


def decide_extension(session: Session, ext: TaskExtension, actor: User, *, approve: bool,
                     answer: str | None = None) -> TaskExtension:
    """The office approves (the deadline moves to the date asked) or refuses (with a reason) a request."""
    task = ext.task
    policy.require(policy.can_manage(session, task, actor), "Only the body's office decides on extensions.")
    if ext.status != "pending":
        raise Conflict("This request was answered already.", code="extension_decided")
    answer = _text(answer, required=None if approve else "Say why the extension is refused.")
    decided = session.execute(update(TaskExtension).where(TaskExtension.id == ext.id,
                                                          TaskExtension.status == "pending")
                              .values(status="approved" if approve else "refused"),
                              execution_options={"synchronize_session": False}).rowcount
    if decided != 1:  # another office screen answered it a moment ago
        session.refresh(ext)
        raise Conflict("This request was answered already.", code="extension_decided")
    ext.status, ext.decided_by_id, ext.decided_at, ext.answer = (
        "approved" if approve else "refused", actor.id, utcnow(), answer)
    if approve:
        task.deadline = ext.new_deadline
    what = "approved" if approve else "refused"
    _entry(session, task, actor, f"extension_{what}", text=answer, extension_id=ext.id,
           deadline=task.deadline.isoformat())
    _audit(session, f"task.extension_{what}", task, actor, extension_id=ext.id, deadline=task.deadline.isoformat())
    notices.tell(session, task, {ext.requested_by_id} if ext.requested_by_id else set(), what, text=answer or "",
                 key=f"task:{task.id}:extension:{ext.id}:{what}")
    notices.announce(session, task, f"extension_{what}")
    return ext
