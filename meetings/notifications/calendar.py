"""iCalendar for meetings: the invitation's .ics (METHOD REQUEST or CANCEL) and each user's feed.

One meeting is one calendar event everywhere: the e-mails and the feed carry the same UID
(``meeting-{id}-{random}@{host}``, fixed at the first publication in ``MeetingCalendar``) and
the same SEQUENCE (that row's counter), so a calendar program that has the invitation and
also subscribes to the feed shows one entry, and always the newest version of it.
Times are written in UTC (``…Z``); the e-mail's text shows them in the hall's zone.

The feed, ``GET /calendar/<token>.ics``, is found by a secret token whose sha256 alone is
stored (like bearer tokens); ``rotate_feed`` makes a new one, which ends the old address.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.core.db import utcnow
from meetings.notifications.invitation_models import CalendarFeed, Invitation, MeetingCalendar
from meetings.notifications.texts import words

PRODID = "-//Paperless meeting room//Meetings//VI"
PARTSTAT = {"pending": "NEEDS-ACTION", "attend": "ACCEPTED", "decline": "DECLINED", "proxy": "DELEGATED"}
ROLE = {"chair": "CHAIR", "observer": "NON-PARTICIPANT"}  # everyone else: REQ-PARTICIPANT
DEFAULT_MINUTES = 120  # a meeting with no end time and no planned durations
FEED_PAST_DAYS = 180  # how far back the feed reaches


def base_url() -> str:
    """The server's public address for links: PUBLIC_URL, else the request's host, else localhost."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost:8000"


def _host() -> str:
    return urlsplit(base_url()).hostname or "localhost"


def new_uid(meeting_id: int) -> str:
    """A fresh UID for a meeting's first publication (random, so two installations never collide)."""
    return f"meeting-{meeting_id}-{secrets.token_hex(6)}@{_host()}"


def standing_uid(meeting_id: int) -> str:
    """The UID of a meeting never published through the service (e.g. loaded already scheduled):
    derived from the server's secret so every read gives the same one without writing it."""
    digest = hmac.new(current_app.secret_key.encode(), f"calendar-uid:{meeting_id}".encode(), hashlib.sha256)
    return f"meeting-{meeting_id}-{digest.hexdigest()[:12]}@{_host()}"


def end_of(meeting: Meeting) -> datetime:
    """The planned end: ``ends_at``, else the start plus the agenda's planned minutes (else 2 hours)."""
    if meeting.ends_at is not None:
        return meeting.ends_at
    planned = sum(item.planned_minutes or 0 for item in meeting.items if item.parent_id is None)
    return meeting.starts_at + timedelta(minutes=planned or DEFAULT_MINUTES)


def organizer(meeting: Meeting) -> vCalAddress:
    """ORGANIZER: the sender address (SMTP_SENDER) under the body's name."""
    name, address = parseaddr(current_app.config.get("SMTP_SENDER") or "")
    org = vCalAddress(f"mailto:{address or 'no-reply@' + _host()}")
    org.params["CN"] = vText(meeting.body.name or name)
    return org


def attendee(user: User, participant: Participant | None, reply: str, holder: User | None = None) -> vCalAddress:
    """ATTENDEE for one person, with their answer as PARTSTAT. RSVP is FALSE: answers come back
    through the reply link (an iMIP REPLY mailed to the sender would reach nobody)."""
    who = vCalAddress(f"mailto:{user.email or user.username + '@' + _host()}")
    who.params["CN"] = vText(user.full_name)
    who.params["ROLE"] = ROLE.get(participant.role if participant else "", "REQ-PARTICIPANT")
    who.params["PARTSTAT"] = PARTSTAT[reply]
    who.params["RSVP"] = "FALSE"
    if reply == "proxy" and holder is not None and holder.email:
        who.params["DELEGATED-TO"] = f"mailto:{holder.email}"
    return who


def meeting_event(meeting: Meeting, *, uid: str, sequence: int, cancelled: bool, description: str, url: str,
                  attendees: Iterable[vCalAddress] = ()) -> Event:
    """The VEVENT of a meeting (one UID and SEQUENCE for the e-mails and the feed)."""
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", end_of(meeting))
    event.add("summary", meeting.title)
    if meeting.place:
        event.add("location", meeting.place)
    event.add("description", description)
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("last-modified", meeting.updated_at or utcnow())
    event["organizer"] = organizer(meeting)
    for who in attendees:
        event.add("attendee", who)
    return event


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def invitation_ics(meeting: Meeting, *, uid: str, sequence: int, method: str, user: User,
                   participant: Participant | None, reply: str, holder: User | None, description: str,
                   url: str) -> bytes:
    """The .ics of one invitation e-mail: METHOD REQUEST (invitation, update) or CANCEL."""
    cal = _calendar(method)
    cal.add_component(meeting_event(meeting, uid=uid, sequence=sequence, cancelled=method == "CANCEL",
                                    description=description, url=url,
                                    attendees=[attendee(user, participant, reply, holder)]))
    return cal.to_ical()


def room_url(meeting_id: int) -> str:
    """The tablet room of a meeting."""
    return f"{base_url()}/meetings/{meeting_id}/room"


# --------------------------------------------------------------------------- the feed

def _digest(clear: str) -> str:
    return hashlib.sha256(clear.encode("utf-8")).hexdigest()


def feed_url(token: str) -> str:
    """The address calendar programs subscribe to."""
    return f"{base_url()}/calendar/{token}.ics"


def rotate_feed(session: Session, user: User) -> str:
    """Create the user's feed token, or replace it (the old address stops answering); returns it once."""
    clear = secrets.token_urlsafe(32)
    row = session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if row is None:
        row = CalendarFeed(user_id=user.id, token_hash=_digest(clear))
        session.add(row)
    else:
        row.token_hash, row.created_at = _digest(clear), utcnow()
    session.flush()
    return clear


def feed_user(session: Session, token: str) -> User | None:
    """The active user whose feed this token opens, or None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token)))
    user = session.get(User, row.user_id) if row is not None else None
    return user if user is not None and user.active else None


def feed_ics(session: Session, user: User) -> bytes:
    """Every published meeting ``user`` takes part in (from FEED_PAST_DAYS ago), as one calendar."""
    since = utcnow() - timedelta(days=FEED_PAST_DAYS)
    rows = session.execute(
        select(Meeting, Participant, MeetingCalendar, Invitation)
        .join(Participant, (Participant.meeting_id == Meeting.id) & (Participant.user_id == user.id))
        .outerjoin(MeetingCalendar, MeetingCalendar.meeting_id == Meeting.id)
        .outerjoin(Invitation, (Invitation.meeting_id == Meeting.id) & (Invitation.user_id == user.id))
        .where(Meeting.status != "draft", Meeting.starts_at >= since)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    w = words(user.locale)
    cal = _calendar(None, w["page.calendar_name"].format(name=user.full_name))
    for meeting, participant, entry, invitation in rows:
        reply = invitation.reply if invitation is not None else "pending"
        holder = session.get(User, invitation.proxy_holder_id) if invitation and invitation.proxy_holder_id else None
        cal.add_component(meeting_event(
            meeting, uid=entry.uid if entry else standing_uid(meeting.id), sequence=entry.sequence if entry else 0,
            cancelled=False, description=meeting.description or "", url=room_url(meeting.id),
            attendees=[attendee(user, participant, reply, holder)]))
    return cal.to_ical()
