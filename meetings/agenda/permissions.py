"""Who may see and do what in a meeting: plain functions of user and meeting.

These are the single source of truth for every REST route and socket event.
"""
from __future__ import annotations

from meetings.accounts.models import User
from meetings.agenda.models import Meeting, Participant

MANAGER_ROLES = ("chair", "secretary")


def participant_of(meeting: Meeting, user: User | None) -> Participant | None:
    if user is None or not getattr(user, "id", None):
        return None
    for p in meeting.participants:
        if p.user_id == user.id:
            return p
    return None


def is_body_secretariat(meeting: Meeting, user: User | None) -> bool:
    if user is None or not getattr(user, "id", None):
        return False
    return any(m.user_id == user.id and m.is_secretariat for m in meeting.body.members)


def can_prepare(meeting: Meeting, user: User | None) -> bool:
    """Edit the meeting, its agenda, documents and participants (the secretariat)."""
    if user is None or not getattr(user, "id", None):
        return False
    if user.is_admin or is_body_secretariat(meeting, user):
        return True
    p = participant_of(meeting, user)
    return p is not None and p.role == "secretary"


def can_run(meeting: Meeting, user: User | None) -> bool:
    """Run the live session: roll call, presenter, speakers, polls (chair or secretariat)."""
    if can_prepare(meeting, user):
        return True
    p = participant_of(meeting, user)
    return p is not None and p.role in MANAGER_ROLES


def can_view(meeting: Meeting, user: User | None) -> bool:
    """See the meeting at all. Draft meetings are visible only to those preparing them."""
    if user is None or not getattr(user, "id", None):
        return False
    if can_run(meeting, user):
        return True
    if user.is_archivist:
        return meeting.status != "draft"
    return participant_of(meeting, user) is not None and meeting.status != "draft"


def can_view_document(meeting: Meeting, user: User | None, published: bool) -> bool:
    """Unpublished documents are for the secretariat's and chair's eyes only."""
    return can_run(meeting, user) or (published and can_view(meeting, user))
