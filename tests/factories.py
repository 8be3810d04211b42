"""Builders for test data: a world of users, a body and a meeting."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from meetings.accounts.models import User
from meetings.accounts.service import create_user, issue_token
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant
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


def build_world(session, status: str = "scheduled") -> World:
    users = {
        name: create_user(session, name, PASSWORD, f"Người dùng {name}", global_role=grole)
        for name, (grole, _) in ROLES.items()
    }
    body = Body(name="Ủy ban nhân dân tỉnh Thử Nghiệm", short_name="UBND",
                parent_name="", quorum_numerator=2, quorum_denominator=3)
    session.add(body)
    session.flush()
    for name in ("secretary", "chair", "delegate", "delegate2", "observer"):
        session.add(BodyMember(body_id=body.id, user_id=users[name].id, position="Thành viên",
                               is_secretariat=False))
    meeting = Meeting(body_id=body.id, title="Phiên họp thường kỳ tháng 12", place="Phòng họp số 1",
                      starts_at=utcnow() + timedelta(days=1), status=status, created_by_id=users["secretary"].id)
    session.add(meeting)
    session.flush()
    for name, (_, mrole) in ROLES.items():
        if mrole:
            session.add(Participant(meeting_id=meeting.id, user_id=users[name].id, role=mrole,
                                    can_vote=mrole != "observer"))
    items = [AgendaItem(meeting_id=meeting.id, position=i, title=f"Nội dung {i + 1}") for i in range(3)]
    session.add_all(items)
    session.commit()
    return World(body=body, meeting=meeting, users=users, items=items)


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
