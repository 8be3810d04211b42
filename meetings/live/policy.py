"""Who may do what in the live room: one function per decision, used by REST and sockets.

Each raises the domain error the caller answers with (Forbidden → 403, Conflict → 409);
the meeting-level roles come from :mod:`meetings.bodies.permissions`.
"""
from __future__ import annotations

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_run, can_view, participant_of
from meetings.core.errors import Conflict, Forbidden

# Live changes are refused while a meeting is still a draft or already closed.
LIVE_STATUSES = ("scheduled", "in_progress", "adjourned")


def require_live_status(status: str) -> None:
    """The live room of a meeting in ``status`` is open (checked from a bare status on the fast path)."""
    if status not in LIVE_STATUSES:
        raise Conflict(f"The meeting is {status}; its live room is not open.", code="meeting_not_live")


def require_live(meeting: Meeting) -> None:
    """The meeting's live room is open."""
    require_live_status(meeting.status)


def require_run(meeting: Meeting, user: User) -> None:
    """Run the live room (roll call, items, speakers): the chair or the secretariat, while it is open."""
    if not can_run(meeting, user):
        raise Forbidden("Only the chair or the secretariat can do this.")
    require_live(meeting)


def require_join(meeting: Meeting, user: User) -> bool:
    """Enter the meeting's room: whoever may see the meeting. Returns whether the user runs it."""
    if not can_view(meeting, user):
        raise Forbidden("You do not take part in this meeting.")
    return can_run(meeting, user)


def require_move_viewers(meeting: Meeting, actor: User, presenter_id: int | None,
                         fields: set[str] | frozenset[str] = frozenset()) -> None:
    """Move the hall's viewers: the chair and the secretariat change anything; the
    designated presenter (``presenter_id``), while they may see the meeting, changes
    document, page and zoom but not the item or the presenter (``fields`` = what changes)."""
    if can_run(meeting, actor):
        return
    if presenter_id != actor.id or not can_view(meeting, actor):
        raise Forbidden("Only the chair, the secretariat or the designated presenter can move the viewers.")
    if {"agenda_item_id", "presenter_id"} & fields:
        raise Forbidden("Only the chair or the secretariat can change the item or the presenter.")


def require_speaker(meeting: Meeting, user: User) -> None:
    """Ask for the floor: a participant who is not an observer, while the room is open."""
    require_live(meeting)
    p = participant_of(meeting, user)
    if p is None or p.role == "observer":
        raise Forbidden("Only the meeting's members can ask to speak.")


def require_own_or_run(meeting: Meeting, user: User, owner_id: int) -> None:
    """Settle a request to speak: its owner, or whoever runs the room."""
    if owner_id != user.id:
        require_run(meeting, user)


def sees_whole_roll(meeting: Meeting, user: User) -> bool:
    """The snapshot carries the whole roll call and who is online for those who run the
    room; a delegate's carries their own row only."""
    return can_run(meeting, user)
