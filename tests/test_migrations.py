"""Migrations from empty, on the backend under test (TEST_DB), in a database made here.

Also the drift check: after ``upgrade heads`` the schema equals the models'
metadata, so a model changed without its migration fails here.
"""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from meetings.core.db import make_engine
from meetings.core.migrate import alembic_config, downgrade, upgrade
from meetings.models import Base

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def empty_url(tmp_path):
    """A brand-new empty database of the backend under test; dropped afterwards."""
    if os.environ.get("TEST_DB", "sqlite") != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"meetings_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _applied(url: str) -> set[str]:
    """Every revision the database is at or past (its heads, their ancestors and dependencies)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()
    if not current:
        return set()
    script = ScriptDirectory.from_config(alembic_config(url))
    return {r.revision for r in script.iterate_revisions(current, "base")}


def test_upgrade_from_empty_then_downgrade_to_base_and_up_again(empty_url):
    model_tables = set(Base.metadata.tables)
    every_revision = {r.revision for r in ScriptDirectory.from_config(alembic_config(empty_url)).walk_revisions()}
    assert "0001_foundation" in every_revision
    assert _tables(empty_url) == set()

    upgrade(empty_url)
    assert _applied(empty_url) == every_revision
    assert model_tables <= _tables(empty_url), f"missing tables: {model_tables - _tables(empty_url)}"

    downgrade(empty_url, "base")
    # Only Alembic's bookkeeping table may remain: every downgrade drops what its upgrade made.
    assert _tables(empty_url) <= {"alembic_version"}
    assert _applied(empty_url) == set()

    # A second upgrade proves the downgrade left nothing (index, sequence, type) that collides.
    upgrade(empty_url)
    assert _applied(empty_url) == every_revision
    assert model_tables <= _tables(empty_url)


def test_upgrade_twice_is_a_no_op(empty_url):
    upgrade(empty_url)
    before = _tables(empty_url)
    upgrade(empty_url)
    assert _tables(empty_url) == before


def test_every_domain_branch_depends_on_the_foundation(empty_url):
    script = ScriptDirectory.from_config(alembic_config(empty_url))
    for rev in script.walk_revisions():
        if rev.revision == "0001_foundation":
            continue
        ancestors = {r.revision for r in script.iterate_revisions(rev.revision, "base")}
        dependencies = set(rev._all_down_revisions) | set(rev.dependencies or ())
        assert "0001_foundation" in ancestors | dependencies, f"{rev.revision} does not build on the foundation"


def test_models_and_migrations_do_not_drift(empty_url):
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diffs == [], "models and migrations differ; write the missing migration:\n" + "\n".join(
        _describe(d) for d in diffs)


def _describe(diff) -> str:
    """One short line per difference (Alembic's reprs print whole tables)."""
    if isinstance(diff, list):  # modify_* come as lists of tuples
        return "; ".join(_describe(d) for d in diff)
    op, *rest = diff
    names = []
    for part in rest:
        name = getattr(part, "name", None)
        table = getattr(getattr(part, "table", None), "name", None)
        if name is not None or table is not None:
            names.append(f"{table}.{name}" if table and table != name else str(name))
        elif isinstance(part, str):
            names.append(part)
    return f"{op} {' '.join(names)}".strip()
