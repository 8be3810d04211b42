"""Another process holding the database, the way a report, a backup or a forgotten console does.

    with held_transaction(database_url, "read") as held:     # a read snapshot, until the block ends
        ...
        held.release()                                        # or let the block end

``"read"``: SQLite ``BEGIN`` + a read of ``poll_tallies`` (a WAL snapshot that
stops a checkpoint); PostgreSQL a REPEATABLE READ transaction that has read
``users`` (a snapshot that keeps old row versions alive, without locking
``poll_tallies``). ``"write"``: SQLite ``BEGIN IMMEDIATE`` (the write lock);
PostgreSQL ``SELECT … FOR UPDATE`` of one poll's tally row (``poll_id``).
The process prints "held" once it holds, and lets go when told to.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from tests.socket_helpers import WAIT_SECONDS

_HOLDER = r"""
import sys
kind, mode, target, poll_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "sqlite":
    import sqlite3
    conn = sqlite3.connect(target, isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")
    conn.execute("SELECT count(*) FROM poll_tallies").fetchone()
    end = lambda: conn.execute("ROLLBACK")
else:
    import psycopg
    conn = psycopg.connect(target)
    if mode == "write":
        conn.execute("SELECT ballots FROM poll_tallies WHERE poll_id = %s FOR UPDATE", (poll_id,)).fetchall()
    else:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SELECT count(*) FROM users").fetchone()
    end = conn.rollback
print("held", flush=True)
sys.stdin.readline()
end()
print("released", flush=True)
"""


class HeldTransaction:
    def __init__(self, process: subprocess.Popen):
        self.process = process

    @property
    def holding(self) -> bool:
        return self.process.poll() is None

    def release(self) -> None:
        """Let go and wait until the other process has ended its transaction."""
        if self.process.poll() is not None:
            return
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"
        self.process.wait(timeout=WAIT_SECONDS)


@contextmanager
def held_transaction(database_url: str, mode: str, poll_id: int = 0) -> Iterator[HeldTransaction]:
    """Hold a ``mode`` ("read" or "write") transaction in another process for the block."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        kind, target = "sqlite", url.database
    else:
        kind, target = "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    process = subprocess.Popen([sys.executable, "-c", _HOLDER, kind, mode, target, str(poll_id)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    held = HeldTransaction(process)
    try:
        line = process.stdout.readline().strip()
        assert line == "held", f"the holding process said {line!r}"
        yield held
    finally:
        try:
            held.release()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
