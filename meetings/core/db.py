"""The database: one engine, one scoped session, the declarative base.

Plain SQLAlchemy 2 rather than Flask-SQLAlchemy: the same session factory
serves requests, socket events, CLI commands and tests.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored time is UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A point in time, stored in UTC and always read back timezone-aware.

    PostgreSQL keeps the offset (``timestamptz``); SQLite keeps none and hands
    back naive values. This type makes both answer the same: every value going
    in is converted to UTC (a naive one is taken as UTC already), every value
    coming out carries ``tzinfo=UTC``. No code above needs to "make it aware".
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return _in_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return _in_utc(value)


def _in_utc(value: datetime | None) -> datetime | None:
    """The same instant in UTC; a naive value is taken as UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """Holds the engine and the scoped session of one application."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app) -> None:
        url = app.config["DATABASE_URL"]
        self.engine = make_engine(url)
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(lambda exc: self.session.remove())

    @property
    def is_sqlite(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()
            # pysqlite's own transaction handling breaks SAVEPOINT (begin_nested);
            # let SQLAlchemy emit BEGIN itself (the documented recipe).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN")
            # Remembered so end_read_only_transaction can tell whether this transaction wrote.
            conn.info["changes_at_begin"] = conn.connection.driver_connection.total_changes

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


db = Database()


_WROTE = "transaction_wrote"


def has_written(session) -> bool:
    """True once the session's current transaction has changed anything: objects
    pending, a flush, or an INSERT / UPDATE / DELETE run through ``session.execute``
    (the event log and the tally write that way, without a flush)."""
    if isinstance(session, scoped_session):
        session = session()
    return bool(session.new or session.dirty or session.deleted or session.info.get(_WROTE))


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def end_read_only_transaction(session) -> None:
    """Before a long wait (a PDF check in a child process), end the session's
    transaction on SQLite if it has written nothing yet.

    SQLite (WAL) cannot turn a read transaction into a write transaction once
    another connection or greenlet has committed since it began ("database is
    locked"); ending the read-only transaction lets the writes after the wait
    start from a fresh snapshot. Loaded objects stay usable (expire_on_commit
    is off). Elsewhere, and once the transaction has written, nothing changes.
    """
    if isinstance(session, scoped_session):
        session = session()  # the proxy lacks in_transaction()
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return
    conn = session.connection()
    raw = conn.connection.driver_connection
    if raw.total_changes == conn.info.get("changes_at_begin", -1) and not has_written(session):
        session.commit()
