"""Deadline sources: things with a closing time that people must act on before it.

The reminders' tick asks every registered source for its deadlines and reminds those who
have not acted yet, at the body's offsets before the deadline. A source says:

- ``upcoming(session, now, until)``: its open deadlines falling in ``(now, until]``;
- ``pending(session, deadline)``: the ids of the users who still have to act;
- its default offsets (minutes before), its default channels and its words (vi/en).

The poll source is here. The written opinions plug in the same way, from their own module
(``meetings.opinions.reminders``, imported by ``create_app``); a deadline of a body between
sittings has ``meeting=None`` and its ``body_id``::

    deadlines.register(deadlines.DeadlineSource(
        name="opinion", upcoming=…, pending=…, offsets=(1440, 120), channels=("email", "push", "inapp"),
        words={"vi": {"title": "Sắp hết hạn góp ý: {title}", "body": "…{when}…{left}…"},
               "en": {"title": "…", "body": "…"}}))
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting, Participant
from meetings.notifications import settings
from meetings.notifications.notice_texts import EN, VI
from meetings.voting.models import Poll, Proxy
from meetings.voting.tally import voter_ids


@dataclass(frozen=True)
class Deadline:
    """One deadline of a source: what, of which meeting (or only of a body), closing when, opened when, where to act."""

    source: str
    object_id: int
    meeting: Meeting | None  # None for what belongs to a body between sittings (a written opinion form)
    title: str
    closes_at: datetime
    # When it became possible to act: a reminder due before that is pointless and skipped.
    opened_at: datetime | None
    url: str
    body_id: int | None = None  # the body whose settings apply; the meeting's body when None

    @property
    def settings_body_id(self) -> int:
        """Whose notification settings (offsets, channels) apply: the body's, or the meeting's body's."""
        return self.body_id if self.body_id is not None else self.meeting.body_id


@dataclass(frozen=True)
class DeadlineSource:
    name: str
    upcoming: Callable[[Session, datetime, datetime], Iterable[Deadline]]
    pending: Callable[[Session, Deadline], Iterable[int]]
    offsets: tuple[int, ...]
    channels: tuple[str, ...]
    # {"vi": {"title": …, "body": …}, "en": {…}}; placeholders {title} {meeting} {when} {left}.
    words: dict[str, dict[str, str]]


SOURCES: dict[str, DeadlineSource] = {}


def register(source: DeadlineSource) -> DeadlineSource:
    """Add a deadline source (its settings group is ``deadline.<name>``)."""
    SOURCES[source.name] = source
    settings.DEADLINE_DEFAULTS[source.name] = tuple(source.offsets)
    settings.register_group(f"deadline.{source.name}", source.channels)
    return source


# --------------------------------------------------------------------------- polls

def _poll_deadlines(session: Session, now: datetime, until: datetime) -> list[Deadline]:
    rows = session.execute(select(Poll, Meeting).join(Meeting, Meeting.id == Poll.meeting_id).where(
        Poll.status == "open", Poll.closes_at.is_not(None), Poll.closes_at > now, Poll.closes_at <= until)).all()
    return [Deadline("poll", poll.id, meeting, poll.title, poll.closes_at, poll.opened_at,
                     f"/meetings/{meeting.id}/room") for poll, meeting in rows]


def _poll_pending(session: Session, deadline: Deadline) -> set[int]:
    return poll_pending(session, session.get(Poll, deadline.object_id))


def poll_pending(session: Session, poll: Poll) -> set[int]:
    """Who still has a ballot to cast: voters with none yet, unless they gave a proxy (then its holder)."""
    voted = voter_ids(session, poll)
    entitled = set(session.scalars(select(Participant.user_id).where(
        Participant.meeting_id == poll.meeting_id, Participant.can_vote.is_(True), Participant.role != "observer")))
    proxies = session.execute(select(Proxy.grantor_id, Proxy.holder_id).where(
        Proxy.meeting_id == poll.meeting_id, Proxy.active_grantor_id.is_not(None))).all()
    given = {grantor: holder for grantor, holder in proxies}
    missing = (entitled - voted)
    return {u for u in missing if u not in given} | {given[u] for u in missing if u in given}


POLLS = register(DeadlineSource(
    name="poll", upcoming=_poll_deadlines, pending=_poll_pending,
    # A timed vote in the sitting lasts minutes: two minutes before it closes, on the tablet.
    offsets=(2,), channels=("push", "inapp"),
    words={"vi": {"title": VI["deadline.poll.title"], "body": VI["deadline.poll.body"]},
           "en": {"title": EN["deadline.poll.title"], "body": EN["deadline.poll.body"]}},
))
