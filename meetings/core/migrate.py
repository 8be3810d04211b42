"""Alembic, driven from code: `flask --app wsgi db upgrade` and the tests use this.

Each domain that adds tables keeps its own branch of revisions (a branch
label named after the domain, depending on the foundation revision), so
``upgrade("heads")`` brings every branch up to date.
"""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from meetings.core.config import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
