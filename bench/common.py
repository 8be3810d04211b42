"""Helpers the benchmark scripts share: machine-readable results, load average, a scratch PostgreSQL database.

Every script in bench/ prints its results as JSON lines to stdout; with ``--json FILE`` it also writes them
(a list of objects, or one object) to FILE, which ``bench/run.py`` reads. Nothing here measures anything.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def load_average() -> tuple[float, float, float]:
    """The machine's 1-, 5- and 15-minute load averages (from /proc/loadavg)."""
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def write_json(path: str | Path | None, data: Any) -> None:
    """Write ``data`` to ``path`` as JSON (atomically: a half-written file is never read), if a path is given."""
    if not path:
        return
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")
    tmp.replace(path)


@contextmanager
def scratch_postgresql(prefix: str = "bench") -> Iterator[str]:
    """An empty PostgreSQL database for one benchmark run (created here, dropped afterwards); yields its URL."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
