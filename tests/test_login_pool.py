"""Password hashing off the event loop, and the bearer-token cache that still honours revocation.

The storm test runs the REAL server (gunicorn, one gevent worker): users whose
passwords carry production-sized argon2 costs log in together while a client
keeps asking /healthz; the loop must keep answering between the logins. Nothing
is timed: the test counts answers between login completions.
"""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from meetings.accounts import hashing
from meetings.accounts.models import ApiToken, User
from meetings.core.db import utcnow
from meetings.core.extensions import db
from tests.factories import PASSWORD
from tests.live_server import start_server

LOGINS = 6


def test_costs_below_owasps_minimum_are_refused():
    assert hashing.strong_enough(19456, 2, 1) and hashing.strong_enough(47104, 1, 1)
    assert hashing.strong_enough(hashing.DEFAULT_MEMORY_KIB, hashing.DEFAULT_TIME_COST, hashing.DEFAULT_PARALLELISM)
    assert not hashing.strong_enough(19456, 1, 1) and not hashing.strong_enough(16384, 2, 1)
    assert not hashing.strong_enough(65536, 3, 0)
    with pytest.raises(ValueError, match="OWASP"):
        hashing.configure({"PASSWORD_HASH_MEMORY_KIB": 8192, "PASSWORD_HASH_TIME_COST": 2})


def test_a_login_storm_leaves_the_event_loop_answering(tmp_path):
    """While LOGINS logins verify a 64 MiB / t=3 argon2 hash each (one at a time: one hashing
    thread), /healthz keeps being answered between login completions. Hashing on the loop
    would hold every greenlet for each verification: about one /healthz per login at most."""
    url = f"sqlite:///{tmp_path / 'storm.sqlite3'}"
    server = start_server(tmp_path, env={"DATABASE_URL": url, "PASSWORD_HASH_THREADS": "1"})
    try:
        # One production-cost hash for all (verification reads the costs from the hash).
        shared = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1).hash(PASSWORD)
        engine = create_engine(url)
        with Session(engine) as s:
            s.add_all(User(username=f"storm{i}", full_name=f"Đại biểu {i}", password_hash=shared)
                      for i in range(LOGINS))
            s.commit()
        engine.dispose()

        order = itertools.count()
        marks: list[tuple[int, str]] = []
        storm_over = threading.Event()

        def healthz() -> None:
            with requests.Session() as http:
                while not storm_over.is_set():
                    assert http.get(server.url + "/healthz", timeout=60).status_code == 200
                    marks.append((next(order), "healthz"))

        def login(i: int) -> int:
            r = requests.post(server.url + "/api/v1/auth/token", json={"username": f"storm{i}", "password": PASSWORD},
                              timeout=120)
            marks.append((next(order), "login"))
            return r.status_code

        prober = threading.Thread(target=healthz, daemon=True)
        prober.start()
        with ThreadPoolExecutor(LOGINS) as pool:
            codes = list(pool.map(login, range(LOGINS)))
        storm_over.set()
        prober.join(60)
        assert codes == [201] * LOGINS
        logins = [k for k, what in sorted(marks) if what == "login"]
        between = sum(1 for k, what in marks if what == "healthz" and logins[0] < k < logins[-1])
        assert between >= 4 * (LOGINS - 1), (between, sorted(marks))
    finally:
        server.stop()


# --------------------------------------------------------------------------- the token cache

def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(client) -> str:
    r = client.post("/api/v1/auth/token", json={"username": "delegate", "password": PASSWORD})
    assert r.status_code == 201, r.json
    return r.json["token"]


def test_a_token_revoked_in_this_process_is_refused_at_once(app, world):
    app.config["TOKEN_CACHE_SECONDS"] = 300  # far longer than the test: only the forgetting can refuse it
    c = app.test_client()
    token = _token(c)
    assert c.get("/api/v1/users/me", headers=_bearer(token)).status_code == 200  # now remembered
    assert c.delete("/api/v1/auth/token", headers=_bearer(token)).status_code == 204
    assert c.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401


def test_a_token_revoked_elsewhere_is_refused_once_its_entry_ages_out(app, world):
    """Another process's revocation is a row change this process does not hear of: the cache
    answers for at most TOKEN_CACHE_SECONDS, then the row is read again."""
    import time

    app.config["TOKEN_CACHE_SECONDS"] = 1
    c = app.test_client()
    token = _token(c)
    assert c.get("/api/v1/users/me", headers=_bearer(token)).status_code == 200
    with app.app_context():
        other = create_engine(str(db.engine.url.render_as_string(hide_password=False)))
    with Session(other) as s:  # what another process's sign-out writes
        s.execute(update(ApiToken).values(revoked_at=utcnow()))
        s.commit()
    other.dispose()
    assert c.get("/api/v1/users/me", headers=_bearer(token)).status_code == 200  # remembered: no query
    time.sleep(1.2)  # the entry's age, not a measurement
    assert c.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401


# --------------------------------------------------------------------------- a socket's credential

def test_a_sockets_credential_ended_here_is_refused_at_once_though_remembered(app, world):
    """Each socket event checks its credential; found live, it is remembered (no query on the
    next page turn) until it ends in this process, which forgets it at once."""
    from meetings.accounts import sessions

    app.config["TOKEN_CACHE_SECONDS"] = 300  # only the forgetting can refuse it within the test
    c = app.test_client()
    token = _token(c)
    with app.app_context():
        row = sessions.live_token(db.session, token)
        user_id, key = row.user_id, sessions.key_of(row)
        assert sessions.socket_credential_live(db.session, user_id, key)
        db.session.commit()
    with app.app_context():
        other = create_engine(str(db.engine.url.render_as_string(hide_password=False)))
    with Session(other) as s:  # changed behind this process's back: the remembered answer stands
        s.execute(update(ApiToken).values(revoked_at=utcnow()))
        s.commit()
        s.execute(update(ApiToken).values(revoked_at=None))
        s.commit()
    other.dispose()
    with app.app_context():
        assert sessions.socket_credential_live(db.session, user_id, key)  # remembered
        assert sessions.end(db.session, user_id, key, reason="logout", actor_id=user_id)
        db.session.commit()
        assert not sessions.socket_credential_live(db.session, user_id, key)
        assert not sessions.socket_credential_live(db.session, user_id, "token-999999")
