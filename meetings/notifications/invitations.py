"""Invitations by e-mail with an iCalendar part, sent when the secretariat publishes a meeting.

What goes out, and when (receivers of the bodies domain's signals, in its transaction: the
outbox rows commit or roll back with the change that caused them):

- draft → scheduled (publishing): an invitation (METHOD:REQUEST) to every participant;
- a time or place change of a published meeting: an update (REQUEST, SEQUENCE + 1) to everyone;
- scheduled → draft (withdrawal): a cancellation (METHOD:CANCEL, SEQUENCE + 1) to everyone; a
  later publication invites them again with a higher SEQUENCE still;
- a participant added after publishing: their invitation; one removed: their cancellation.

Each e-mail is in the recipient's language (``User.locale``, Vietnamese by default), text and
HTML, and carries the reply links (``/invitations/<token>``, see ``replies``). Dedupe keys name
the meeting, the person and the SEQUENCE, so a repeated signal never sends twice. There is no
"cancelled" meeting status (yet): withdrawing to draft is how a meeting is called off.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from typing import Any

from flask import current_app, has_app_context, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.core.db import utcnow
from meetings.notifications import calendar, outbox
from meetings.notifications.invitation_models import Invitation, MeetingCalendar
from meetings.notifications.texts import local_time, words
from meetings.platform.audit import service as audit
from meetings.platform.signals import (
    meeting_rescheduled,
    meeting_status_changed,
    participant_added,
    participant_removed,
)

log = logging.getLogger(__name__)
KINDS = {"invitation": "REQUEST", "invitation.update": "REQUEST", "invitation.cancel": "CANCEL"}
# E-mail leaves the organization's servers: the agenda of a meeting above "internal" stays in the app.
AGENDA_SENT_FOR = ("normal", "internal")


# --------------------------------------------------------------------------- tokens and rows

def reply_token(invitation: Invitation) -> str:
    """The secret of the invitation's reply link: derived from the server's secret and the row's
    nonce, so every e-mail to this person carries the same link and the table holds no link."""
    mac = hmac.new(current_app.secret_key.encode(), f"invitation-reply:{invitation.token_nonce}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def token_hash(token: str) -> str:
    """What the table stores of a reply token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def reply_url(invitation: Invitation, answer: str | None = None) -> str:
    """The reply page of one invitation (``answer`` preselects a choice; the page still asks)."""
    url = f"{calendar.base_url()}/invitations/{reply_token(invitation)}"
    return f"{url}?answer={answer}" if answer else url


def ensure_invitation(session: Session, meeting: Meeting, user_id: int) -> Invitation:
    """The person's invitation to the meeting, made (or made valid again) if needed."""
    invitation = session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                         Invitation.user_id == user_id))
    if invitation is None:
        invitation = new_invitation(meeting.id, user_id)
        session.add(invitation)
        session.flush()
    invitation.cancelled_at = None
    return invitation


def new_invitation(meeting_id: int, user_id: int) -> Invitation:
    """A fresh invitation row with its reply token (not added to any session)."""
    invitation = Invitation(meeting_id=meeting_id, user_id=user_id, sequence=0, reply="pending",
                            token_nonce=secrets.token_hex(16))
    invitation.reply_token_hash = token_hash(reply_token(invitation))
    return invitation


def calendar_entry(session: Session, meeting: Meeting) -> MeetingCalendar | None:
    """The meeting's calendar row (None before its first publication)."""
    return session.get(MeetingCalendar, meeting.id)


def _snapshot(entry: MeetingCalendar, meeting: Meeting) -> None:
    entry.sent_starts_at, entry.sent_ends_at, entry.sent_place = meeting.starts_at, meeting.ends_at, meeting.place


def _moved(entry: MeetingCalendar, meeting: Meeting) -> bool:
    return (entry.sent_starts_at, entry.sent_ends_at, entry.sent_place) != (
        meeting.starts_at, meeting.ends_at, meeting.place)


# --------------------------------------------------------------------------- composing

def _agenda_lines(meeting: Meeting) -> list[str]:
    tops = [i for i in meeting.items if i.parent_id is None]
    lines = []
    for n, item in enumerate(tops, 1):
        lines.append(f"{n}. {item.title}")
        children = [c for c in meeting.items if c.parent_id == item.id]
        lines.extend(f"   {n}.{m}. {child.title}" for m, child in enumerate(children, 1))
    return lines


