"""The outbox: every message is a row written in the transaction of the change that caused it.

``queue_email``, ``queue_sms`` and ``queue_push`` add rows to the caller's session and never
commit. Once that transaction commits, a delivery task per row is handed to the job queue
(the session's ``after_commit`` hook below); a rollback drops both. If the process dies
between the commit and the hand-over, or the queue is unreachable, the periodic sweep
(``delivery.sweep``) finds the pending row and queues it.

Dedupe keys are the caller's ("invitation:12:7:0"); the outbox scopes them per channel (and
per push subscription), so one key can name the e-mail and the SMS of the same reminder.
"""
from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import has_app_context
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.db import ends_savepoint
from meetings.notifications.delivery import DELIVER_TASK
from meetings.notifications.models import OutboxMessage, PushSubscription
from meetings.platform import jobs

log = logging.getLogger(__name__)
_QUEUED = "outbox_queued"


def attachment(name: str, mimetype: str, content: bytes | str) -> dict[str, str]:
    """An attachment as the outbox stores it: ``{"name", "mimetype", "base64"}``.

    For an invitation: ``attachment("invite.ics", "text/calendar; method=REQUEST", ics_bytes)``.
    """
    raw = content.encode() if isinstance(content, str) else content
    return {"name": name, "mimetype": mimetype, "base64": base64.b64encode(raw).decode("ascii")}


def queue_email(session: Session, *, user: User, kind: str, dedupe_key: str, subject: str, text: str,
                html: str | None = None, attachments: Iterable[Mapping[str, Any]] = (),
                meta: dict[str, Any] | None = None) -> OutboxMessage | None:
    """Queue an e-mail to ``user.email``; None if the key was queued already or the user has no e-mail.

    ``attachments``: dicts made by :func:`attachment` (or with ``content`` instead of ``base64``).
    """
    if not user.email:
        return None
    parts = [_stored(a) for a in attachments]
    return _add(session, OutboxMessage(channel="email", user_id=user.id, address=user.email, kind=kind,
                                       dedupe_key=f"email:{dedupe_key}", subject=subject, text=text, html=html,
                                       attachments=parts, meta=dict(meta or {})))


def queue_sms(session: Session, *, user: User, kind: str, dedupe_key: str, text: str,
              meta: dict[str, Any] | None = None) -> OutboxMessage | None:
    """Queue an SMS to ``user.phone``; None if the key was queued already or the user has no phone."""
    phone = getattr(user, "phone", None)
    if not phone:
        return None
    return _add(session, OutboxMessage(channel="sms", user_id=user.id, address=phone, kind=kind,
                                       dedupe_key=f"sms:{dedupe_key}", text=text, attachments=[],
                                       meta=dict(meta or {})))


def queue_push(session: Session, *, user: User, kind: str, dedupe_key: str, title: str, body: str, url: str,
               meta: dict[str, Any] | None = None) -> list[OutboxMessage]:
    """Queue a Web Push notification to each of the user's subscribed browsers (one row each)."""
    subscriptions = session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)
                                    .order_by(PushSubscription.id)).all()
    rows = []
    for sub in subscriptions:
        row = _add(session, OutboxMessage(
            channel="push", user_id=user.id, address=sub.endpoint, kind=kind,
            dedupe_key=f"push:{dedupe_key}:{sub.id}", subject=title, text=body, attachments=[],
            meta={**(meta or {}), "url": url, "subscription_id": sub.id}))
        if row is not None:
            rows.append(row)
    return rows


def _stored(part: Mapping[str, Any]) -> dict[str, str]:
    if "base64" in part:
        return {"name": part["name"], "mimetype": part["mimetype"], "base64": part["base64"]}
    return attachment(part["name"], part["mimetype"], part["content"])


def _add(session: Session, row: OutboxMessage) -> OutboxMessage | None:
    """Insert the row in a savepoint: a dedupe key already there (even one being inserted by a
    concurrent transaction) leaves the caller's transaction intact and answers None."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == row.dedupe_key)) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(row)
            session.flush([row])
    except IntegrityError:
        return None
    session.info.setdefault(_QUEUED, []).append(row.id)
    return row


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    if ends_savepoint(session):  # a savepoint released (outbox rows are added in one): not the commit
        return
    queued = session.info.pop(_QUEUED, None)
    if not queued:
        return
    if not has_app_context():
        log.info("%d outbox messages committed outside an application; the sweep will queue them", len(queued))
        return
    for message_id in queued:
        try:
            jobs.enqueue(DELIVER_TASK, message_id)
        except Exception:  # the queue's storage is unreachable: the row waits for the sweep
            log.warning("could not queue outbox message %s; the sweep will", message_id, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    if not ends_savepoint(session):  # a savepoint's rollback (a duplicate key) keeps the others
        session.info.pop(_QUEUED, None)
