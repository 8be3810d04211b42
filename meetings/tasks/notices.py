"""What the tasks tell people: the notices (e-mail, in-app, push) and the live ``task.changed`` event.

Notices go through the notifications' dispatch (outbox rows in the caller's transaction,
one dedupe key each); the live event goes to the per-user rooms of everyone who follows
the task (its assignees, its supporting units, the body's office and chair), after commit.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import units
from meetings.bodies.models import Meeting, Participant
from meetings.bodies.unit_models import UnitMember
from meetings.notifications import dispatch, settings
from meetings.notifications.texts import local_time
from meetings.platform.realtime import eventlog
from meetings.tasks.models import Task

GROUP = "task"
# Assignments, returns and deadlines matter enough for e-mail; SMS stays off unless a body turns it on.
settings.register_group(GROUP, ("email", "push", "inapp"))

WORDS = {
    "vi": {
        "assigned.title": "Nhiệm vụ mới: {title}",
        "assigned.body": "Đơn vị/đồng chí được giao nhiệm vụ \"{title}\", hạn xử lý {deadline}.",
        "returned.title": "Nhiệm vụ bị trả lại: {title}",
        "returned.body": "Văn phòng trả lại kết quả nhiệm vụ \"{title}\": {text}",
        "submitted.title": "Báo cáo hoàn thành: {title}",
        "submitted.body": "Nhiệm vụ \"{title}\" đã được báo cáo hoàn thành, chờ Văn phòng xem xét.",
        "accepted.title": "Nhiệm vụ được công nhận hoàn thành: {title}",
        "accepted.body": "Văn phòng đã công nhận nhiệm vụ \"{title}\" hoàn thành.",
        "extension.title": "Đề nghị gia hạn: {title}",
        "extension.body": "Đề nghị gia hạn nhiệm vụ \"{title}\" đến {deadline}: {text}",
        "approved.title": "Đồng ý gia hạn: {title}",
        "approved.body": "Nhiệm vụ \"{title}\" được gia hạn đến {deadline}.",
        "refused.title": "Không đồng ý gia hạn: {title}",
        "refused.body": "Đề nghị gia hạn nhiệm vụ \"{title}\" không được chấp thuận: {text}",
        "due.title": "Sắp đến hạn: {title}",
        "due.body": "Nhiệm vụ \"{title}\" đến hạn xử lý lúc {deadline}.",
        "overdue.title": "Nhiệm vụ quá hạn: {title}",
        "overdue.body": "Nhiệm vụ \"{title}\" đã quá hạn xử lý ({deadline}) mà chưa hoàn thành.",
        "task": "Nhiệm vụ", "deadline": "Hạn xử lý",
    },
    "en": {
        "assigned.title": "New task: {title}",
        "assigned.body": "You (or your unit) have been given the task \"{title}\", due {deadline}.",
        "returned.title": "Task sent back: {title}",
        "returned.body": "The office sent back the result of \"{title}\": {text}",
        "submitted.title": "Reported done: {title}",
        "submitted.body": "The task \"{title}\" was reported done and awaits the office's review.",
        "accepted.title": "Task accepted: {title}",
        "accepted.body": "The office accepted the task \"{title}\" as done.",
        "extension.title": "Extension requested: {title}",
        "extension.body": "More time is asked for \"{title}\", until {deadline}: {text}",
        "approved.title": "Extension approved: {title}",
        "approved.body": "The task \"{title}\" is now due {deadline}.",
        "refused.title": "Extension refused: {title}",
        "refused.body": "The extension of \"{title}\" was refused: {text}",
        "due.title": "Due soon: {title}",
        "due.body": "The task \"{title}\" is due {deadline}.",
        "overdue.title": "Task overdue: {title}",
        "overdue.body": "The task \"{title}\" was due {deadline} and is not done.",
        "task": "Task", "deadline": "Deadline",
    },
}


def _words(user: User) -> dict[str, str]:
    return WORDS.get(user.locale or "vi", WORDS["vi"])


def assignee_ids(session: Session, task: Task) -> set[int]:
    """Who answers for the task: the assigned person and the lead unit's heads (all its members if it has none)."""
    ids = {task.assignee_id} if task.assignee_id else set()
    if task.lead_unit_id:
        rows = session.execute(select(UnitMember.user_id, UnitMember.is_head).where(
            UnitMember.unit_id == task.lead_unit_id)).all()
        heads = {uid for uid, head in rows if head}
        ids |= heads or {uid for uid, _ in rows}
    return ids


office_ids = units.office_ids  # the office that follows tasks


def followers(session: Session, task: Task) -> set[int]:
    """Everyone whose screens show the task: unit members, the assigned person, the office, the chairs."""
    unit_ids = [u for u in [task.lead_unit_id, *task.support_unit_ids] if u]
    ids = {task.assignee_id} if task.assignee_id else set()
    if unit_ids:
        ids |= set(session.scalars(select(UnitMember.user_id).where(UnitMember.unit_id.in_(unit_ids))))
    ids |= office_ids(session, task.body_id)
    ids |= set(session.scalars(select(Participant.user_id).join(Meeting, Meeting.id == Participant.meeting_id)
                               .where(Meeting.body_id == task.body_id, Participant.role == "chair")))
    return ids


def announce(session: Session, task: Task, change: str, extra_users: Iterable[int] = ()) -> None:
    """``task.changed`` to every follower's devices, after commit (docs/realtime.md)."""
    data = {"task_id": task.id, "body_id": task.body_id, "status": task.status, "change": change,
            "deadline": task.deadline.isoformat() if task.deadline else None}
    for uid in sorted(followers(session, task) | set(extra_users)):
        eventlog.notify(session, uid, "task.changed", data)


def deadline_text(task: Task, user: User) -> str:
    """The task's deadline in the reader's words and time zone."""
    return local_time(task.deadline, user.locale, current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")


def notice(task: Task, user: User, what: str, text: str = "") -> dispatch.Notice:
    """The notice ``what`` ("assigned", "returned", "due", "overdue" …) about ``task`` in ``user``'s language."""
    w = _words(user)
    deadline = deadline_text(task, user)
    fields = {"title": task.title, "deadline": deadline, "text": text}
    return dispatch.Notice(kind=f"task.{what}", group=GROUP, url=f"/tasks/{task.id}",
                           title=w[f"{what}.title"].format(**fields), body=w[f"{what}.body"].format(**fields),
                           meeting_id=task.meeting_id,
                           details=((w["task"], task.title), (w["deadline"], deadline)))


def tell(session: Session, task: Task, user_ids: Iterable[int], what: str, *, key: str, text: str = "",
         now=None) -> int:
    """Send the notice ``what`` to each of ``user_ids`` (once per ``key``); answers how many were reached."""
    reached = 0
    for uid in sorted(set(user_ids)):
        user = session.get(User, uid)
        if user is None or not user.active:
            continue
        if dispatch.send(session, user, notice(task, user, what, text), dedupe_key=f"{key}:{uid}",
                         body_id=task.body_id, meta={"task_id": task.id}, now=now):
            reached += 1
    return reached
