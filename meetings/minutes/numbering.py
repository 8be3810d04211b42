"""Numbers of the minutes from the body's register: "Số: 27/BB-UBND", counted per calendar year.

A number is taken when the minutes are finalized, in the same transaction: a
compose that fails rolls the register back with it, so no number is skipped.
The secretariat may set a number by hand in the draft; then none is taken.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.bodies.models import Body
from meetings.live.rows import insert_ignore
from meetings.minutes.models import MinutesRegister

KIND = "BB"  # Decree 30: the abbreviation of "Biên bản"


def register_year(at: datetime | None, tz: str) -> int:
    """The register's year for a sitting held ``at`` (its local date), this year when unknown."""
    moment = at or datetime.now(ZoneInfo(tz))
    return moment.astimezone(ZoneInfo(tz)).year


def take_number(session: Session, body: Body, year: int, *, register: type = MinutesRegister,
                kind: str = KIND) -> str:
    """The next number of ``body``'s register for ``year``, formatted "27/BB-UBND".

    Another kind of paper passes its own ``register`` (a model with body_id, year, last_number and a
    unique (body_id, year)) and ``kind`` ("TB" for a Thông báo: "12/TB-UBND").

    Increment first, then read: the UPDATE takes the row lock (PostgreSQL) or
    the write lock (SQLite) until commit, so two finalizes never read the same
    number.
    """
    insert_ignore(session, register, body_id=body.id, year=year, last_number=0)
    session.execute(update(register).where(register.body_id == body.id, register.year == year)
                    .values(last_number=register.last_number + 1)
                    .execution_options(synchronize_session=False))
    n = session.execute(select(register.last_number).where(
        register.body_id == body.id, register.year == year)).scalar_one()
    return f"{n}/{kind}-{body.short_name}" if body.short_name else f"{n}/{kind}"
