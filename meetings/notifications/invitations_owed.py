"""Invitations owed to a group added at once to a published meeting, sent by the job queue.

Composing one invitation (text, HTML, the iCalendar part, its reply links) takes about 25 ms,
so a thousand people imported into a published meeting would hold the import's request for
half a minute. Instead the import's transaction writes their invitation rows marked owed
(``Invitation.owed_since``, with one audit entry), and once it has committed the task
``invitations.send_owed`` composes their e-mails through the outbox, a batch at a time. If
that task never reaches the queue (a crash right after the commit, the queue unreachable),
the every-minute sweep sends what is still owed. A withdrawal or a removal before they went
out owes nothing: no invitation and no cancellation (``invitations.withdraw``/``cancel_one``).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import ends_savepoint, utcnow
from meetings.notifications import invitations
from meetings.notifications.invitation_models import Invitation
from meetings.platform import jobs
from meetings.platform.audit import service as audit
from meetings.platform.signals import participants_added

log = logging.getLogger(__name__)
SEND_TASK = "invitations.send_owed"
SWEEP_TASK = "invitations.owed_sweep"
BATCH = 200  # e-mails composed per task run: ~5 s of work, then the next batch is queued
GRACE = timedelta(seconds=60)  # owed longer than this without its task running: the sweep queues it
_OWED = "invitations_owed_meetings"


def owe(session: Session, meeting: Meeting, user_ids: list[int], actor: User | None) -> int:
    """Mark the invitations of ``user_ids`` owed (made, or made valid again); answers how many."""
    entry = invitations.calendar_entry(session, meeting)
    ids = list(dict.fromkeys(user_ids))
    if entry is None or not entry.active or meeting.status == "draft" or not ids:
        return 0
    existing = {i.user_id: i for i in session.scalars(select(Invitation).where(
        Invitation.meeting_id == meeting.id, Invitation.user_id.in_(ids)))}
    if any(i.cancelled_at is not None and i.sequence >= entry.sequence for i in existing.values()):
        entry.sequence += 1  # invited again after a cancellation: only a higher SEQUENCE revives the entry
    now = utcnow()
    for user_id in ids:
        invitation = existing.get(user_id)
        if invitation is None:
            invitation = invitations.new_invitation(meeting.id, user_id)
            session.add(invitation)
        invitation.cancelled_at, invitation.owed_since = None, now
    session.flush()
    audit.record(session, "invitations.owed", actor_id=actor.id if actor else None, object_type="meeting",
                 object_id=meeting.id, meeting_id=meeting.id, details={"count": len(ids), "sequence": entry.sequence})
    session.info.setdefault(_OWED, set()).add(meeting.id)
    return len(ids)


@participants_added.connect
def _on_group_added(_sender: Any, *, session: Session, meeting: Meeting, user_ids: list[int],
                    actor: User | None = None, **_: Any) -> None:
    if invitations.app_ready():
        owe(session, meeting, user_ids, actor)


@jobs.task(SEND_TASK, with_session=True)
def send_owed(session: Session, meeting_id: int) -> int:
    """Compose and queue up to BATCH owed invitations of the meeting; queues itself again while more are owed."""
    meeting = session.get(Meeting, meeting_id)
    rows = session.scalars(select(Invitation).where(
        Invitation.meeting_id == meeting_id, Invitation.owed_since.is_not(None))
        .order_by(Invitation.id).limit(BATCH)).all()
    entry = invitations.calendar_entry(session, meeting) if meeting is not None else None
    live = entry is not None and entry.active and meeting.status != "draft"
    sent = 0
    for invitation in rows:
        invitation.owed_since = None
        if live and invitation.cancelled_at is None:
            # The outbox's dedupe key (meeting, person, SEQUENCE) keeps a second run from sending twice.
            sent += invitations.send_invitation(session, meeting, entry, invitation, "invitation")
    if rows and live:
        audit.record(session, "invitations.sent", actor_id=None, object_type="meeting", object_id=meeting_id,
                     meeting_id=meeting_id, details={"kind": "invitation", "sequence": entry.sequence,
                                                     "emails": sent, "owed": len(rows)})
    if len(rows) == BATCH:
        session.info.setdefault(_OWED, set()).add(meeting_id)
    return sent


@jobs.periodic(SWEEP_TASK)
def sweep(session: Session, *, now: datetime | None = None) -> int:
    """Queue the sending of invitations owed for longer than GRACE; answers how many meetings."""
    since = (now or utcnow()) - GRACE
    meeting_ids = sorted(set(session.scalars(select(Invitation.meeting_id).where(
        Invitation.owed_since.is_not(None), Invitation.owed_since <= since))))
    for meeting_id in meeting_ids:
        jobs.enqueue(SEND_TASK, meeting_id)
    return len(meeting_ids)


@event.listens_for(Session, "after_commit")
def _queue_after_commit(session: Session) -> None:
    if ends_savepoint(session):
        return
    owed = session.info.pop(_OWED, None)
    if not owed or not has_app_context():
        return
    for meeting_id in sorted(owed):
        try:
            jobs.enqueue(SEND_TASK, meeting_id)
        except Exception:  # the queue's storage is unreachable: the sweep will
            log.warning("could not queue owed invitations of meeting %s; the sweep will", meeting_id, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if not ends_savepoint(session):
        session.info.pop(_OWED, None)
