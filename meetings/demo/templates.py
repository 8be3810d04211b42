"""The demo body's regular-sitting template, so "Tạo phiên họp thường kỳ tháng sau" works at once.

Saved from the demo's coming sitting through the templates service, as the secretariat would
(``POST /meetings/<id>/template``): its agenda skeleton, participants and settings, the first
Monday of each month at 08:00, titled like the demo's sittings. Safe to run twice.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import templates
from meetings.bodies.models import Body, Meeting
from meetings.bodies.template_models import MeetingTemplate

NAME = "Phiên họp thường kỳ"
# The demo's own titles, so the next month is read off them (December 2026 → January 2027).
TITLE_PATTERN = "Phiên họp thường kỳ tháng {month} năm {year} của Ủy ban nhân dân tỉnh"


def load_demo_template(session: Session, body_name: str, meeting_title: str) -> bool:
    """Save the regular template of the demo body unless it has one; True when made now."""
    body = session.execute(select(Body).where(Body.name == body_name)).scalar_one()
    if session.execute(select(MeetingTemplate.id).where(
            MeetingTemplate.body_id == body.id, MeetingTemplate.regular.is_(True))).first():
        return False
    meeting = session.execute(select(Meeting).where(
        Meeting.body_id == body.id, Meeting.title == meeting_title)).scalar_one()
    admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
    template, _ = templates.save_template(session, meeting, admin, name=NAME, regular=True)
    templates.update_template(session, template, admin, title_pattern=TITLE_PATTERN, date_rule="weekday_of_month",
                              weekday=0, week=1, start_time="08:00")
    return True