def compose(session: Session, meeting: Meeting, user: User, participant: Participant | None,
            invitation: Invitation, entry: MeetingCalendar, kind: str, why: str = "withdrawn") -> dict[str, Any]:
    """Subject, text, HTML and .ics of one invitation e-mail, in the recipient's language.

    ``kind``: "invitation", "invitation.update" or "invitation.cancel" (``why``: "withdrawn" or
    "removed" says which cancellation text)."""
    w = words(user.locale)
    tz = current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    cancel = kind == "invitation.cancel"
    intro = {"invitation": w["intro.invitation"].format(body=meeting.body.name),
             "invitation.update": w["intro.update"], "invitation.cancel": w[f"intro.cancel.{why}"]}[kind]
    subject = w["subject." + kind.removeprefix("invitation.")].format(title=meeting.title)
    when = local_time(meeting.starts_at, user.locale, tz)
    place = meeting.place or w["no_place"]
    agenda = _agenda_lines(meeting) if not cancel and meeting.confidentiality in AGENDA_SENT_FOR else []
    room = calendar.room_url(meeting.id)
    links = [] if cancel else [(w["reply.attend"], reply_url(invitation, "attend")),
                               (w["reply.decline"], reply_url(invitation, "decline")),
                               (w["reply.proxy"], reply_url(invitation, "proxy"))]
    current = w["replies"][invitation.reply]
    lines = [w["greeting"].format(name=user.full_name), "", intro, "",
             f"{w['title']}: {meeting.title}", f"{w['time']}: {when}", f"{w['place']}: {place}"]
    if agenda:
        lines += ["", f"{w['agenda']}:", *agenda]
    if not cancel:
        lines += ["", f"{w['room']}: {room}", "", f"{w['reply']} ({w['reply.current']}: {current}):",
                  *(f"- {label}: {url}" for label, url in links), "", w["calendar"]]
    lines += ["", "-- ", w["footer"]]
    html = render_template("notifications/invitation_email.html", w=w, meeting=meeting, user=user, intro=intro,
                           when=when, place=place, agenda=agenda, room=None if cancel else room, links=links,
                           current=current, lang=user.locale or "vi")
    description = "\n".join([f"{w['time']}: {when}", f"{w['place']}: {place}", *agenda, "", f"{w['room']}: {room}",
                             *([] if cancel else [f"{w['reply']}: {reply_url(invitation)}"])])
    holder = session.get(User, invitation.proxy_holder_id) if invitation.proxy_holder_id else None
    ics = calendar.invitation_ics(meeting, uid=entry.uid, sequence=entry.sequence, method=KINDS[kind], user=user,
                                  participant=participant, reply=invitation.reply, holder=holder,
                                  description=description, url=room)
    return {"subject": subject, "text": "\n".join(lines) + "\n", "html": html, "ics": ics}


def send_invitation(session: Session, meeting: Meeting, entry: MeetingCalendar, invitation: Invitation, kind: str,
          why: str = "withdrawn") -> bool:
    """Queue one e-mail through the outbox; True if a row was written (False: no address, or sent already)."""
    user = session.get(User, invitation.user_id)
    invitation.sequence = entry.sequence
    invitation.owed_since = None  # whatever was owed to them (invitations_owed.py) is settled by this e-mail
    if not user.email:
        return False  # invited all the same: they answer in the app
    participant = next((p for p in meeting.participants if p.user_id == user.id), None)
    parts = compose(session, meeting, user, participant, invitation, entry, kind, why)
    method = KINDS[kind]
    key = f"{'invitation.cancel' if method == 'CANCEL' else 'invitation'}:{meeting.id}:{user.id}:{entry.sequence}"
    row = outbox.queue_email(
        session, user=user, kind=kind, dedupe_key=key, subject=parts["subject"], text=parts["text"],
        html=parts["html"],
        attachments=[outbox.attachment("invite.ics", f"text/calendar; method={method}", parts["ics"])],
        meta={"meeting_id": meeting.id, "invitation_id": invitation.id, "sequence": entry.sequence})
    return row is not None


def _record(session: Session, meeting: Meeting, actor: User | None, action: str, **details: Any) -> None:
    audit.record(session, action, actor_id=actor.id if actor else None, object_type="meeting",
                 object_id=meeting.id, meeting_id=meeting.id, details=details)


# --------------------------------------------------------------------------- the events

def publish(session: Session, meeting: Meeting, actor: User | None) -> int:
    """Invite every participant (draft → scheduled); returns how many e-mails were queued."""
    entry = calendar_entry(session, meeting)
    if entry is None:
        entry = MeetingCalendar(meeting_id=meeting.id, uid=calendar.new_uid(meeting.id), sequence=0, active=True)
        session.add(entry)
    else:  # published again after a withdrawal: above the cancellation's SEQUENCE
        entry.sequence, entry.active = entry.sequence + 1, True
    _snapshot(entry, meeting)
    session.flush()
    sent = sum(send_invitation(session, meeting, entry, ensure_invitation(session, meeting, p.user_id), "invitation")
               for p in meeting.participants)
    _record(session, meeting, actor, "invitations.sent", kind="invitation", sequence=entry.sequence, emails=sent)
    return sent


