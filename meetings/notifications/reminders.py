"""Reminders: before a meeting, and before a deadline for those who have not acted yet.

The job queue runs :func:`tick` every minute (``reminders.tick``); it takes ``now`` as an
argument so tests move the clock. Each reminder fires once:

- a *mark* (``ReminderMark``) names the meeting or deadline, the offset and the time it is
  about, so a second tick (or a second consumer) passes it by, and a meeting moved to
  another time is reminded again for the new time;
- the outbox's and the inbox's dedupe keys add the person, should a mark ever be missing.

Due means: the reminder's time (start − offset) has come and the start has not. When several
offsets are due at once (the consumer was stopped, or the meeting was published late) only the
nearest one goes out, and none that is late by more than ``NOTIFY_REMINDER_LATE_MINUTES`` (and
never by more than half its offset): a "tomorrow" reminder at ten at night is noise. Nobody is
reminded who was invited after the reminder's time (the invitation just told them), declined,
or gave a proxy.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.core.db import utcnow
from meetings.notifications import deadlines, dispatch, inbox, settings
from meetings.notifications.inbox_models import ReminderMark
from meetings.notifications.invitation_models import Invitation
from meetings.notifications.notice_texts import duration, words
from meetings.notifications.settings_models import BodyNotificationSettings
from meetings.notifications.texts import local_time
from meetings.platform import jobs

log = logging.getLogger(__name__)

TICK = "reminders.tick"
CLEAN_UP = "notifications.clean_up"


@jobs.periodic(TICK)
def tick(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Send every reminder due at ``now``; answers how many people each kind reached."""
    now = now or utcnow()
    sent = {"meeting": remind_meetings(session, now)}
    for name in deadlines.SOURCES:
        sent[f"deadline.{name}"] = remind_deadlines(session, now, deadlines.SOURCES[name])
    return sent


@jobs.periodic(CLEAN_UP, minute="17", hour="3")
def clean_up(session: Session, *, now: datetime | None = None) -> int:
    """Nightly: forget read notifications and reminder marks older than ``NOTIFY_INBOX_DAYS``."""
    return inbox.clean_up(session, now or utcnow(), keep_days=int(current_app.config.get("NOTIFY_INBOX_DAYS") or 90))


# --------------------------------------------------------------------------- when

def _late_limit(offset: int) -> timedelta:
    most = int(current_app.config.get("NOTIFY_REMINDER_LATE_MINUTES") or 120)
    return timedelta(minutes=min(most, offset / 2))


def due_offset(offsets: list[int], at: datetime, now: datetime) -> int | None:
    """The offset whose reminder is due at ``now`` for something happening ``at`` (None: none is)."""
    if now >= at:
        return None
    passed = [o for o in offsets if at - timedelta(minutes=o) <= now]
    if not passed:
        return None
    offset = min(passed)  # the nearest; those before it are past
    return offset if now - (at - timedelta(minutes=offset)) <= _late_limit(offset) else None


def take_mark(session: Session, key: str, now: datetime) -> bool:
    """Take the mark ``key``; False if it was taken already (this reminder fired)."""
    if session.get(ReminderMark, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ReminderMark(key=key, created_at=now))
            session.flush()
    except IntegrityError:  # another consumer's tick took it meanwhile
        return False
    return True


def _largest_offset(session: Session, default: list[int], column) -> int:
    chosen = [o for row in session.scalars(select(column).where(column.is_not(None))) for o in (row or [])]
    return max([*default, *chosen, 0])


# --------------------------------------------------------------------------- meetings

def remind_meetings(session: Session, now: datetime) -> int:
    """Remind the participants of every published meeting whose reminder is due; answers how many people."""
    horizon = now + timedelta(minutes=_largest_offset(session, settings.default_reminder_offsets(),
                                                      BodyNotificationSettings.reminder_offsets))
    meetings = session.scalars(select(Meeting).where(Meeting.status == "scheduled", Meeting.starts_at > now,
                                                     Meeting.starts_at <= horizon).order_by(Meeting.starts_at)).all()
    reached = 0
    for meeting in meetings:
        offset = due_offset(settings.reminder_offsets(session, meeting.body_id), meeting.starts_at, now)
        if offset is None:
            continue
        stamp = int(meeting.starts_at.timestamp())
        if not take_mark(session, f"meeting:{meeting.id}:{offset}:{stamp}", now):
            continue
        fire = meeting.starts_at - timedelta(minutes=offset)
        for user in _meeting_recipients(session, meeting, fire):
            notice = meeting_notice(meeting, user, offset)
            if dispatch.send(session, user, notice, dedupe_key=f"reminder:{meeting.id}:{offset}:{stamp}:{user.id}",
                             body_id=meeting.body_id, meta={"offset": offset}, now=now):
                reached += 1
        log.info("meeting %s: reminder %s min before sent", meeting.id, offset)
    return reached


