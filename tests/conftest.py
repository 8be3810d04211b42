"""Shared fixtures: a real database (SQLite file or PostgreSQL), the app, a world.

``TEST_DB=postgresql`` runs the suite against the PostgreSQL server on
127.0.0.1:5432: each pytest worker creates its own database and drops it at
the end. The default is a SQLite file per worker.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from meetings import create_app
from meetings.core.extensions import db
from meetings.core.migrate import upgrade
from meetings.models import Base
from tests import factories

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# The suite's users log in with a password alone (servers started by tests inherit this);
# tests/test_second_factor.py turns the second factor on per app.
os.environ.setdefault("MFA_REQUIRED_ROLES", "")
# Servers started by tests run no job consumer beside them (gunicorn.conf.py) unless a test asks for one.
os.environ.setdefault("JOBS_CONSUMER", "0")


def _backend() -> str:
    return os.environ.get("TEST_DB", "sqlite")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Real argon2 with the lowest costs: every test world hashes a dozen passwords.

    Verification reads the costs from each stored hash, so servers started by
    tests accept these hashes unchanged.
    """
    from argon2 import PasswordHasher

    from meetings.accounts import hashing

    saved = hashing.pin(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    hashing.pin(saved)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A migrated, empty database for this pytest worker; dropped afterwards."""
    if _backend() == "postgresql":
        name = f"meetings_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        upgrade(url)
        yield url
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "meetings.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh application over an emptied database and a fresh storage folder."""
    application = create_app({
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "STORAGE_PATH": str(tmp_path / "storage"),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        # Tests age and revoke tokens by writing their rows directly, which a process's token cache
        # rightly does not see for its few seconds; tests/test_login_pool.py turns it on.
        "TOKEN_CACHE_SECONDS": 0,
    })
    _empty_all_tables()
    from meetings.annotations import receipts

    receipts.reset()  # ids start again at 1 in the emptied tables
    # No app context stays pushed: each test request gets its own, as in production
    # (Flask-Login caches the user on ``g`` for a context's lifetime).
    yield application
    db.session.remove()
    db.engine.dispose()


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app):
    """A body, a scheduled meeting and one user per role (see tests/factories.py)."""
    return factories.build_world(db.session)


@pytest.fixture
def as_user(app, world):
    """``as_user(name)`` → a test client that sends that user's bearer token."""
    return factories.TokenClients(app, world)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path
