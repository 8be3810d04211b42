"""Row helpers shared by the live room's services."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Participant


def participant_row(session: Session, meeting_id: int, user_id: int) -> Participant | None:
    """The participant row of ``user_id`` in the meeting, or None."""
    return session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
    ).scalar_one_or_none()


def insert_ignore(session: Session, model: type, **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING. Not a SAVEPOINT: pysqlite does not begin a
    transaction before SAVEPOINT, so releasing one would commit on its own."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())
