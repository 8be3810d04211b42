"""Alerts: a document published or replaced ("tài liệu đã được cập nhật"), minutes ready to
sign (to the signers), a poll opened (to those who still have a ballot to cast).

Receivers of the lower domains' signals (``meetings/platform/signals.py``): they run in the
transaction of the change and only queue (outbox rows, inbox lines), through ``dispatch.send``
and the body's and users' settings. Nobody is told of their own action, and nothing is said
about a draft meeting (its invitations will). The title of a document above "internal" stays
inside the system: the notice says "a confidential document".
"""
from __future__ import annotations

import logging
from typing import Any

from flask import has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.bodies.permissions import can_view_document
from meetings.documents.models import Document
from meetings.minutes.models import Minutes
from meetings.minutes.policy import SIGNER_ROLES
from meetings.notifications import dispatch
from meetings.notifications.deadlines import poll_pending
from meetings.notifications.notice_texts import words
from meetings.platform.signals import document_published, document_replaced, minutes_ready_to_sign, poll_opened
from meetings.voting.models import Poll

log = logging.getLogger(__name__)
# Document markings whose titles may leave the system in an e-mail, SMS or push message.
OPEN_MARKINGS = ("normal", "internal")


def _participants(session: Session, meeting: Meeting) -> list[tuple[User, Participant]]:
    return list(session.execute(select(User, Participant).join(Participant, Participant.user_id == User.id).where(
        Participant.meeting_id == meeting.id, User.active.is_(True)).order_by(User.id)).tuples())


def document_alert(session: Session, document: Document, actor_id: int | None, *, replaced: bool) -> int:
    """Tell the meeting's participants who may see the document; answers how many were told."""
    meeting = session.get(Meeting, document.meeting_id)
    if meeting is None or meeting.status == "draft" or not document.published:
        return 0
    kind = "document.replaced" if replaced else "document.published"
    told = 0
    for user, _participant in _participants(session, meeting):
        if user.id == actor_id or not can_view_document(meeting, user, document.published):
            continue
        w = words(user.locale)
        name = document.title if document.confidentiality in OPEN_MARKINGS else w["confidential_document"]
        fields = {"document": name, "meeting": meeting.title, "version": document.version}
        notice = dispatch.Notice(kind=kind, group="document", meeting_id=meeting.id,
                                 url=f"/meetings/{meeting.id}/room",
                                 title=w[f"{kind}.title"].format(**fields), body=w[f"{kind}.body"].format(**fields),
                                 details=((w["meeting"], meeting.title),))
        told += bool(dispatch.send(session, user, notice, dedupe_key=f"{kind}:{document.id}:{user.id}",
                                   body_id=meeting.body_id, meta={"document_id": document.id}))
    return told


def minutes_alert(session: Session, minutes: Minutes, actor: User | None) -> int:
    """Tell the meeting's signers (secretary, chair) that its final minutes wait for them."""
    meeting = session.get(Meeting, minutes.meeting_id)
    told = 0
    for user, participant in _participants(session, meeting):
        if participant.role not in SIGNER_ROLES:
            continue
        w = words(user.locale)
        fields = {"meeting": meeting.title, "number": minutes.number or "—"}
        notice = dispatch.Notice(kind="minutes.ready", group="minutes", meeting_id=meeting.id,
                                 url=f"/meetings/{meeting.id}/console",
                                 title=w["minutes.ready.title"].format(**fields),
                                 body=w[f"minutes.ready.body.{participant.role}"].format(**fields),
                                 details=((w["meeting"], meeting.title),))
        told += bool(dispatch.send(session, user, notice, dedupe_key=f"minutes.ready:{minutes.id}:{user.id}",
                                   body_id=meeting.body_id, meta={"minutes_id": minutes.id}))
    return told


def poll_alert(session: Session, poll: Poll, actor: User | None) -> int:
    """Tell those who have a ballot to cast that the poll is open (by default in the app only)."""
    meeting = session.get(Meeting, poll.meeting_id)
    told = 0
    for user_id in sorted(poll_pending(session, poll)):
        user = session.get(User, user_id)
        if user is None or not user.active or (actor is not None and user.id == actor.id):
            continue
        w = words(user.locale)
        fields = {"title": poll.title, "meeting": meeting.title}
        notice = dispatch.Notice(kind="poll.opened", group="poll", meeting_id=meeting.id,
                                 url=f"/meetings/{meeting.id}/room", title=w["poll.opened.title"].format(**fields),
                                 body=w["poll.opened.body"].format(**fields))
        told += bool(dispatch.send(session, user, notice, dedupe_key=f"poll.opened:{poll.id}:{user.id}",
                                   body_id=meeting.body_id, meta={"poll_id": poll.id}))
    return told


# --------------------------------------------------------------------------- receivers

def _outside_app(what: str) -> bool:
    """A script working on the database without an application (a seed, a fixture) tells nobody:
    the settings, the texts' links and the queue all belong to an application."""
    if has_app_context():
        return False
    log.info("%s outside an application: no alert", what)
    return True


@document_published.connect
def _on_published(_sender: Any, *, session: Session, document: Document, actor_id: int | None = None,
                  **_: Any) -> None:
    if not _outside_app("document published"):
        document_alert(session, document, actor_id, replaced=False)


@document_replaced.connect
def _on_replaced(_sender: Any, *, session: Session, new: Document, actor: User | None = None, **_: Any) -> None:
    if not _outside_app("document replaced"):
        document_alert(session, new, actor.id if actor is not None else new.uploaded_by_id, replaced=True)


@minutes_ready_to_sign.connect
def _on_minutes(_sender: Any, *, session: Session, minutes: Minutes, actor: User | None = None, **_: Any) -> None:
    if not _outside_app("minutes ready to sign"):
        minutes_alert(session, minutes, actor)


@poll_opened.connect
def _on_poll(_sender: Any, *, session: Session, poll: Poll, actor: User | None = None, **_: Any) -> None:
    if not _outside_app("poll opened"):
        poll_alert(session, poll, actor)
