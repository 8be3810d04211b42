"""One notice to one person, through every channel that is on for it.

Reminders and alerts build a :class:`Notice` in the recipient's language and call
:func:`send`: the channels are the body's for the notice's group and the user's own
(``settings.channels_for``); e-mail, SMS and push become outbox rows, the in-app line an
inbox row, all in the caller's transaction and under one dedupe key, so a repeated cause
sends nothing twice. In the user's quiet hours SMS and push rows wait until the hours end
(their ``next_attempt_at``; the outbox's sweep hands them to the queue then).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.db import utcnow
from meetings.notifications import calendar, inbox, outbox, settings
from meetings.notifications.notice_texts import unaccented, words


@dataclass(frozen=True)
class Notice:
    """What to say: a title, a sentence or two, where to look (a path on this server)."""

    kind: str                      # "reminder", "document.replaced", "deadline.poll" … (outbox and inbox)
    group: str                     # the settings group: "reminder", "document", "minutes", "poll", "deadline.poll"
    title: str
    body: str
    url: str                       # "/meetings/3/room"
    meeting_id: int | None = None
    details: tuple[tuple[str, str], ...] = field(default=())  # the e-mail's (label, value) lines


def absolute(url: str) -> str:
    """A path of this server as a link that works from a mail program or a phone."""
    return url if "://" in url else f"{calendar.base_url()}{url}"


def send(session: Session, user: User, notice: Notice, *, dedupe_key: str, body_id: int | None,
         meta: dict[str, Any] | None = None, now: datetime | None = None) -> list[str]:
    """Queue the notice to ``user`` through its channels; answers the channels a message went by."""
    now = now or utcnow()
    meta = {**(meta or {}), "kind": notice.kind, **({"meeting_id": notice.meeting_id} if notice.meeting_id else {})}
    used, held = [], []
    for channel in settings.channels_for(session, user, body_id, notice.group):
        rows = _queue(session, channel, user, notice, dedupe_key, meta)
        if rows:
            used.append(channel)
            held += rows if channel in ("sms", "push") else []
    until = settings.quiet_end(session, user.id, now) if held else None
    if until is not None:
        for row in held:  # quiet hours: the delivery (and the sweep) take a row only once it is due
            row.next_attempt_at = until
    return used


def _queue(session: Session, channel: str, user: User, notice: Notice, key: str, meta: dict[str, Any]) -> list:
    """The rows written for one channel (an outbox row, push rows, or the inbox line); [] if none."""
    link = absolute(notice.url)
    if channel == "inapp":
        line = inbox.add(session, user_id=user.id, kind=notice.kind, title=notice.title, body=notice.body,
                         url=notice.url, meeting_id=notice.meeting_id, dedupe_key=key)
        return [line] if line is not None else []
    if channel == "email":
        w = words(user.locale)
        lines = [w["greeting"].format(name=user.full_name), "", notice.body, ""]
        lines += [f"{label}: {value}" for label, value in notice.details]
        lines += ["", f"{w['open']}: {link}", "", "-- ", w["footer"]]
        html = render_template("notifications/notice_email.html", w=w, user=user, notice=notice, link=link,
                               lang=user.locale or "vi")
        row = outbox.queue_email(session, user=user, kind=notice.kind, dedupe_key=key, subject=notice.title,
                                 text="\n".join(lines) + "\n", html=html, meta=meta)
        return [row] if row is not None else []
    if channel == "sms":
        text = f"{notice.title}. {notice.body} {link}"
        if current_app.config.get("NOTIFY_SMS_UNACCENTED"):
            text = unaccented(text)
        row = outbox.queue_sms(session, user=user, kind=notice.kind, dedupe_key=key, text=text, meta=meta)
        return [row] if row is not None else []
    if channel == "push":
        return outbox.queue_push(session, user=user, kind=notice.kind, dedupe_key=key, title=notice.title,
                                 body=notice.body, url=link, meta=meta)
    return []
