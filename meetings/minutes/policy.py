"""Who may do what with minutes: one function per decision, built on meetings.bodies.permissions.

The ``require_*`` functions raise the error the caller answers with: NotFound
(404) for someone who may not even know the minutes exist, Forbidden (403)
for someone who sees them but may not do this.
"""
from __future__ import annotations

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_prepare, can_run, can_view, participant_of
from meetings.core.errors import Forbidden, NotFound
from meetings.minutes.models import Minutes

SIGNER_ROLES = ("secretary", "chair")


def can_read_minutes(m: Minutes, meeting: Meeting, user: User) -> bool:
    """The secretariat and chair see every state; whoever sees the meeting sees its published minutes.

    Archivists too only through ``can_view``: a published meeting within their clearance (the same
    rule the pages, the archive's search and its bundles follow)."""
    if can_run(meeting, user):
        return True
    return m.status == "published" and can_view(meeting, user)


def can_list_minutes(meeting: Meeting, user: User) -> bool:
    """Ask for a meeting's minutes at all: whoever sees the meeting (archivists within their clearance)."""
    return can_view(meeting, user)


def require_read(m: Minutes, meeting: Meeting, user: User) -> None:
    """Read these minutes, or 404: no hint that unpublished minutes exist."""
    if not can_read_minutes(m, meeting, user):
        raise NotFound("No such minutes.")


def require_prepare_meeting(meeting: Meeting, user: User) -> None:
    """Start a meeting's minutes: the secretariat (404 for whoever does not see the meeting)."""
    if not can_view(meeting, user):
        raise NotFound("No such meeting.")
    if not can_prepare(meeting, user):
        raise Forbidden("Only the secretariat prepares the minutes.")


def require_prepare(m: Minutes, meeting: Meeting, user: User) -> None:
    """Edit, finalize, publish or correct these minutes: the secretariat."""
    require_read(m, meeting, user)
    if not can_prepare(meeting, user):
        raise Forbidden("Only the secretariat prepares the minutes.")


def require_signer(meeting: Meeting, user: User) -> str:
    """Sign the meeting's minutes: its secretary or chair; returns which of the two the user is.

    A participant who tries learns why not (403), not a 404."""
    if not can_view(meeting, user):
        raise NotFound("No such minutes.")
    p = participant_of(meeting, user)
    if p is None or p.role not in SIGNER_ROLES:
        raise Forbidden("Only the meeting's secretary and chair sign its minutes.", code="not_a_signer")
    return p.role
