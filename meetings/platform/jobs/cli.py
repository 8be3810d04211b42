"""`flask --app wsgi jobs …`: the consumer and a look at the queue."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("jobs")
def jobs_group():
    """The job queue (Huey): run the consumer, see what waits."""


@jobs_group.command("worker")
@click.option("--workers", type=int, default=None, help="Threads running tasks (default JOBS_WORKERS).")
@click.option("--parent-pid", type=int, default=None, hidden=True, help="Stop when this process is gone.")
@with_appcontext
def worker(workers, parent_pid):
    """Run the consumer: tasks, retries and periodic tasks, until stopped (Ctrl-C)."""
    from meetings.platform.jobs.worker import run

    run(current_app._get_current_object(), workers=workers, parent_pid=parent_pid)


@jobs_group.command("status")
@with_appcontext
def status():
    """How many tasks wait in the queue and in its schedule (delayed retries)."""
    from meetings.platform.jobs.queue import huey_for

    huey = huey_for()
    click.echo(f"storage: {type(huey.storage).__name__} ({huey.name})")
    click.echo(f"queued: {huey.pending_count()}  scheduled: {huey.scheduled_count()}")
