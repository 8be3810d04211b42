"""Who may take what from the archive: one function per decision, built on meetings.bodies.permissions."""
from __future__ import annotations

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_prepare, can_view
from meetings.core.errors import Forbidden, NotFound


def can_export(meeting: Meeting, user: User) -> bool:
    """Archivists, administrators and the meeting's secretariat export its package."""
    return bool(user.is_archivist or user.is_admin) or can_prepare(meeting, user)


def require_export(meeting: Meeting | None, user: User) -> Meeting:
    """Export the meeting's package: 404 for whoever may not see the meeting (archivists see
    every meeting here), 403 for whoever sees it but may not export."""
    if meeting is None or not (can_view(meeting, user) or user.is_archivist):
        raise NotFound("No such meeting.")
    if not can_export(meeting, user):
        raise Forbidden("Only archivists and the secretariat export archival packages.")
    return meeting
