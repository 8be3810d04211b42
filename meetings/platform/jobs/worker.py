"""The consumer: Huey's, in a process of its own (`flask --app wsgi jobs worker`).

Threads run the tasks (each in an app context of its own, see ``queue._bind``); Huey's
scheduler runs the periodic tasks at each minute and the delayed ones (retries) when due.
At start every periodic task is queued once, so what a stopped consumer missed (a sweep, a
reminder's minute) is caught up at once rather than at the next minute.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask
from huey.consumer import Consumer

from meetings.platform.jobs.queue import huey_for, task_wrapper
from meetings.platform.jobs.registry import JOBS

log = logging.getLogger(__name__)


def make_consumer(app: Flask, *, workers: int | None = None, catch_up: bool = True) -> Consumer:
    """A Huey consumer over ``app``'s queue (not started)."""
    huey = huey_for(app)
    if catch_up:
        for job in JOBS.values():
            if job.crontab is not None:
                task_wrapper(job.name, app)()
    poll = float(app.config.get("JOBS_POLL_SECONDS") or 1.0)
    return Consumer(huey, workers=workers or int(app.config.get("JOBS_WORKERS") or 4), worker_type="thread",
                    periodic=True, initial_delay=min(0.05, poll), backoff=1.5, max_delay=poll,
                    check_worker_health=True)


def run(app: Flask, *, workers: int | None = None, parent_pid: int | None = None) -> None:
    """Run the consumer until a signal stops it (SIGINT: finish the running tasks; SIGTERM: at once).

    ``parent_pid``: also stop when that process is gone (the consumer started beside gunicorn
    dies with its arbiter, whatever killed the arbiter).
    """
    consumer = make_consumer(app, workers=workers)
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()
    log.info("job consumer started: %s, %d workers", type(consumer.huey.storage).__name__, consumer.workers)
    consumer.run()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1)
    log.warning("the server that started this consumer is gone; stopping")
    os._exit(0)  # the tasks' rows are leased: what was cut short is claimed again after the lease
