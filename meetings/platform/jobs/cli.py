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

    app = current_app._get_current_object()
    # This process serves no sockets: without a message queue its broadcasts would reach nobody,
    # so they are written for the web server's relay (meetings/platform/realtime/relay.py).
    app.config["SOCKET_RELAY_WRITE"] = not app.config.get("SOCKETIO_MESSAGE_QUEUE")
    try:
        run(app, workers=workers, parent_pid=parent_pid)
    finally:
        app.config["SOCKET_RELAY_WRITE"] = False


@jobs_group.command("status")
@with_appcontext
def status():
    """How many tasks wait in the queue and in its schedule (delayed retries)."""
    from meetings.platform.jobs.queue import huey_for

    huey = huey_for()
    click.echo(f"storage: {type(huey.storage).__name__} ({huey.name})")
    click.echo(f"queued: {huey.pending_count()}  scheduled: {huey.scheduled_count()}")
