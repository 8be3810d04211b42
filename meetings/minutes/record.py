"""The meeting's record: everything the minutes say, gathered from every domain.

``MinutesRecord`` is plain data so that composing is a pure function of it
(tests and the benchmark build big records directly). ``gather_record`` reads
the database; the live and voting parts come from their domains' services and
become empty sections while those domains are not installed.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class Attendee:
    full_name: str
    role: str = "delegate"          # chair, secretary, delegate, observer
    status: str = "unknown"         # present, absent, excused, remote, unknown
    reason: str | None = None
    arrived_at: datetime | None = None
    position: str | None = None


@dataclass
class DocumentRef:
    title: str
    version: int = 1
    pages: int | None = None


@dataclass
class Speech:
    full_name: str
    kind: str = "speech"            # speech, question, reply …
    position: str | None = None     # the stance the speaker stated, if any
    started_at: datetime | None = None
    duration_seconds: int | None = None


@dataclass
class PollOption:
    label: str
    count: int | None               # None: not disclosed


@dataclass
class NamedVote:
    full_name: str
    choices: list[str]
    by_proxy_for: str | None = None


@dataclass
class PollResult:
    title: str
    secret: bool = False
    options: list[PollOption] = field(default_factory=list)
    entitled: int | None = None
    present: int | None = None
    cast: int | None = None
    base: str | None = None          # cast, present, entitled
    base_count: int | None = None
    threshold: str | None = None     # e.g. "1/2" (more than half) or "2/3"
    required: int | None = None
    outcome: str | None = None       # adopted, rejected, tie …
    tie_break_used: bool = False
    closed_at: datetime | None = None
    named_votes: list[NamedVote] | None = None


@dataclass
class ItemRecord:
    number: str
    title: str
    presenter: str | None = None
    documents: list[DocumentRef] = field(default_factory=list)
    speeches: list[Speech] = field(default_factory=list)
    polls: list[PollResult] = field(default_factory=list)
    conclusion: str | None = None


@dataclass
class MinutesRecord:
    body_name: str
    meeting_title: str
    starts_at: datetime
    parent_name: str | None = None
    short_name: str | None = None
    number: str | None = None               # "Số: 12/BB-UBND"; blank dots when None
    place: str | None = None
    ends_at: datetime | None = None
    chair: str | None = None
    secretary: str | None = None
    attendees: list[Attendee] = field(default_factory=list)
    items: list[ItemRecord] = field(default_factory=list)
    other_polls: list[PollResult] = field(default_factory=list)  # polls on no agenda item
    opening_text: str | None = None
    closing_text: str | None = None
    recipients: list[str] = field(default_factory=list)          # "Nơi nhận" lines
    place_name: str | None = None           # locality for "…, ngày … tháng … năm …"
    confidentiality: str = "normal"
    language: str = "vi"
    version: int = 1
    previous_note: str | None = None        # "replaces version 1, signed on …"

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (datetimes as ISO strings) for the child process."""
        return _jsonable(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MinutesRecord:
        d = dict(data)
        d["starts_at"] = _dt(d["starts_at"])
        d["ends_at"] = _dt(d.get("ends_at"))
        d["attendees"] = [Attendee(**{**a, "arrived_at": _dt(a.get("arrived_at"))}) for a in d.get("attendees", [])]
        d["items"] = [_item_from(i) for i in d.get("items", [])]
        d["other_polls"] = [_poll_from(p) for p in d.get("other_polls", [])]
        return cls(**d)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _poll_from(p: dict[str, Any]) -> PollResult:
    p = dict(p)
    p["options"] = [PollOption(**o) for o in p.get("options", [])]
    p["closed_at"] = _dt(p.get("closed_at"))
    if p.get("named_votes") is not None:
        p["named_votes"] = [NamedVote(**v) for v in p["named_votes"]]
    return PollResult(**p)


def _item_from(i: dict[str, Any]) -> ItemRecord:
    i = dict(i)
    i["documents"] = [DocumentRef(**x) for x in i.get("documents", [])]
    i["speeches"] = [Speech(**{**s, "started_at": _dt(s.get("started_at"))}) for s in i.get("speeches", [])]
    i["polls"] = [_poll_from(p) for p in i.get("polls", [])]
    return ItemRecord(**i)


def _aware(at: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; every stored time is UTC.
    if at is not None and at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at


def _attendance(session: Session, meeting) -> list[Attendee]:
    try:
        from meetings.live.service import attendance_list
    except ImportError:
        attendance_list = None
    if attendance_list is not None:
        rows = attendance_list(session, meeting.id)
        return [Attendee(full_name=r["full_name"], role=r.get("role") or "delegate",
                         status=r.get("status") or "unknown", reason=r.get("reason"),
                         arrived_at=_aware(_dt(r.get("arrived_at")))) for r in rows]
    # Without the live domain the participants list is all we know.
    return [Attendee(full_name=p.user.full_name, role=p.role) for p in meeting.participants]


def _speeches(session: Session, meeting_id: int) -> dict[int | None, list[Speech]]:
    try:
        from meetings.live.service import speaker_history
    except ImportError:
        try:
            from meetings.live.speakers import speaker_history
        except ImportError:
            return {}
    out: dict[int | None, list[Speech]] = {}
    for r in speaker_history(session, meeting_id):
        if r.get("status") not in (None, "done", "finished", "speaking", "ended"):
            continue  # withdrawn or never given the floor
        out.setdefault(r.get("agenda_item_id"), []).append(Speech(
            full_name=r["full_name"], kind=r.get("kind") or "speech", position=r.get("position"),
            started_at=_aware(_dt(r.get("started_at"))), duration_seconds=r.get("duration_seconds")))
    return out


def _polls(session: Session, meeting_id: int) -> dict[int | None, list[PollResult]]:
    try:
        from meetings.voting.service import poll_results_for_minutes
    except ImportError:
        return {}
    out: dict[int | None, list[PollResult]] = {}
    for r in poll_results_for_minutes(session, meeting_id):
        named = r.get("named_votes")
        out.setdefault(r.get("agenda_item_id"), []).append(PollResult(
            title=r["title"], secret=bool(r.get("secret")),
            options=[PollOption(label=o["label"], count=o.get("count")) for o in r.get("options", [])],
            entitled=r.get("entitled"), present=r.get("present"), cast=r.get("cast"), base=r.get("base"),
            base_count=r.get("base_count"), threshold=_text(r.get("threshold")), required=r.get("required"),
            outcome=r.get("outcome"), tie_break_used=bool(r.get("tie_break_used")),
            closed_at=_aware(_dt(r.get("closed_at"))),
            named_votes=None if named is None else [
                NamedVote(full_name=v["full_name"], choices=list(v.get("choice_labels") or []),
                          by_proxy_for=v.get("by_proxy_for")) for v in named]))
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def gather_record(session: Session, meeting_id: int, *, conclusions: dict[str, str] | None = None,
                  opening_text: str | None = None, closing_text: str | None = None,
                  recipients: list[str] | None = None, number: str | None = None,
                  language: str = "vi", version: int = 1, previous_note: str | None = None) -> MinutesRecord:
    """Read the meeting's record from the database.

    ``conclusions`` (agenda item id as text → conclusion) are the draft's
    edits; an item without one keeps ``AgendaItem.conclusion``.
    """
    from meetings.bodies.models import Meeting
    from meetings.documents.models import Document

    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise LookupError(meeting_id)
    conclusions = conclusions or {}
    by_role = {p.role: p.user.full_name for p in meeting.participants if p.role in ("chair", "secretary")}
    docs: dict[int | None, list[DocumentRef]] = {}
    for d in session.execute(select(Document).where(Document.meeting_id == meeting_id, Document.is_current)
                             .order_by(Document.id)).scalars():
        docs.setdefault(d.agenda_item_id, []).append(DocumentRef(d.title, d.version, d.page_count))
    speeches = _speeches(session, meeting_id)
    polls = _polls(session, meeting_id)
    items: list[ItemRecord] = []
    top = [i for i in meeting.items if i.parent_id is None]
    for n, item in enumerate(top, start=1):
        for m, it in enumerate([item] + [c for c in meeting.items if c.parent_id == item.id]):
            items.append(ItemRecord(
                number=str(n) if m == 0 else f"{n}.{m}", title=it.title,
                presenter=it.presenter.full_name if it.presenter else None,
                documents=docs.get(it.id, []), speeches=speeches.get(it.id, []), polls=polls.get(it.id, []),
                conclusion=conclusions.get(str(it.id), it.conclusion)))
    body = meeting.body
    return MinutesRecord(
        body_name=body.name, parent_name=body.parent_name or None, short_name=body.short_name,
        meeting_title=meeting.title, starts_at=_aware(meeting.starts_at), ends_at=_aware(meeting.ends_at),
        place=meeting.place, chair=by_role.get("chair"), secretary=by_role.get("secretary"),
        attendees=_attendance(session, meeting), items=items, other_polls=polls.get(None, []),
        opening_text=opening_text, closing_text=closing_text, recipients=list(recipients or []),
        number=number, confidentiality=meeting.confidentiality, language=language, version=version,
        previous_note=previous_note)
