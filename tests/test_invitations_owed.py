"""A group added at once to a published meeting: its invitations are owed in the import's transaction
and composed by the job queue after the commit (``notifications/invitations_owed.py``); e-mails are
received by the real SMTP server (tests/mail_server.py)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.notifications import invitations_owed
from meetings.notifications.invitation_models import Invitation
from meetings.notifications.models import OutboxMessage
from meetings.platform import jobs
from meetings.platform.audit.models import AuditEntry
from tests.invitation_helpers import (
    by_recipient,
    calendar_part,
    deliver,
    draft,  # noqa: F401  (fixture)
    inv_app,  # noqa: F401  (fixture)
    status,
)
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.test_bulk_import import EN_HEADER, csv_bytes, upload

INVITED = 5  # the draft's participants with addresses (tests/test_invitations.py INVITED)
GROUP = [[f"Đại biểu {i}", f"group{i}", f"group{i}@meetings.test", "", "", "", "", ""] for i in range(1, 4)]
GROUP_MAILS = {f"group{i}@meetings.test" for i in range(1, 4)}


def _published(app, as_user, meeting_id, mail_server) -> None:  # noqa: F811
    status(as_user, meeting_id, "scheduled")
    if app.config.get("JOBS_IMMEDIATE"):  # delivered the moment publishing committed
        assert len(mail_server.messages) == INVITED
    else:
        assert deliver(app) == {"sent": INVITED}
    mail_server.clear()


def _import(as_user, meeting_id) -> None:
    r = upload(as_user("secretary"), meeting_id, csv_bytes(GROUP, EN_HEADER), mode="apply")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["counts"]["participants_added"] == 3


def _owed(meeting_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.meeting_id == meeting_id, Invitation.owed_since.is_not(None)))


def _outbox() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_group_imported_into_a_published_meeting_is_invited_by_the_queue(inv_app, draft, as_user,  # noqa: F811
                                                                             mail_server):  # noqa: F811
    _, meeting_id = draft
    inv_app.config["JOBS_IMMEDIATE"] = True  # tasks run the moment their transaction has committed
    _published(inv_app, as_user, meeting_id, mail_server)
    _import(as_user, meeting_id)
    assert _owed(meeting_id) == 0  # composed by the task, and delivered by the outbox's own
    mails = by_recipient(mail_server.messages)
    assert set(mails) == GROUP_MAILS
    for mail in mails.values():
        method, event, _ = calendar_part(mail)
        assert method == "REQUEST" and "Đại biểu" in mail.get_body(("plain",)).get_content()
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.meeting_id == meeting_id)).all()
    assert actions.count("invitations.owed") == 1  # one entry for the group, not one per person
    with inv_app.app_context():  # a second run (a repeated task) sends nothing more
        with jobs.unit_of_work() as session:
            assert invitations_owed.send_owed(session, meeting_id) == 0
    assert deliver(inv_app) == {} and len(mail_server.messages) == 3


def test_the_import_only_owes_and_the_sweep_sends_what_a_lost_task_did_not(inv_app, draft, as_user,  # noqa: F811
                                                                           mail_server):  # noqa: F811
    _, meeting_id = draft
    _published(inv_app, as_user, meeting_id, mail_server)
    _import(as_user, meeting_id)
    # Committed, and nothing composed in the request: the three are owed, their task is queued.
    assert _owed(meeting_id) == 3 and _outbox() == INVITED
    with inv_app.app_context():
        assert jobs.pending_count()[0] >= 1
        jobs.huey_for(inv_app).flush()  # the task is lost
        with jobs.unit_of_work() as session:
            assert invitations_owed.sweep(session) == 0  # not overdue yet
        with jobs.unit_of_work() as session:
            assert invitations_owed.sweep(session, now=utcnow() + timedelta(minutes=2)) == 1
        assert jobs.pending_count()[0] == 1
        with jobs.unit_of_work() as session:  # what the consumer does with the sweep's task
            assert invitations_owed.send_owed(session, meeting_id) == 3
    assert _owed(meeting_id) == 0
    assert deliver(inv_app) == {"sent": 3}
    assert set(by_recipient(mail_server.messages)) == GROUP_MAILS


def test_withdrawn_before_they_went_out_owes_neither_invitation_nor_cancellation(inv_app, draft, as_user,  # noqa: F811
                                                                                 mail_server):  # noqa: F811
    _, meeting_id = draft
    _published(inv_app, as_user, meeting_id, mail_server)
    _import(as_user, meeting_id)
    status(as_user, meeting_id, "draft")  # withdrawn before the queue ran
    assert _owed(meeting_id) == 0
    with inv_app.app_context():
        with jobs.unit_of_work() as session:
            assert invitations_owed.send_owed(session, meeting_id) == 0
    assert deliver(inv_app) == {"sent": INVITED}  # the five cancellations only
    assert not GROUP_MAILS & set(by_recipient(mail_server.messages))


def test_a_draft_meeting_owes_nothing(inv_app, draft, as_user):  # noqa: F811
    _, meeting_id = draft
    _import(as_user, meeting_id)
    assert _owed(meeting_id) == 0 and _outbox() == 0
