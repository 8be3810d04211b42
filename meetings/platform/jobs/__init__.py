"""The job queue: Huey, with its SQLite storage by default and Redis beyond one machine.

Domains register their tasks and periodic tasks here (``task``, ``periodic``) when their
modules are imported; the platform never imports a domain. ``enqueue`` hands a task to the
current application's queue; ``unit_of_work`` is the database session a task writes with.
``flask --app wsgi jobs worker`` runs the consumer (docs/deployment.md).
"""
from __future__ import annotations

from meetings.platform.jobs.queue import enqueue, huey_for, pending_count
from meetings.platform.jobs.registry import BACKOFF, backoff_delay, periodic, task
from meetings.platform.jobs.unit import unit_of_work

__all__ = ["BACKOFF", "backoff_delay", "enqueue", "huey_for", "pending_count", "periodic", "task", "unit_of_work"]
