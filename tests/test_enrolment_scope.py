"""A meeting's secretary must not enrol a tablet as a delegate of another body.

A link is a whole session of its user, not of one meeting. The secretary of meeting A may add any
account to A (by username, or a list import), so before this fix they could add a delegate of
body B, issue that person a link, scan it themselves and vote or read in B's meetings as them.
A participant who belongs to, or takes part in a meeting of, another body is now skipped (reason
``other_body``) unless the issuer is an administrator or that body's secretariat too.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from meetings.accounts.enrolment_models import EnrolmentLink
from meetings.bodies.models import Body, BodyMember, Meeting, Participant
from meetings.core.db import utcnow
from meetings.core.extensions import db


def _other_body_delegate(world, *, secretariat_too: bool = False) -> int:
    """Body B, where the outsider is a member and a delegate of a scheduled meeting (B's own world)."""
    other = Body(name="Hội đồng nhân dân tỉnh", short_name="HĐND")
    db.session.add(other)
    db.session.flush()
    db.session.add(BodyMember(body_id=other.id, user_id=world.outsider.id, position="Đại biểu"))
    if secretariat_too:
        db.session.add(BodyMember(body_id=other.id, user_id=world.secretary.id, is_secretariat=True))
    meeting = Meeting(body_id=other.id, title="Kỳ họp thứ 12", starts_at=utcnow() + timedelta(days=3),
                      status="scheduled", created_by_id=world.admin.id)
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Participant(meeting_id=meeting.id, user_id=world.outsider.id, role="delegate", can_vote=True))
    db.session.commit()
    return world.outsider.id


def _links(user_id: int) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(EnrolmentLink).where(EnrolmentLink.user_id == user_id))


def _add_and_issue(as_user, world, who: str, user_id: int) -> dict:
    office = as_user("secretary")
    r = office.post(f"/api/v1/meetings/{world.meeting.id}/participants", json={"user_id": user_id, "role": "delegate"})
    assert r.status_code == 201, r.get_json()
    r = as_user(who).post(f"/api/v1/meetings/{world.meeting.id}/enrolment-links", json={"user_ids": [user_id]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_delegate_of_another_body_is_not_enrolled_by_this_body_s_secretary(as_user, world):
    outsider = _other_body_delegate(world)
    sheet = _add_and_issue(as_user, world, "secretary", outsider)
    assert sheet["issued"] == []
    assert sheet["skipped"] == [{"user_id": outsider, "full_name": world.outsider.full_name, "reason": "other_body"}]
    assert _links(outsider) == 0  # nothing stored


def test_an_administrator_or_the_other_body_s_secretariat_may(as_user, world):
    outsider = _other_body_delegate(world)
    sheet = _add_and_issue(as_user, world, "admin", outsider)
    assert [i["user_id"] for i in sheet["issued"]] == [outsider]


def test_the_secretariat_of_both_bodies_may(as_user, world):
    outsider = _other_body_delegate(world, secretariat_too=True)
    sheet = _add_and_issue(as_user, world, "secretary", outsider)
    assert [i["user_id"] for i in sheet["issued"]] == [outsider] and sheet["skipped"] == []
