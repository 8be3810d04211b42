"""Every stored time reads back timezone-aware UTC, on SQLite and on PostgreSQL.

``meetings.core.db.UtcDateTime`` is the column type of every datetime column, so
no code above the database makes a datetime "aware". These tests write a value
into a scratch table of that type on the test's real database, read it back on a
new connection, and compare.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select

from meetings.core.db import Base, UtcDateTime
from meetings.core.extensions import db

HANOI = timezone(timedelta(hours=7))
_scratch = MetaData()
TIMES = Table("test_scratch_times", _scratch, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))


def _read_back(at: datetime) -> datetime:
    _scratch.create_all(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(TIMES).values(id=1, at=at))
        with db.engine.connect() as conn:
            return conn.execute(select(TIMES.c.at)).scalar_one()
    finally:
        _scratch.drop_all(db.engine)


def test_an_offset_time_reads_back_as_the_same_instant_in_utc(app):
    with app.app_context():
        read = _read_back(datetime(2026, 12, 1, 8, 0, tzinfo=HANOI))
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert read == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert read.isoformat() == "2026-12-01T01:00:00+00:00"


def test_a_naive_time_is_taken_as_utc(app):
    with app.app_context():
        read = _read_back(datetime(2026, 12, 1, 8, 0))
    assert read == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_every_datetime_column_uses_the_aware_type():
    """A plain DateTime column would read back naive on SQLite: none is left."""
    plain = [f"{table.name}.{column.name}" for table in Base.metadata.tables.values()
             for column in table.columns
             if isinstance(column.type, DateTime) and not isinstance(column.type, UtcDateTime)]
    assert plain == []
