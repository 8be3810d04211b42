"""What the minutes tell others: the status event in the meeting's log, and progress notices.

Both go out only after a commit (``meetings.platform.realtime.eventlog``).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from meetings.minutes.models import Minutes
from meetings.platform.realtime import eventlog


def status_changed(session: Session, m: Minutes, actor_id: int) -> None:
    """Log ``minutes.status`` for the meeting's participants, in the caller's transaction."""
    eventlog.append(session, m.meeting_id, "minutes.status",
                    {"minutes_id": m.id, "version": m.version, "status": m.status}, actor_id=actor_id)


def progress(session: Session, user_id: int, minutes_id: int, stage: str, percent: int) -> None:
    """Tell the requesting user how far a long job (composing, signing) is, now.

    The one commit outside the request's commit point, and why: the notice must
    reach the user while the job runs, but the request's own transaction commits
    only at its end, and the event log sends notices only after a commit. So a
    separate, empty transaction carries it: it writes nothing to the database
    and changes no state, and a later failure of the request has nothing of it
    to roll back."""
    with Session(bind=session.get_bind()) as side:
        side.connection()  # begin, so that commit runs the after-commit hook that sends the notice
        eventlog.notify(side, user_id, "minutes.progress", {"minutes_id": minutes_id, "stage": stage,
                                                             "percent": percent})
        side.commit()