def withdraw(session: Session, meeting: Meeting, actor: User | None) -> int:
    """Cancel every standing invitation (scheduled → draft); returns how many e-mails were queued."""
    entry = calendar_entry(session, meeting)
    if entry is None or not entry.active:
        return 0
    entry.sequence, entry.active = entry.sequence + 1, False
    standing = session.scalars(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                        Invitation.cancelled_at.is_(None))).all()
    sent = 0
    for invitation in standing:
        if invitation.owed_since is None:  # an invitation never sent needs no cancellation
            sent += send_invitation(session, meeting, entry, invitation, "invitation.cancel", "withdrawn")
        invitation.owed_since, invitation.cancelled_at = None, utcnow()
    _record(session, meeting, actor, "invitations.sent", kind="invitation.cancel", sequence=entry.sequence,
            emails=sent)
    return sent


def reschedule(session: Session, meeting: Meeting, actor: User | None) -> int:
    """Send everyone an update when the published meeting's time or place really changed."""
    entry = calendar_entry(session, meeting)
    if entry is None or not entry.active or meeting.status == "draft" or not _moved(entry, meeting):
        return 0
    entry.sequence += 1
    _snapshot(entry, meeting)
    sent = sum(send_invitation(session, meeting, entry, ensure_invitation(session, meeting, p.user_id),
                               "invitation.update") for p in meeting.participants)
    _record(session, meeting, actor, "invitations.sent", kind="invitation.update", sequence=entry.sequence,
            emails=sent)
    return sent


def invite_one(session: Session, meeting: Meeting, user_id: int, actor: User | None) -> bool:
    """A participant added to a published meeting gets their invitation."""
    entry = calendar_entry(session, meeting)
    if entry is None or not entry.active or meeting.status == "draft":
        return False
    before = session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                     Invitation.user_id == user_id))
    if before is not None and before.cancelled_at is not None and before.sequence >= entry.sequence:
        entry.sequence += 1  # invited again after their cancellation: only a higher SEQUENCE revives the entry
    invitation = ensure_invitation(session, meeting, user_id)
    sent = send_invitation(session, meeting, entry, invitation, "invitation")
    _record(session, meeting, actor, "invitation.sent", kind="invitation", user_id=user_id, sequence=entry.sequence)
    return sent


def cancel_one(session: Session, meeting: Meeting, user_id: int, actor: User | None) -> bool:
    """A participant removed from a published meeting gets a cancellation."""
    entry = calendar_entry(session, meeting)
    invitation = session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                         Invitation.user_id == user_id))
    if entry is None or not entry.active or invitation is None or invitation.cancelled_at is not None:
        return False
    if invitation.owed_since is not None:  # removed before their invitation went out: nothing to cancel
        invitation.owed_since, invitation.cancelled_at = None, utcnow()
        return False
    entry.sequence += 1
    sent = send_invitation(session, meeting, entry, invitation, "invitation.cancel", "removed")
    invitation.cancelled_at = utcnow()
    _record(session, meeting, actor, "invitation.cancelled", user_id=user_id, sequence=entry.sequence)
    return sent


# --------------------------------------------------------------------------- receivers

def app_ready() -> bool:
    """Composing needs the application (links, sender, secret). Requests, the CLI and the consumer
    have it; a service called from bare code (a test's fixture) does not: it then sends nothing."""
    if has_app_context():
        return True
    log.info("no application context: no invitation e-mails for this change")
    return False


@meeting_status_changed.connect
def _on_status(_sender: Any, *, session: Session, meeting: Meeting, previous: str, status: str,
               actor: User | None = None, **_: Any) -> None:
    if not app_ready():
        return
    if (previous, status) == ("draft", "scheduled"):
        publish(session, meeting, actor)
    elif status == "draft":
        withdraw(session, meeting, actor)


@meeting_rescheduled.connect
def _on_rescheduled(_sender: Any, *, session: Session, meeting: Meeting, actor: User | None = None,
                    **_: Any) -> None:
    if not app_ready():
        return
    reschedule(session, meeting, actor)


@participant_added.connect
def _on_added(_sender: Any, *, session: Session, meeting: Meeting, participant: Participant,
              actor: User | None = None, **_: Any) -> None:
    if not app_ready():
        return
    invite_one(session, meeting, participant.user_id, actor)


@participant_removed.connect
def _on_removed(_sender: Any, *, session: Session, meeting: Meeting, user_id: int, actor: User | None = None,
                **_: Any) -> None:
    if not app_ready():
        return
    cancel_one(session, meeting, user_id, actor)
