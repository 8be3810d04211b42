"""What every write of the bodies domain checks, and how it tells live tablets.

Shared by bodies (``service``), meetings (``sittings``), participants and the
agenda, so each rule is written once.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.errors import Conflict, Forbidden, Invalid
from meetings.platform.realtime import eventlog


def require_prepare(meeting: Meeting, actor: User) -> None:
    """Forbidden unless ``actor`` may prepare the meeting (``permissions.can_prepare``)."""
    if not permissions.can_prepare(meeting, actor):
        raise Forbidden("Only the meeting's secretariat can change this.")


def require_changes(fields: Mapping[str, Any]) -> None:
    """An update must change something (422 otherwise)."""
    if not fields:
        raise Invalid("Nothing to change.")


def check_quorum(numerator: int | None, denominator: int | None) -> None:
    """A quorum rule is both parts or neither, and a fraction in (0, 1]."""
    if numerator is None and denominator is None:
        return
    if numerator is None or denominator is None:
        raise Invalid("Give both quorum_numerator and quorum_denominator, or neither.")
    if not (1 <= numerator <= denominator):
        raise Invalid("The quorum must be a fraction between 1/den and 1 (1 ≤ numerator ≤ denominator).")


def known_user(session: Session, user_id: int) -> User:
    """The user with this id, or a 422 (the id came in the request's data)."""
    user = session.get(User, user_id)
    if user is None:
        raise Invalid(f"There is no user {user_id}.", code="unknown_user")
    return user


def check_open(meeting: Meeting) -> None:
    """A closed meeting is archived: its details, participants and agenda no longer change."""
    if meeting.status == "closed":
        raise Conflict("The meeting is closed; it can no longer change.", code="meeting_closed")


def announce(session: Session, meeting: Meeting, type_: str, data: dict[str, Any], actor: User) -> None:
    """Append a meeting event for the meeting's tablets (sent after the commit)."""
    # Draft meetings are visible only to those preparing them: nobody to tell yet.
    if meeting.status != "draft":
        eventlog.append(session, meeting.id, type_, data, actor_id=actor.id)
