"""`flask --app wsgi outbox …` and `flask --app wsgi push keys`: the operator's view of the outbox."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, update

from meetings.core.db import utcnow
from meetings.notifications import delivery
from meetings.notifications.channels import push
from meetings.notifications.models import STATUSES, OutboxMessage
from meetings.platform import jobs


@click.group("outbox")
def outbox_group():
    """Messages waiting, sent, failed or held."""


@outbox_group.command("status")
@with_appcontext
def status():
    """Counts per channel and status, and which channels are configured."""
    with jobs.unit_of_work() as session:
        counts = session.execute(select(OutboxMessage.channel, OutboxMessage.status, func.count())
                                 .group_by(OutboxMessage.channel, OutboxMessage.status)).all()
        oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))
    table: dict[str, dict[str, int]] = {}
    for channel, state, count in counts:
        table.setdefault(channel, {})[state] = count
    for name, module in delivery.CHANNELS.items():
        row = table.get(name, {})
        figures = "  ".join(f"{s} {row.get(s, 0)}" for s in STATUSES)
        ready = "configured" if module.configured(current_app.config) else "NOT CONFIGURED (messages wait)"
        click.echo(f"{name:6} {figures}   [{ready}]")
    if oldest is not None:
        click.echo(f"oldest pending since {oldest.isoformat(timespec='seconds')}")
    queued, scheduled = jobs.pending_count()
    click.echo(f"queue: {queued} tasks queued, {scheduled} scheduled")


@outbox_group.command("list")
@click.option("--status", "state", type=click.Choice(STATUSES), default=None)
@click.option("--channel", type=click.Choice(tuple(delivery.CHANNELS)), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@with_appcontext
def list_messages(state, channel, limit):
    """The latest messages (newest first), with their last error."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if state:
        query = query.where(OutboxMessage.status == state)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    with jobs.unit_of_work() as session:
        for m in session.scalars(query):
            error = f"  ! {m.last_error[:120]}" if m.last_error else ""
            click.echo(f"{m.id:>7} {m.status:8} {m.channel:5} {m.kind:24} {m.address[:40]:40} "
                       f"tries {m.attempts}{error}")


@outbox_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--status", "state", type=click.Choice(("held", "failed")), default="held", show_default=True,
              help="Without ids: every message in this status.")
@with_appcontext
def retry(ids, state):
    """Send held (or failed) messages again now; the three days before holding start again."""
    now = utcnow()
    with jobs.unit_of_work() as session:
        query = select(OutboxMessage.id, OutboxMessage.meta).where(OutboxMessage.status.in_(("held", "failed")))
        query = query.where(OutboxMessage.id.in_(ids)) if ids else query.where(OutboxMessage.status == state)
        chosen = session.execute(query).all()
    with jobs.unit_of_work() as session:  # writes only: the consumer may be writing meanwhile (SQLite)
        for message_id, meta in chosen:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                        OutboxMessage.status.in_(("held", "failed")))
                            .values(status="pending", next_attempt_at=now, lease_until=None,
                                    meta={**(meta or {}), "retried_at": now.isoformat()}))
    for message_id, _ in chosen:
        jobs.enqueue(delivery.DELIVER_TASK, message_id)
    click.echo(f"{len(chosen)} messages queued again")


@outbox_group.command("send")
@with_appcontext
def send_now():
    """Deliver every due message in this process, now, without the consumer (a test of the settings)."""
    outcomes = delivery.deliver_due()
    click.echo(", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "nothing due")


@click.group("push")
def push_group():
    """Web Push (VAPID keys)."""


@push_group.command("keys")
@click.option("--force", is_flag=True, help="Replace the key: every browser must subscribe again.")
@with_appcontext
def keys(force):
    """Generate the server's VAPID key pair (instance/vapid_private.pem) and print the public key."""
    if current_app.config.get("VAPID_PRIVATE_KEY") and not force:
        click.echo("VAPID_PRIVATE_KEY is set in the environment; it is the one in use.")
    else:
        path, written = push.generate_keys(current_app.instance_path, force=force)
        click.echo(f"{'wrote' if written else 'kept the existing'} private key: {path}")
    click.echo(f"public key (applicationServerKey): {push.public_key(current_app.config)}")
    if not current_app.config.get("VAPID_SUBJECT"):
        click.echo("set VAPID_SUBJECT (mailto:someone@your.org) so push services can reach you")
