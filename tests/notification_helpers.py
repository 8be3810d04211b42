"""Shared by the reminder, alert and inbox tests: an app sending to aiosmtpd, a fixed clock, rows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from meetings.core.extensions import db
from meetings.notifications import delivery
from meetings.notifications.inbox_models import Notification
from meetings.notifications.models import OutboxMessage
from tests.invitation_helpers import ENGLISH, PUBLIC_URL, addresses  # noqa: F401  (shared with these tests)

# 08:00 in Hà Nội on a Thursday: the meeting every clock test is about.
START = datetime(2030, 1, 10, 1, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def note_app(app, mail_server):
    app.config.update({**mail_server.smtp_settings, "PUBLIC_URL": PUBLIC_URL})
    return app


@pytest.fixture
def people(note_app, world):
    """The world with e-mail addresses, its meeting moved to START."""
    addresses(world)
    meeting = db.session.merge(world.meeting)
    meeting.starts_at = START
    db.session.commit()
    return world


def tick(app, now: datetime) -> dict[str, int]:
    """One run of the periodic task at ``now``, in its own unit of work (as the consumer runs it)."""
    from meetings.notifications import reminders
    from meetings.platform import jobs

    with app.app_context(), jobs.unit_of_work() as session:
        return reminders.tick(session, now=now)


def deliver(app) -> dict[str, int]:
    with app.app_context():
        return delivery.deliver_due()


def outbox_rows(**where) -> list[OutboxMessage]:
    db.session.rollback()
    db.session.expire_all()
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return list(db.session.scalars(stmt))


def lines(user_id: int | None = None) -> list[Notification]:
    db.session.rollback()
    db.session.expire_all()
    stmt = select(Notification).order_by(Notification.id)
    if user_id is not None:
        stmt = stmt.where(Notification.user_id == user_id)
    return list(db.session.scalars(stmt))


def recipients(messages) -> list[str]:
    return sorted(m["To"].addresses[0].username for m in messages)
