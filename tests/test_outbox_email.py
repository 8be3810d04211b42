"""The outbox's e-mail path against a real SMTP server (aiosmtpd in this process).

Delivery runs in-process here (``delivery.deliver`` / ``deliver_due``, the consumer's task
functions, with ``now`` driven by the test); tests/test_jobs_consumer.py runs the consumer.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.notifications import delivery, outbox
from meetings.platform import jobs
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.outbox_helpers import ICS, person, row, rows


@pytest.fixture
def mail_app(app, mail_server):  # noqa: F811
    app.config.update(mail_server.smtp_settings)
    with app.app_context():
        yield app


def _invite(user, key="invitation:1", **extra):
    message = outbox.queue_email(
        db.session, user=user, kind="invitation", dedupe_key=key, subject="Giấy mời họp",
        text="Kính mời đồng chí dự họp.", html="<p>Kính mời đồng chí <b>dự họp</b>.</p>",
        attachments=[outbox.attachment("invite.ics", "text/calendar; method=REQUEST", ICS)], **extra)
    db.session.commit()
    return message


def test_an_email_is_queued_with_its_cause_and_arrives_whole(mail_app, mail_server):  # noqa: F811
    user = person("an")
    message = _invite(user, meta={"meeting_id": 1})
    assert jobs.pending_count() == (1, 0)  # the task was handed to the queue after the commit
    assert delivery.deliver(message.id) == "sent"
    (mail,) = mail_server.messages
    assert mail_server.envelopes == [("office@meetings.test", ["an@meetings.test"])]
    assert mail["To"] == "an@meetings.test"
    assert mail["Subject"] == "Giấy mời họp"
    assert mail["Message-ID"] == f"<outbox-{message.id}@meetings.test>"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_body(("plain",))
    assert body.get_content().strip() == "Kính mời đồng chí dự họp."
    assert "<b>dự họp</b>" in mail.get_body(("html",)).get_content()
    calendar = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendar) == 1 and calendar[0].get_param("method") == "REQUEST"
    assert "UID:meeting-1-x@meetings.test" in calendar[0].get_content()
    files = [p for p in mail.iter_attachments() if p.get_filename() == "invite.ics"]
    assert files and files[0].get_content_type() == "application/ics"
    sent = row(message.id)
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 1, True)
    assert delivery.deliver(message.id) == "skipped"  # a duplicate task sends nothing
    assert len(mail_server.raw) == 1


def test_dedupe_keys_and_missing_addresses(mail_app):
    user, no_mail = person("binh"), person("chi", email=None)
    assert _invite(user, "k") is not None
    assert _invite(user, "k") is None  # the same key again: nothing new
    assert _invite(no_mail, "k2") is None
    assert outbox.queue_sms(db.session, user=user, kind="reminder", dedupe_key="k", text="x") is None  # no phone
    assert outbox.queue_push(db.session, user=user, kind="reminder", dedupe_key="k", title="t", body="b",
                             url="/") == []
    assert [r.dedupe_key for r in rows()] == ["email:k"]


def test_a_rollback_queues_nothing(mail_app):
    user = person("dung")
    outbox.queue_email(db.session, user=user, kind="x", dedupe_key="gone", subject="s", text="t")
    db.session.rollback()
    db.session.commit()
    assert rows() == [] and jobs.pending_count() == (0, 0)


def test_a_dedupe_clash_keeps_the_callers_transaction(mail_app):
    user = person("em")
    _invite(user, "same")
    user.full_name = "Đã đổi"
    assert outbox.queue_email(db.session, user=user, kind="x", dedupe_key="same", subject="s", text="t") is None
    second = outbox.queue_email(db.session, user=user, kind="x", dedupe_key="other", subject="s", text="t")
    db.session.commit()
    db.session.expire_all()
    assert user.full_name == "Đã đổi" and second is not None
    assert jobs.pending_count() == (2, 0)


def test_smtp_down_then_up_delivers_once_with_back_off(mail_app, mail_server):  # noqa: F811
    user = person("giang")
    message = _invite(user)
    mail_server.stop()
    now = utcnow()
    assert delivery.deliver(message.id, now=now) == "retry"
    waiting = row(message.id)
    assert waiting.status == "pending" and "unreachable" in waiting.last_error
    assert waiting.next_attempt_at == now + timedelta(seconds=30)
    assert delivery.deliver_due(now=now + timedelta(seconds=29)) == {}  # not due yet
    assert delivery.deliver_due(now=now + timedelta(seconds=31)) == {"retry": 1}
    assert row(message.id).next_attempt_at == now + timedelta(seconds=31 + 60)  # 1 min after the 2nd attempt
    mail_server.start()
    assert delivery.deliver_due(now=now + timedelta(seconds=95)) == {"sent": 1}
    assert delivery.deliver_due(now=now + timedelta(hours=2)) == {}
    assert mail_server.message_ids() == {f"<outbox-{message.id}@meetings.test>": 1}
    assert row(message.id).attempts == 3


def test_a_failure_after_the_send_before_the_mark_never_sends_twice(mail_app, mail_server, monkeypatch):  # noqa: F811
    user = person("hai")
    message = _invite(user)
    real_mark, calls = delivery._mark_sent, []

    def mark_fails_once(message_id, now):
        calls.append(message_id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        real_mark(message_id, now)

    monkeypatch.setattr(delivery, "_mark_sent", mark_fails_once)
    now = utcnow()
    assert delivery.deliver(message.id, now=now) == "unmarked"
    assert row(message.id).status == "sending" and len(mail_server.raw) == 1
    later = [t for t in jobs.huey_for().pending() if t.eta is not None]  # a task waits for the lease's end
    assert [t.args for t in later] == [(message.id,)]
    assert delivery.deliver_due(now=now + timedelta(seconds=60)) == {}  # still leased
    assert delivery.deliver_due(now=now + timedelta(seconds=121)) == {"recorded": 1}
    assert row(message.id).status == "sent"
    assert len(mail_server.raw) == 1


def test_a_refused_recipient_fails_and_a_deferral_retries(mail_app, mail_server):  # noqa: F811
    user = person("khanh")
    mail_server.refuse = "550 5.1.1 no such mailbox"
    refused = _invite(user, "a")
    assert delivery.deliver(refused.id) == "failed"
    assert row(refused.id).status == "failed" and "550" in row(refused.id).last_error
    mail_server.refuse = "451 4.3.0 try again later"
    deferred = _invite(user, "b")
    assert delivery.deliver(deferred.id) == "retry"
    assert mail_server.raw == []


def test_held_after_three_days_of_failures(mail_app, mail_server):  # noqa: F811
    user = person("lan")
    message = _invite(user)
    mail_server.stop()
    start = utcnow()
    expected = [30, 60, 120, 300, 600, 1800, 3600, 3600]
    at = start
    for delay in expected:
        assert delivery.deliver(message.id, now=at) == "retry"
        assert row(message.id).next_attempt_at == at + timedelta(seconds=delay)
        at += timedelta(seconds=delay)
    assert delivery.deliver(message.id, now=start + timedelta(days=3, seconds=1)) == "held"
    held = row(message.id)
    assert held.status == "held" and held.attempts == 9
    assert delivery.deliver_due(now=start + timedelta(days=10)) == {}  # an operator must let it go


def test_no_smtp_settings_messages_wait_and_the_log_says_so_once(app, caplog):
    with app.app_context():
        user = person("minh")
        first, second = _invite(user, "a"), _invite(user, "b")
        delivery._WAITING_SAID.clear()
        with caplog.at_level(logging.WARNING, logger="meetings.notifications.delivery"):
            assert delivery.deliver(first.id) == "waiting"
            assert delivery.deliver(second.id) == "waiting"
            assert delivery.sweep() == 0
        notices = [r.getMessage() for r in caplog.records if "SMTP not configured" in r.getMessage()]
        assert notices == ["SMTP not configured (SMTP_HOST): 2 e-mails waiting in the outbox"]
        assert {r.status for r in rows()} == {"pending"} and {r.attempts for r in rows()} == {0}


def test_the_sweep_queues_what_the_queue_lost(mail_app, mail_server):  # noqa: F811
    user = person("nam")
    message = _invite(user)
    jobs.huey_for().flush()  # the task is lost (a crash between the commit and the hand-over)
    now = utcnow()
    assert delivery.sweep(now=now) == 0  # within the grace period the task may still be on its way
    assert delivery.sweep(now=now + timedelta(seconds=61)) == 1
    huey = jobs.huey_for()
    task = huey.dequeue()
    assert task.name == delivery.DELIVER_TASK and task.args == (message.id,)
    huey.execute(task)
    assert len(mail_server.raw) == 1 and row(message.id).status == "sent"
