"""Each application's Huey: built from its settings, carrying every registered task.

``JOBS_REDIS_URL`` set: ``RedisHuey`` (several machines share one queue). Otherwise
``SqliteHuey`` in ``JOBS_SQLITE_PATH`` (default ``instance/jobs.sqlite3``): the queue, its
schedule (delayed retries) and its key-value records survive a restart of every process.
``JOBS_IMMEDIATE`` runs each task at once in the enqueuing process (tests, scripts).
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey

from meetings.platform.jobs.registry import BACKOFF, JOBS, Job
from meetings.platform.jobs.unit import unit_of_work

log = logging.getLogger(__name__)
_EXTENSION = "jobs"


def huey_for(app: Flask | None = None) -> Huey:
    """The Huey of ``app`` (default: the current one), with every task registered so far."""
    app = app or current_app._get_current_object()
    state = app.extensions.get(_EXTENSION)
    if state is None:
        state = app.extensions[_EXTENSION] = {"huey": _build(app.config), "tasks": {}}
    tasks = state["tasks"]
    for name, job in JOBS.items():  # registrations made since the last call (a domain imported later)
        if name not in tasks:
            tasks[name] = _bind(state["huey"], app, job)
    return state["huey"]


def _build(config: dict) -> Huey:
    name = config.get("JOBS_NAME") or "meetings"
    immediate = bool(config.get("JOBS_IMMEDIATE"))
    if config.get("JOBS_REDIS_URL"):
        return RedisHuey(name, url=config["JOBS_REDIS_URL"], immediate=immediate)
    path = config.get("JOBS_SQLITE_PATH") or str(Path(config["INSTANCE_PATH"]) / "jobs.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=path, immediate=immediate)


def _bind(huey: Huey, app: Flask, job: Job):
    """Wrap the job's function for this app's queue: an app context (and a unit of work) per run."""
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context() and current_app._get_current_object() is app:
            return _call(job, args, kwargs)  # immediate mode, inside the app already
        with app.app_context():
            return _call(job, args, kwargs)

    run.__name__ = run.__qualname__ = job.name.replace(".", "_")
    if job.crontab is not None:
        return huey.periodic_task(crontab(**job.crontab), name=job.name)(run)
    # Huey's own retries: 30 s, then doubling (a task that raised; the outbox keeps its own rhythm).
    return huey.task(retries=job.retries, retry_delay=BACKOFF[0], retry_backoff=2, name=job.name)(run)


def _call(job: Job, args: tuple, kwargs: dict) -> Any:
    if not job.with_session:
        return job.func(*args, **kwargs)
    with unit_of_work() as session:
        return job.func(session, *args, **kwargs)


def task_wrapper(name: str, app: Flask | None = None):
    """Huey's TaskWrapper of the registered task ``name`` in ``app``'s queue."""
    app = app or current_app._get_current_object()
    huey_for(app)
    try:
        return app.extensions[_EXTENSION]["tasks"][name]
    except KeyError:
        raise LookupError(f"no task named {name!r} is registered (is its module imported?)") from None


def enqueue(name: str, *args: Any, eta: datetime | None = None, delay: float | None = None) -> None:
    """Queue the task ``name`` with ``args`` in the current app's queue; ``eta``/``delay`` postpone it."""
    wrapper = task_wrapper(name)
    if eta is None and delay is None:
        wrapper(*args)
    else:
        wrapper.schedule(args, eta=eta, delay=delay)


def pending_count(app: Flask | None = None) -> tuple[int, int]:
    """(tasks waiting in the queue, tasks waiting in the schedule) of ``app``'s queue."""
    huey = huey_for(app)
    return huey.pending_count(), huey.scheduled_count()
