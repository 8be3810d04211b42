"""What the minutes tell others: the status event in the meeting's log (sent after
commit), and progress notices to the requesting user (sent at once)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from meetings.minutes.models import Minutes
from meetings.platform.realtime import eventlog


def status_changed(session: Session, m: Minutes, actor_id: int) -> None:
    """Log ``minutes.status`` for the meeting's participants, in the caller's transaction."""
    eventlog.append(session, m.meeting_id, "minutes.status",
                    {"minutes_id": m.id, "version": m.version, "status": m.status}, actor_id=actor_id)


def progress(user_id: int, minutes_id: int, stage: str, percent: int) -> None:
    """Tell the requesting user how far a long job (composing, signing) is, now.

    Sent at once, not after the request's commit: the notice must reach the user
    while the job runs, and it states no change that a rollback could undo."""
    eventlog.notify_now(user_id, "minutes.progress", {"minutes_id": minutes_id, "stage": stage, "percent": percent})
