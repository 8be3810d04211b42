"""The demo's conclusion notice: last month's sitting, held and closed, and its signed, published notice.

The upcoming demo meeting has not been held, so a notice needs a sitting of its
own: "Phiên họp thường kỳ tháng 11" of the same body and participants, walked
through the status service (the real sitting times are recorded), its
conclusions recorded per item by the chair, then the notice composed, made
ready, signed by the chair with the demo key and published, all through the
services. Looked up by title first: a second run changes nothing.
Follow-up tasks (``meetings.tasks``) are made from its conclusions.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import agenda
from meetings.bodies.models import Body, Meeting, Participant
from meetings.bodies.sittings import change_status
from meetings.conclusions import service, workflow
from meetings.conclusions.models import ConclusionNotice
from meetings.core.db import utcnow

TITLE = "Phiên họp thường kỳ tháng 11 năm 2026 của Ủy ban nhân dân tỉnh"
ITEMS = [
    ("Báo cáo tình hình thu, chi ngân sách 10 tháng năm 2026",
     "Giao Sở Tài chính chủ trì, phối hợp Thuế tỉnh rà soát các khoản thu, đề xuất giải pháp tăng thu "
     "những tháng cuối năm; báo cáo Ủy ban nhân dân tỉnh trước ngày 15/12/2026."),
    ("Tiến độ giải ngân vốn đầu tư công năm 2026",
     "Giao Sở Tài chính và Sở Xây dựng đôn đốc các chủ đầu tư đẩy nhanh giải ngân; chủ đầu tư nào chậm "
     "giải ngân thì điều chuyển vốn sang dự án khác trước ngày 20/12/2026."),
    ("Công tác chuẩn bị Tết Nguyên đán Bính Ngọ",
     "Thống nhất kế hoạch; giao Văn phòng Ủy ban nhân dân tỉnh theo dõi, tổng hợp kết quả thực hiện."),
]


def _user(session: Session, username: str) -> User:
    return session.execute(select(User).where(User.username == username)).scalar_one()


def load_demo_notice(session: Session, config: Mapping[str, Any], body_name: str, signing_passphrase: str
                     ) -> ConclusionNotice | None:
    """Hold last month's sitting and publish its signed notice, once; None when the body is not loaded."""
    body = session.execute(select(Body).where(Body.name == body_name)).scalar_one_or_none()
    if body is None:
        return None
    meeting = session.execute(select(Meeting).where(Meeting.body_id == body.id, Meeting.title == TITLE)
                              ).scalar_one_or_none()
    if meeting is not None:
        return session.execute(select(ConclusionNotice).where(ConclusionNotice.meeting_id == meeting.id)
                               ).scalar_one_or_none()
    secretary, chair = _user(session, "secretary"), _user(session, "chair")
    upcoming = session.execute(select(Meeting).where(Meeting.body_id == body.id).order_by(Meeting.id)).scalars().first()
    meeting = Meeting(body_id=body.id, title=TITLE, place=upcoming.place if upcoming else None,
                      starts_at=utcnow() - timedelta(days=1), status="draft", created_by_id=secretary.id)
    session.add(meeting)
    session.flush()
    for p in (upcoming.participants if upcoming else []):
        session.add(Participant(meeting_id=meeting.id, user_id=p.user_id, role=p.role, can_vote=p.can_vote))
    for title, _ in ITEMS:
        agenda.create_item(session, meeting, secretary, title=title)
    session.flush()
    session.refresh(meeting)
    for status in ("scheduled", "in_progress"):
        change_status(session, meeting, secretary, status=status)
    for item, (_, conclusion) in zip(meeting.items, ITEMS, strict=True):
        agenda.update_item(session, item, chair, conclusion=conclusion)
    for status in ("adjourned", "closed"):
        change_status(session, meeting, secretary, status=status)
    notice = service.create_notice(session, meeting, secretary)
    workflow.make_ready(session, notice, secretary, config)
    workflow.sign(session, notice, chair, config, secret=signing_passphrase)
    workflow.publish(session, notice, secretary, config)
    return notice
