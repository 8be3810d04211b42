"""The database never blocks the gevent loop: a query waiting for a lock, or for a slow
statement, lets every other greenlet run (issue 13, item 6).

SQLite waits for a lock in short driver-level waits joined by cooperative sleeps
(``meetings.core.db.waiting_for_locks``); psycopg 3 waits through gevent's patched
``select`` (``require_cooperative_psycopg`` refuses the blocking C wait). Checked in
a gevent process of our own (a greenlet ticks while another waits) and on the real
server (gunicorn's gevent worker answers /healthz while a close waits for a lock held
by another process). No timing bound: each check is about order (the tick happened,
/healthz answered while the lock was still held); the drill in
tests/drills/test_database_lock.py adds the time bound.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import requests
from sqlalchemy import text

from tests.db_locks import held_transaction
from tests.live_server import PROJECT_ROOT
from tests.socket_helpers import WAIT_SECONDS, db_session, make_world, start_socket_server, wait_until
from tests.test_voting_support import cast_ballots, live_count, open_secret_poll, rest

POSTGRESQL = os.environ.get("TEST_DB", "").startswith("postgresql")

# A gevent process like the server's worker: one greenlet runs ``statement`` while another
# counts its own wake-ups; prints how many happened while the statement ran.
_PROBE = r"""
from gevent import monkey
monkey.patch_all()
import sys
import gevent
from sqlalchemy import text
from meetings.core.db import make_engine

engine = make_engine(sys.argv[1])
with engine.connect() as conn:  # connected (and, for SQLite, the pragmas run) before the race
    conn.execute(text("SELECT 1"))
print("ready", flush=True)
running, ticks = True, 0

def ticker():
    global ticks
    while running:
        gevent.sleep(0.01)
        ticks += running

def query():
    global running
    with engine.begin() as conn:
        conn.execute(text(sys.argv[2]))
    running = False

gevent.joinall([gevent.spawn(ticker), gevent.spawn(query)])
print("ticks", ticks, flush=True)
"""


def _probe(database_url: str, statement: str, env: dict[str, str] | None = None,
           when_ready=lambda: None) -> tuple[int, str, str]:
    """Run the probe; ``when_ready`` is called once it is about to race. (returncode, stdout, stderr)"""
    process = subprocess.Popen([sys.executable, "-c", _PROBE, database_url, statement], cwd=PROJECT_ROOT,
                               env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    if process.stdout.readline().strip() == "ready":
        when_ready()
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


@pytest.mark.skipif(POSTGRESQL, reason="the SQLite lock wait (the PostgreSQL one is below)")
def test_sqlite_lock_wait_lets_other_greenlets_run(database_url):
    """Another process holds the write lock for a second; a write waits for it. Before the fix
    SQLite's busy handler slept in C for the whole wait: the ticker never woke up."""
    with held_transaction(database_url, "write") as holder:
        timer = threading.Timer(1.0, holder.release)
        try:  # a write: it waits for the lock
            code, out, err = _probe(database_url, "DELETE FROM meeting_events WHERE 0", when_ready=timer.start)
        finally:
            timer.cancel()
    assert code == 0, err
    assert int(out.split()[1]) >= 10, out


@pytest.mark.skipif(not POSTGRESQL, reason="psycopg under gevent needs PostgreSQL (TEST_DB=postgresql)")
def test_a_long_postgresql_query_lets_other_greenlets_run(database_url):
    code, out, err = _probe(database_url, "SELECT pg_sleep(1)")
    assert code == 0, err
    assert int(out.split()[1]) >= 10, out  # about 100 at one wake-up per 10 ms


@pytest.mark.skipif(not POSTGRESQL, reason="psycopg under gevent needs PostgreSQL (TEST_DB=postgresql)")
def test_psycopg_with_its_blocking_wait_is_refused(database_url):
    """psycopg's C wait (what it picks when imported before gevent patched ``select``) would stop
    the loop for the whole query: the engine refuses to start with it."""
    code, out, err = _probe(database_url, "SELECT pg_sleep(1)", env={"PSYCOPG_WAIT_FUNC": "wait_c"})
    assert code != 0 and "psycopg was imported before gevent patched" in err, (code, out, err)


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("cooperative"), database_url)
    yield handle
    handle.stop()


def _waiting_for_a_lock(database_url: str) -> bool:
    with db_session(database_url) as s:
        return bool(s.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                   " AND wait_event_type = 'Lock'")).scalar_one())


def test_healthz_answers_while_a_close_waits_for_a_lock_another_process_holds(server, database_url):
    """The real worker: another process holds the write lock (SQLite) or the poll's tally row
    (PostgreSQL); the chair's close waits for it, and /healthz answers before it is let go."""
    w = make_world(database_url)
    w.url = server.url
    poll = open_secret_poll(w)
    cast_ballots(w, poll)
    with held_transaction(database_url, "write", poll_id=poll["id"]) as holder:
        answer: dict = {}
        closing = threading.Thread(target=lambda: answer.setdefault(
            "close", rest(w, "chair", "POST", f"/polls/{poll['id']}/close")))
        closing.start()
        if POSTGRESQL:
            wait_until(lambda: _waiting_for_a_lock(database_url), "the close to wait for the row lock")
        else:  # nothing shows SQLite's waiters: give the request time to reach the lock
            time.sleep(0.5)
        assert requests.get(server.url + "/healthz", timeout=WAIT_SECONDS).status_code == 200
        assert closing.is_alive() and holder.holding  # answered while the close was still waiting
        holder.release()
        closing.join(WAIT_SECONDS)
    assert answer["close"].status_code == 200, answer["close"].text
    assert answer["close"].json()["status"] == "counting"
    live_count(w, poll)
    assert rest(w, "chair", "GET", f"/polls/{poll['id']}").json()["status"] == "closed"
