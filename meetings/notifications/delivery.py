"""Delivering outbox rows: the task ``outbox.deliver`` and the periodic sweep.

One delivery, in steps that each commit on their own:

1. claim: the row turns ``sending`` with a lease (``OUTBOX_LEASE_SECONDS``) and one more attempt,
   if it is ``pending`` and due, or ``sending`` with an expired lease (its consumer died);
2. if the queue's storage holds the record ``outbox-sent:<id>``, the message went out already
   (the consumer failed after the send, before step 4): only step 4 remains;
3. send through the channel, which calls back the moment the far side accepted the message
   (after SMTP's 250 to the data, before QUIT);
4. that callback writes the record ``outbox-sent:<id>`` in the queue's storage; then the row is
   marked ``sent`` and the record removed.

A transport error puts the row back to ``pending`` with back-off (jobs.BACKOFF), a refusal marks
it ``failed``, and a row still failing ``OUTBOX_HOLD_HOURS`` after it was written is ``held``
for an operator (``flask outbox list --status held``, ``flask outbox retry``). What is left: a
kill between the far side's acceptance and step 4's record sends that message again on the
next claim (docs/deployment.md, "Delivery guarantees").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from meetings.core.db import utcnow
from meetings.notifications.channels import mail, push, sms
from meetings.notifications.channels.errors import Gone, PermanentError, TransientError
from meetings.notifications.models import OutboxMessage, PushSubscription
from meetings.platform import jobs

log = logging.getLogger(__name__)

DELIVER_TASK = "outbox.deliver"
SWEEP_TASK = "outbox.sweep"
CHANNELS: dict[str, Any] = {"email": mail, "sms": sms, "push": push}
_WAITING_SAID: set[str] = set()  # channels whose "not configured" notice this process has logged


def sent_record(message_id: int) -> str:
    """The key of the queue-storage record saying the message went out."""
    return f"outbox-sent:{message_id}"


@dataclass(frozen=True)
class Letter:
    """What a channel sends: a copy of the row, read in the claim's transaction."""

    id: int
    channel: str
    address: str
    kind: str
    subject: str | None
    text: str
    html: str | None
    attachments: list
    meta: dict
    created_at: datetime
    attempts: int


def _settings() -> dict[str, Any]:
    config = current_app.config
    return {"lease": int(config.get("OUTBOX_LEASE_SECONDS") or 120),
            "hold": timedelta(hours=float(config.get("OUTBOX_HOLD_HOURS") or 72)),
            "grace": int(config.get("OUTBOX_SWEEP_GRACE_SECONDS") if config.get("OUTBOX_SWEEP_GRACE_SECONDS")
                         is not None else 60)}


