"""What the domains ask the queue to run: tasks by name, and periodic tasks.

A domain registers at import time (``@jobs.task("outbox.deliver")``); the queue of each
application (``queue.huey_for``) picks up every registration, so the platform stays
ignorant of the domains and an application built in a test gets the same tasks.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Delays between attempts, in seconds: 30 s, 1, 2, 5, 10, 30 min, then hourly (the outbox's rhythm too).
BACKOFF: tuple[int, ...] = (30, 60, 120, 300, 600, 1800, 3600)


def backoff_delay(attempt: int) -> int:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    return BACKOFF[min(max(attempt, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class Job:
    """One registered task: its name, its function and how it is retried or repeated."""

    name: str
    func: Callable[..., Any]
    retries: int = 0
    # Periodic tasks: the crontab fields (huey.crontab) of when they run.
    crontab: dict[str, str] | None = None
    # True: the function gets a session as first argument, committed when it returns.
    with_session: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


JOBS: dict[str, Job] = {}


def task(name: str, *, retries: int = 0, with_session: bool = False) -> Callable:
    """Register ``func`` as the task ``name``. Retries (if any) follow BACKOFF.

    With ``with_session``, the task is called as ``func(session, *args)`` inside one
    unit of work (committed on return, rolled back on error).
    """
    def register(func: Callable) -> Callable:
        JOBS[name] = Job(name, func, retries=retries, with_session=with_session)
        return func
    return register


def periodic(name: str, *, minute: str = "*", hour: str = "*", day: str = "*", month: str = "*",
             day_of_week: str = "*", with_session: bool = True) -> Callable:
    """Register ``func`` to run on a crontab schedule (default: every minute) by the consumer.

    Periodic functions are called as ``func(session)`` in one unit of work unless
    ``with_session`` is False (then ``func()``, for tasks that commit step by step).
    """
    when = {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": day_of_week}

    def register(func: Callable) -> Callable:
        JOBS[name] = Job(name, func, crontab=when, with_session=with_session)
        return func
    return register
