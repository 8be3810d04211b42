"""The database: one engine, one scoped session, the declarative base.

Plain SQLAlchemy 2 rather than Flask-SQLAlchemy: the same session factory
serves requests, socket events, CLI commands and tests.
"""
from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
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
        self.engine = make_engine(url, pool_size=int(app.config.get("DATABASE_POOL_SIZE", 10)),
                                  max_overflow=int(app.config.get("DATABASE_MAX_OVERFLOW", 20)))
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(lambda exc: self.session.remove())

    @property
    def is_sqlite(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "sqlite"


# SQLite's busy handler sleeps inside the C library, holding the thread: under gevent
# that stops every greenlet of the process (every socket, /healthz) for as long as it
# waits. So the driver waits only BUSY_TIMEOUT_MS for a lock; longer waits are retries
# that sleep cooperatively (``time.sleep`` is gevent's once the worker patched it),
# up to LOCK_WAIT_S in all, as the old 15 s busy timeout did.
BUSY_TIMEOUT_MS = 10
LOCK_WAIT_S = 15.0
_SQLITE_BUSY = 5
# A read transaction that must write after another connection committed: waiting cannot help.
_SQLITE_BUSY_SNAPSHOT = 517


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """Create an engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.close()
            # pysqlite's own transaction handling breaks SAVEPOINT (begin_nested);
            # let SQLAlchemy emit BEGIN itself (the documented recipe).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN")
            # Remembered so end_read_only_transaction can tell whether this transaction wrote.
            conn.info["changes_at_begin"] = conn.connection.driver_connection.total_changes

        # Every statement goes through the cooperative wait (retval: True means "executed").
        @event.listens_for(engine, "do_execute", retval=True)
        def _execute(cursor, statement, parameters, _context):
            return waiting_for_locks(cursor.connection, lambda: cursor.execute(statement, parameters))

        @event.listens_for(engine, "do_execute_no_params", retval=True)
        def _execute_no_params(cursor, statement, _context):
            return waiting_for_locks(cursor.connection, lambda: cursor.execute(statement))

        @event.listens_for(engine, "do_executemany", retval=True)
        def _executemany(cursor, statement, parameters, _context):
            return waiting_for_locks(cursor.connection, lambda: cursor.executemany(statement, parameters))

        return engine
    require_cooperative_psycopg()
    # Every server process (and the job consumer) holds up to pool_size + max_overflow connections:
    # their sum over all processes must stay under PostgreSQL's max_connections (docs/configuration.md).
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def waiting_for_locks(raw: sqlite3.Connection, run: Callable[[], object]) -> bool:
    """Run one SQLite statement; while the database is locked (SQLITE_BUSY), retry it
    after a cooperative sleep with back-off, for up to LOCK_WAIT_S. True once it ran.

    A busy statement did nothing, so running it again is safe, unless SQLite rolled
    back the whole transaction (then the error is raised) or the transaction's
    snapshot is too old to write (SQLITE_BUSY_SNAPSHOT: raised at once, as before).
    """
    deadline = time.monotonic() + LOCK_WAIT_S
    delay = 0.002
    in_transaction = raw.in_transaction
    while True:
        try:
            run()
            return True
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            retry = (code is not None and code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT
                     and raw.in_transaction == in_transaction and time.monotonic() + delay < deadline)
            if not retry:
                raise
        time.sleep(delay)  # module attribute, looked up now: gevent's sleep in the server
        delay = min(delay * 2, 0.1)


def require_cooperative_psycopg() -> None:
    """Under gevent, psycopg must wait for the server through the patched ``select``.

    psycopg 3 picks its wait function when it is first imported: its C ``wait_c``
    polls the socket outside Python, so a query waiting on the server (a lock, a
    long statement) would stop every greenlet; once gevent has patched ``select``
    it picks a pure-Python wait that yields. Imported too early (before the
    worker patched the standard library, e.g. by a preloaded app), it keeps
    ``wait_c``: refuse to start rather than stall the hall at the first slow query.
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("select"):
        return
    from psycopg import waiting  # imported only for PostgreSQL URLs

    if waiting.wait is getattr(waiting, "wait_c", None):
        raise RuntimeError("psycopg was imported before gevent patched the standard library, so its queries "
                           "would block every greenlet: do not preload the app (gunicorn --preload), or "
                           "import psycopg after gevent.monkey.patch_all().")


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


def ends_savepoint(session) -> bool:
    """In an ``after_commit`` or ``after_rollback`` hook: whether what ends is a savepoint
    (``begin_nested``) rather than the session's transaction.

    SQLAlchemy runs both hooks when a savepoint is released or rolled back, too; work
    promised "after the commit" (broadcasts, queued jobs) must wait for the outermost one,
    and a savepoint's rollback must not drop what the rest of the transaction queued.
    """
    return session.in_nested_transaction()


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
