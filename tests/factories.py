"""Builders for test data: a world of users, a body and a meeting."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from meetings.accounts.models import User
from meetings.accounts.service import create_user, issue_token
from meetings.bodies.models import MEETING_TRANSITIONS, AgendaItem, Body, BodyMember, Meeting, Participant
from meetings.bodies.sittings import change_status
from meetings.core.db import utcnow

PASSWORD = "secret-pass"


@dataclass
class World:
    body: Body
    meeting: Meeting
    users: dict[str, User] = field(default_factory=dict)
    items: list[AgendaItem] = field(default_factory=list)

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


# name → (global role, meeting role)
ROLES = {
    "admin": ("admin", None),
    "archivist": ("archivist", None),
    "secretary": (None, "secretary"),
    "chair": (None, "chair"),
    "delegate": (None, "delegate"),
    "delegate2": (None, "delegate"),
    "observer": (None, "observer"),
    "outsider": (None, None),
}


def build_world(session, status: str = "scheduled", *, through_service: bool = True) -> World:
    """Users of every role, a body and a meeting of it in ``status``, reached through the status service.

    ``through_service=False`` only for a seed outside any app (tests/browser/seed.py): with no Socket.IO
    server to broadcast to, it sets the status as a fixture and records no sitting.
    """
    users = {
        name: create_user(session, name, PASSWORD, f"Người dùng {name}", global_role=grole)
        for name, (grole, _) in ROLES.items()
    }
    body = Body(name="Ủy ban nhân dân tỉnh Thử Nghiệm", short_name="UBND", place_name="Thử Nghiệm",
                parent_name="", quorum_numerator=2, quorum_denominator=3)
    session.add(body)
    session.flush()
    for name in ("secretary", "chair", "delegate", "delegate2", "observer"):
        session.add(BodyMember(body_id=body.id, user_id=users[name].id, position="Thành viên",
                               is_secretariat=False))
    meeting = Meeting(body_id=body.id, title="Phiên họp thường kỳ tháng 12", place="Phòng họp số 1",
                      starts_at=utcnow() + timedelta(days=1),
                      status=status if not through_service or status == "draft" else "scheduled",
                      created_by_id=users["secretary"].id)
    session.add(meeting)
    session.flush()
    for name, (_, mrole) in ROLES.items():
        if mrole:
            session.add(Participant(meeting_id=meeting.id, user_id=users[name].id, role=mrole,
                                    can_vote=mrole != "observer"))
    items = [AgendaItem(meeting_id=meeting.id, position=i, title=f"Nội dung {i + 1}") for i in range(3)]
    session.add_all(items)
    session.commit()
    if through_service:
        move_meeting(session, meeting, users["secretary"], status)
    return World(body=body, meeting=meeting, users=users, items=items)


def move_meeting(session, meeting: Meeting, actor: User, to: str) -> Meeting:
    """Walk ``meeting`` to status ``to`` through the status service, one allowed move at a time, committing each.

    Never set ``meeting.status`` by hand in a test: the service records when a
    sitting really started, was suspended and ended, and the minutes print that.
    """
    path = _path(meeting.status, to)
    for step in path:
        change_status(session, session.get(Meeting, meeting.id), session.merge(actor), status=step)
        session.commit()
    return session.get(Meeting, meeting.id)


def _path(start: str, goal: str) -> list[str]:
    # Forward moves first, so "scheduled → closed" holds the sitting rather than going back to draft.
    order = ("draft", "scheduled", "in_progress", "adjourned", "closed")
    frontier, seen = [(start, [])], {start}
    while frontier:
        here, steps = frontier.pop(0)
        if here == goal:
            return steps
        for nxt in sorted(MEETING_TRANSITIONS.get(here, ()), key=order.index, reverse=True):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, steps + [nxt]))
    raise ValueError(f"no way from {start!r} to {goal!r}")


class TokenClients:
    """Test clients that authenticate as a world's users with bearer tokens."""

    def __init__(self, app, world: World):
        self.app = app
        self.world = world
        self._tokens: dict[str, str] = {}

    def token(self, name: str) -> str:
        if name not in self._tokens:
            from meetings.core.extensions import db

            clear, _ = issue_token(db.session, self.world.users[name], 1)
            db.session.commit()
            self._tokens[name] = clear
        return self._tokens[name]

    def __call__(self, name: str | None):
        client = self.app.test_client()
        if name is not None:
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.token(name)}"
        return client


def build_draft_meeting(session, world: World, title: str = "Dự thảo: phiên họp chuyên đề") -> Meeting:
    """A draft meeting of the world's body with the same participants and one item.

    Only those preparing or running it (secretary, chair, admin) may see it.
    """
    meeting = Meeting(body_id=world.body.id, title=title, place="Phòng họp số 2",
                      starts_at=utcnow() + timedelta(days=7), status="draft",
                      created_by_id=world.users["secretary"].id)
    session.add(meeting)
    session.flush()
    for name, (_, mrole) in ROLES.items():
        if mrole:
            session.add(Participant(meeting_id=meeting.id, user_id=world.users[name].id, role=mrole,
                                    can_vote=mrole != "observer"))
    session.add(AgendaItem(meeting_id=meeting.id, position=0, title="Nội dung dự thảo"))
    session.commit()
    return meeting


def page_client(app, username: str, password: str = PASSWORD):
    """A browser-like test client logged in through the /login form with its CSRF token."""
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    return c
