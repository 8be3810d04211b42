"""The opinion forms' deadlines: reminders to who has not answered, and closing at the deadline.

Registered from here (imported by ``create_app``) into the notifications' registry
(``meetings.notifications.deadlines``): the reminders' tick asks for the open forms closing
soon and reminds the recipients without an answer, a day and two hours before by default
(the body may choose others: its ``deadline.opinion`` settings). A deadline of a form has no
meeting: it belongs to the body (``Deadline.body_id``). Every minute ``opinions.close_due``
closes the forms whose deadline has passed (the answer path refuses late answers on its own,
so a late consumer changes nothing but the status).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.notifications import deadlines
from meetings.opinions import notices, service
from meetings.opinions.models import OpinionAnswer, OpinionForm, OpinionRecipient
from meetings.platform import jobs

CLOSE_DUE = "opinions.close_due"


def _upcoming(session: Session, now: datetime, until: datetime) -> list[deadlines.Deadline]:
    forms = session.scalars(select(OpinionForm).where(
        OpinionForm.status == "open", OpinionForm.closes_at > now, OpinionForm.closes_at <= until)
        .order_by(OpinionForm.closes_at))
    return [deadlines.Deadline("opinion", f.id, None, f.title, f.closes_at, f.opened_at, notices.form_url(f),
                               body_id=f.body_id) for f in forms]


def pending(session: Session, form_id: int) -> set[int]:
    """The recipients who have not answered yet."""
    asked = set(session.scalars(select(OpinionRecipient.user_id).where(OpinionRecipient.form_id == form_id)))
    answered = set(session.scalars(select(OpinionAnswer.user_id).where(OpinionAnswer.form_id == form_id)))
    return asked - answered


OPINIONS = deadlines.register(deadlines.DeadlineSource(
    name="opinion", upcoming=_upcoming, pending=lambda session, d: pending(session, d.object_id),
    offsets=(1440, 120), channels=("email", "push", "inapp"),
    words={lang: {"title": notices.TEXTS[lang]["deadline.title"], "body": notices.TEXTS[lang]["deadline.body"]}
           for lang in ("vi", "en")},
))


@jobs.periodic(CLOSE_DUE)
def close_due(session: Session, *, now: datetime | None = None) -> int:
    """Close the forms whose deadline has passed (every minute); answers how many."""
    return service.close_due(session, now or utcnow())
