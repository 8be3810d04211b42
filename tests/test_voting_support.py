"""Helpers shared by the voting tests (no tests here)."""
from __future__ import annotations

from sqlalchemy import func, select

from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from meetings.voting.models import BallotCast, Poll, PollTally, Proxy
from tests.factories import move_meeting


def start_meeting(world) -> None:
    """Open the sitting through the status service, as the secretariat does."""
    move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.users["secretary"], "in_progress")
    db.session.remove()


def new_poll(as_user, world, by: str = "chair", **fields) -> dict:
    body = {"title": "Thông qua Nghị quyết về ngân sách năm 2027", **fields}
    r = as_user(by).post(f"/api/v1/meetings/{world.meeting.id}/polls", json=body)
    assert r.status_code == 201, r.json
    return r.json


def open_poll(as_user, world, by: str = "chair", **fields) -> dict:
    poll = new_poll(as_user, world, by, **fields)
    r = as_user(by).post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 200, r.json
    return r.json


def option(poll: dict, role_or_label: str) -> int:
    return next(o["id"] for o in poll["options"] if role_or_label in (o["role"], o["label"]))


def vote(as_user, name: str, poll: dict, *choices: str, on_behalf_of: int | None = None):
    body = {"option_ids": [option(poll, c) for c in choices]}
    if on_behalf_of is not None:
        body["on_behalf_of"] = on_behalf_of
    return as_user(name).post(f"/api/v1/polls/{poll['id']}/ballots", json=body)


def state(poll_id: int) -> tuple:
    """Everything a refused request must leave untouched."""
    s = db.session
    try:
        tally = s.get(PollTally, poll_id)
        return (
            s.execute(select(func.count()).select_from(BallotCast).where(BallotCast.poll_id == poll_id)).scalar_one(),
            (dict(tally.counts), tally.ballots, tally.weight) if tally else None,
            s.execute(select(Poll.status).where(Poll.id == poll_id)).scalar_one_or_none(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
            s.execute(select(func.count()).select_from(MeetingEvent)).scalar_one(),
            s.execute(select(func.count()).select_from(Proxy)).scalar_one(),
        )
    finally:
        s.remove()
