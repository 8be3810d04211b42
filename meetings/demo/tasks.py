"""Demo follow-up tasks: the departments of the demo People's Committee and tasks of its conclusions.

Units Sở Tài chính, Sở Kế hoạch và Đầu tư, Sở Xây dựng and Sở Nội vụ (their directors from the
demo's delegates head them), and four tasks from the demo's conclusion notice when there is one
(else assigned by hand for the demo meeting): one in progress, one reported done, one accepted,
and one overdue. Everything goes through the units and tasks services, as the office would do
it; the overdue one was given "three weeks ago" through the services' clock. Safe to run twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import units
from meetings.bodies.models import Body, Meeting
from meetings.conclusions.models import ConclusionNotice
from meetings.conclusions.service import items_of
from meetings.core.db import utcnow
from meetings.tasks import service
from meetings.tasks.models import Task

# unit → the demo delegate heading it (see meetings.demo.DELEGATES)
UNITS = {"Sở Tài chính": "delegate3", "Sở Kế hoạch và Đầu tư": None, "Sở Xây dựng": "delegate5",
         "Sở Nội vụ": "delegate4"}
# (title, lead, supporting, days until the deadline, what has happened)
TASKS = [
    ("Tham mưu phương án phân bổ vốn đầu tư công năm 2027", "Sở Tài chính", ["Sở Kế hoạch và Đầu tư"], 20,
     "progress"),
    ("Rà soát, hoàn thiện quy hoạch chung đô thị Đà Lạt", "Sở Xây dựng", ["Sở Tài chính"], 12, "submitted"),
    ("Trình đề án sắp xếp đơn vị sự nghiệp công lập", "Sở Nội vụ", [], 30, "accepted"),
    ("Báo cáo tình hình giải ngân vốn đầu tư công quý IV", "Sở Tài chính", ["Sở Kế hoạch và Đầu tư"], -2,
     "overdue"),
]


def _source(session: Session, body: Body, n: int) -> dict:
    notice = session.execute(select(ConclusionNotice).where(ConclusionNotice.body_id == body.id)
                             .order_by(ConclusionNotice.id.desc())).scalars().first()
    items = items_of(notice) if notice is not None else []
    if items:  # one conclusion may give several tasks: the fourth comes from the first again
        return {"kind": "conclusion", "id": items[n % len(items)].id}
    meeting = session.execute(select(Meeting).where(Meeting.body_id == body.id).order_by(Meeting.id)).scalars().first()
    return {"kind": "manual", "label": "Giao tại phiên họp thường kỳ", "meeting_id": meeting.id if meeting else None}


def load_demo_tasks(session: Session, body: Body, users: dict[str, User], now: datetime | None = None) -> int:
    """Create the demo units and tasks that are missing; answers how many tasks were made. The caller commits."""
    now = now or utcnow()
    office = users["secretary"]
    found = units.find_or_create_by_names(session, body, list(UNITS), actor=office)
    for name, head in UNITS.items():
        unit = found[name]
        if head and head in users and not any(m.user_id == users[head].id for m in unit.members):
            units.set_unit_member(session, unit, office, user_id=users[head].id, is_head=True)
    have = set(session.scalars(select(Task.title).where(Task.body_id == body.id)))
    made = 0
    for n, (title, lead, supports, days, state) in enumerate(TASKS):
        if title in have:
            continue
        given = now - timedelta(days=21) if days < 0 else now
        task = service.create_task(session, body, office, title=title, lead_unit_id=found[lead].id,
                                   support_unit_ids=[found[s].id for s in supports],
                                   deadline=now + timedelta(days=days), priority="high" if days < 15 else "normal",
                                   source=_source(session, body, n), now=given)
        head = users.get(UNITS[lead] or "")
        if head is not None and state in ("progress", "submitted", "accepted", "overdue"):
            service.report_progress(session, task, head, progress=30, storage_path="", limits=None,
                                    text="Đã giao phòng chuyên môn triển khai, đang tổng hợp số liệu.")
        if head is not None and state in ("submitted", "accepted"):
            service.submit(session, task, head, text="Đã hoàn thành, gửi kèm tờ trình.", storage_path="", limits=None)
        if state == "accepted":
            service.accept(session, task, office, text="Công nhận hoàn thành.")
        made += 1
    return made


def load_demo_tasks_of(session: Session, body_name: str, now: datetime | None = None) -> int:
    """The demo's units and tasks for the body named ``body_name`` (after its conclusion notice, so the tasks
    come from its conclusions); 0 when the body or the office is not loaded."""
    body = session.execute(select(Body).where(Body.name == body_name)).scalar_one_or_none()
    names = ["secretary", *{h for h in UNITS.values() if h}]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    if body is None or "secretary" not in users:
        return 0
    return load_demo_tasks(session, body, users, now)