def _meeting_recipients(session: Session, meeting: Meeting, fire: datetime) -> list[User]:
    answers = {inv.user_id: inv for inv in session.scalars(select(Invitation).where(
        Invitation.meeting_id == meeting.id))}
    people = session.scalars(select(User).join(Participant, Participant.user_id == User.id).where(
        Participant.meeting_id == meeting.id, User.active.is_(True)).order_by(User.id)).all()
    out = []
    for user in people:
        inv = answers.get(user.id)
        if inv is not None and (inv.reply in ("decline", "proxy") or inv.created_at > fire):
            continue
        out.append(user)
    return out


def meeting_notice(meeting: Meeting, user: User, offset: int) -> dispatch.Notice:
    """The reminder of ``meeting`` for ``user``, in their language."""
    w = words(user.locale)
    tz = current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    when = local_time(meeting.starts_at, user.locale, tz)
    place = meeting.place or w["no_place"]
    return dispatch.Notice(
        kind="reminder", group="reminder", meeting_id=meeting.id, url=f"/meetings/{meeting.id}/room",
        title=w["reminder.title"].format(title=meeting.title),
        body=w["reminder.body"].format(title=meeting.title, when=when, left=duration(offset, user.locale), place=place),
        details=((w["meeting"], meeting.title), (w["time"], when), (w["place"], place)))


# --------------------------------------------------------------------------- deadlines

def remind_deadlines(session: Session, now: datetime, source: deadlines.DeadlineSource) -> int:
    """Remind who has not acted on the source's deadlines now due; answers how many people."""
    default = list(source.offsets)
    largest = max([*default, *(o for row in session.scalars(select(BodyNotificationSettings.deadline_offsets))
                               for o in (row or {}).get(source.name, []))])
    reached = 0
    for item in source.upcoming(session, now, now + timedelta(minutes=largest)):
        offset = due_offset(settings.deadline_offsets(session, item.settings_body_id, source.name),
                            item.closes_at, now)
        if offset is None:
            continue
        fire = item.closes_at - timedelta(minutes=offset)
        if item.opened_at is not None and item.opened_at >= fire:
            continue  # it opened inside the reminder's span: the opening itself was the news
        stamp = int(item.closes_at.timestamp())
        if not take_mark(session, f"deadline:{source.name}:{item.object_id}:{offset}:{stamp}", now):
            continue
        for user_id in sorted(source.pending(session, item)):
            user = session.get(User, user_id)
            if user is None or not user.active:
                continue
            notice = deadline_notice(source, item, user, now)
            key = f"deadline:{source.name}:{item.object_id}:{offset}:{stamp}:{user.id}"
            if dispatch.send(session, user, notice, dedupe_key=key, body_id=item.settings_body_id,
                             meta={"offset": offset, "source": source.name, "object_id": item.object_id}, now=now):
                reached += 1
    return reached


def deadline_notice(source: deadlines.DeadlineSource, item: deadlines.Deadline, user: User,
                    now: datetime) -> dispatch.Notice:
    """The reminder of one deadline for ``user``, in their language (the time left as it really is)."""
    w = words(user.locale)
    texts = source.words.get(user.locale or "vi") or source.words["vi"]
    tz = current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    when = local_time(item.closes_at, user.locale, tz)
    left = duration(max(1, round((item.closes_at - now).total_seconds() / 60)), user.locale)
    meeting_title = item.meeting.title if item.meeting is not None else ""
    fields = {"title": item.title, "meeting": meeting_title, "when": when, "left": left}
    details = ((w["meeting"], meeting_title), (w["time"], when)) if item.meeting is not None else ((w["time"], when),)
    return dispatch.Notice(
        kind=f"deadline.{source.name}", group=f"deadline.{source.name}",
        meeting_id=item.meeting.id if item.meeting is not None else None, url=item.url,
        title=texts["title"].format(**fields), body=texts["body"].format(**fields), details=details)