@jobs.task(DELIVER_TASK)
def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Deliver one outbox row; answers what happened (for logs and tests): sent, recorded (sent
    before, marked now), retry, failed, held, waiting (channel not configured), skipped, missing."""
    now = now or utcnow()
    config, huey = current_app.config, jobs.huey_for()
    letter = _claim(message_id, now, config)
    if isinstance(letter, str):
        return letter
    if huey.get(sent_record(message_id), peek=True) is not None:
        _mark_sent(message_id, now)
        huey.delete(sent_record(message_id))
        return "recorded"
    record = sent_record(message_id)

    def accepted() -> None:  # called by the channel the moment the far side accepted the message
        try:
            huey.put(record, now.isoformat())
        except Exception:  # the queue's storage failed: the mark below is then the only record
            log.exception("outbox message %s: the sent record could not be written", message_id)

    try:
        CHANNELS[letter.channel].send(letter, config, accepted)
    except Gone as exc:
        _give_up(letter, now, str(exc), forget_subscription=True)
        return "failed"
    except PermanentError as exc:
        _give_up(letter, now, str(exc))
        return "failed"
    except Exception as exc:  # TransientError, or a fault of ours: retried with back-off, never lost
        if not isinstance(exc, TransientError):
            log.exception("outbox message %s: unexpected error while sending", message_id)
        return _put_back(letter, now, f"{type(exc).__name__}: {exc}")
    try:
        _mark_sent(message_id, now)
    except Exception:  # the database failed after the send: the record keeps it from going twice
        log.exception("outbox message %s sent but not marked; marking at the lease's end", message_id)
        jobs.enqueue(DELIVER_TASK, message_id, delay=_settings()["lease"] + 1)
        return "unmarked"
    huey.delete(record)
    return "sent"


def _claim(message_id: int, now: datetime, config) -> Letter | str:
    """Take the row for this attempt (its own transaction), or say why not.

    On SQLite a transaction that reads first cannot write once another consumer thread has
    committed meanwhile ("database is locked", at once): so the claim's UPDATE comes first.
    """
    with jobs.unit_of_work() as session:
        channel = session.scalar(select(OutboxMessage.channel).where(OutboxMessage.id == message_id))
        if channel is None:
            return "missing"
        if not CHANNELS[channel].configured(config):
            _say_waiting(session, channel)
            return "waiting"
    with jobs.unit_of_work() as session:
        lease = now + timedelta(seconds=_settings()["lease"])
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id,
                   or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                       and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now)))
            .values(status="sending", lease_until=lease, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            return "skipped"
        row = session.get(OutboxMessage, message_id)
        letter = Letter(row.id, row.channel, row.address, row.kind, row.subject, row.text, row.html,
                        list(row.attachments or []), dict(row.meta or {}), row.created_at, row.attempts)
        if row.channel == "push":
            sub = session.get(PushSubscription, letter.meta.get("subscription_id"))
            if sub is None:
                row.status, row.lease_until, row.last_error = "failed", None, "the subscription was removed"
                return "failed"
            letter = replace(letter, meta={**letter.meta, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}})
            sub.last_used_at = now
        return letter


def _mark_sent(message_id: int, now: datetime) -> None:
    with jobs.unit_of_work() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                        .values(status="sent", sent_at=now, lease_until=None, last_error=None)
                        .execution_options(synchronize_session=False))


def _give_up(letter: Letter, now: datetime, error: str, *, forget_subscription: bool = False) -> None:
    with jobs.unit_of_work() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == letter.id)
                        .values(status="failed", lease_until=None, last_error=error[:2000])
                        .execution_options(synchronize_session=False))
        if forget_subscription:
            sub = session.get(PushSubscription, letter.meta.get("subscription_id"))
            if sub is not None:
                session.delete(sub)


def _put_back(letter: Letter, now: datetime, error: str) -> str:
    """Pending again after the back-off of its attempt count; held once it has tried too long."""
    # An operator's retry (flask outbox retry) starts the three days again.
    retried = letter.meta.get("retried_at")
    since = datetime.fromisoformat(retried) if retried else letter.created_at
    held = now - since >= _settings()["hold"]
    delay = jobs.backoff_delay(letter.attempts)
    with jobs.unit_of_work() as session:  # one UPDATE: a write from the transaction's start (see _claim)
        session.execute(update(OutboxMessage).where(OutboxMessage.id == letter.id)
                        .values(status="held" if held else "pending", next_attempt_at=now + timedelta(seconds=delay),
                                lease_until=None, last_error=error[:2000])
                        .execution_options(synchronize_session=False))
    if held:
        log.warning("outbox message %s held after %s attempts: %s", letter.id, letter.attempts, error)
        return "held"
    log.info("outbox message %s: %s; next attempt in %s s", letter.id, error, delay)
    try:
        jobs.enqueue(DELIVER_TASK, letter.id, delay=delay)
    except Exception:  # the sweep finds it when due
        log.warning("could not schedule the retry of outbox message %s", letter.id, exc_info=True)
    return "retry"


def _say_waiting(session, channel: str) -> None:
    """Once per process and channel: the console says why messages are not leaving."""
    if channel in _WAITING_SAID:
        return
    _WAITING_SAID.add(channel)
    count = session.scalar(select(func.count()).select_from(OutboxMessage)
                           .where(OutboxMessage.channel == channel, OutboxMessage.status == "pending"))
    setting = {"email": "SMTP not configured (SMTP_HOST)", "sms": "SMS gateway not configured (SMS_GATEWAY_URL)",
               "push": "Web Push not configured (flask push keys)"}[channel]
    noun = {"email": "e-mails", "sms": "SMS", "push": "push notifications"}[channel]
    log.warning("%s: %d %s waiting in the outbox", setting, count, noun)


@jobs.periodic(SWEEP_TASK, with_session=False)
def sweep(*, now: datetime | None = None) -> int:
    """Queue every row whose task was lost; answers how many tasks it queued.

    Pending rows overdue by more than OUTBOX_SWEEP_GRACE_SECONDS (their task never reached the
    queue, or the queue lost it), and rows whose lease ran out (their consumer died); rows
    still leased get a task at their lease's end. Channels without settings are left waiting.
    """
    now = now or utcnow()
    config, settings = current_app.config, _settings()
    ready = [name for name, module in CHANNELS.items() if module.configured(config)]
    with jobs.unit_of_work() as session:
        for name in set(CHANNELS) - set(ready):
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.channel == name,
                                                             OutboxMessage.status == "pending").limit(1)):
                _say_waiting(session, name)
        overdue = now - timedelta(seconds=settings["grace"])
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.lease_until).where(
            OutboxMessage.channel.in_(ready),
            or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= overdue),
                OutboxMessage.status == "sending")).order_by(OutboxMessage.id)).all()
    for message_id, status, lease_until in rows:
        if status == "sending" and lease_until is not None and lease_until >= now:
            jobs.enqueue(DELIVER_TASK, message_id, delay=(lease_until - now).total_seconds() + 1)
        else:
            jobs.enqueue(DELIVER_TASK, message_id)
    return len(rows)


def deliver_due(*, now: datetime | None = None) -> dict[str, int]:
    """Deliver every due pending row in this process, now (tests, ``flask outbox send``).

    Answers a count per outcome, e.g. ``{"sent": 3, "retry": 1}``.
    """
    now = now or utcnow()
    with jobs.unit_of_work() as session:
        ids = session.scalars(select(OutboxMessage.id).where(
            or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now)))
            .order_by(OutboxMessage.id)).all()
    outcomes: dict[str, int] = {}
    for message_id in ids:
        outcome = deliver(message_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
