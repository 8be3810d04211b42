"""`flask outbox status|list|retry|send` and `flask jobs status`: what an operator sees and does."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.notifications import delivery, outbox
from meetings.notifications.models import OutboxMessage
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.outbox_helpers import person, row


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_held_messages_are_seen_and_let_go(app, mail_server):  # noqa: F811
    with app.app_context():
        user = person("an")
        message = outbox.queue_email(db.session, user=user, kind="invitation", dedupe_key="k", subject="s", text="t")
        db.session.commit()
        db.session.execute(update(OutboxMessage).values(status="held", attempts=70, last_error="SMTP error: down",
                                                        created_at=utcnow() - timedelta(days=4)))
        db.session.commit()
    status = _cli(app, "outbox", "status")
    assert "email  pending 0  sending 0  sent 0  failed 0  held 1   [NOT CONFIGURED (messages wait)]" in status
    listed = _cli(app, "outbox", "list", "--status", "held")
    assert "held" in listed and "an@meetings.test" in listed and "SMTP error: down" in listed
    app.config.update(mail_server.smtp_settings)
    assert "1 messages queued again" in _cli(app, "outbox", "retry")
    assert "queued: 2" in _cli(app, "jobs", "status")  # the commit's task and the retry's
    assert _cli(app, "outbox", "send").strip() == "sent 1"
    with app.app_context():
        assert row(message.id).status == "sent"
        # The retry started the three days again: one failure now puts it back to pending, not held.
        mail_server.stop()
        db.session.execute(update(OutboxMessage).values(status="pending"))
        db.session.commit()
        assert delivery.deliver(message.id) == "retry"
