"""The meeting's record: everything the minutes say, as plain data.

``MinutesRecord`` is plain data so that composing is a pure function of it
(tests and the benchmark build big records directly), and so that the child
processes that compose it import nothing but this module and ReportLab.
``meetings.minutes.gather`` reads it from the database.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Attendee:
    full_name: str
    role: str = "delegate"          # chair, secretary, delegate, observer
    status: str = "unknown"         # present, absent, excused, remote, unknown
    reason: str | None = None
    arrived_at: datetime | None = None
    position: str | None = None
    member: bool = True             # entitled to vote: counted apart from the secretariat and guests


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
    threshold: str | None = None     # the fraction, "1/2" or "2/3"; printed as is when strict is None
    threshold_strict: bool | None = None  # True: more than ("quá"); False: at least ("ít nhất")
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
    status: str = "done"            # the agenda item's status: pending (never taken up), deferred, open, done


@dataclass
class Suspension:
    """A break in the sitting: adjourned at ``suspended_at``, resumed at ``resumed_at``."""

    suspended_at: datetime
    resumed_at: datetime


@dataclass
class Quorum:
    """The quorum as the one rule (meetings.bodies.rules.quorum) stated it for the roll call."""

    members: int
    present: int
    required: int
    met: bool


@dataclass
class MinutesRecord:
    body_name: str
    meeting_title: str
    starts_at: datetime | None = None       # when the sitting really began (None: not yet)
    parent_name: str | None = None
    short_name: str | None = None
    number: str | None = None               # "Số: 12/BB-UBND"; blank dots when None
    place: str | None = None
    ends_at: datetime | None = None         # when it really ended (None: not yet)
    suspensions: list[Suspension] = field(default_factory=list)
    quorum: Quorum | None = None
    copies: int | None = None               # "Lập thành … bản"
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
        d["starts_at"] = parse_time(d.get("starts_at"))
        d["ends_at"] = parse_time(d.get("ends_at"))
        d["suspensions"] = [Suspension(parse_time(x["suspended_at"]), parse_time(x["resumed_at"]))
                            for x in d.get("suspensions", [])]
        d["quorum"] = Quorum(**d["quorum"]) if d.get("quorum") else None
        d["attendees"] = [Attendee(**{**a, "arrived_at": parse_time(a.get("arrived_at"))})
                          for a in d.get("attendees", [])]
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


def parse_time(value: Any) -> datetime | None:
    """A datetime from its ISO form (a datetime or None passes through)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _poll_from(p: dict[str, Any]) -> PollResult:
    p = dict(p)
    p["options"] = [PollOption(**o) for o in p.get("options", [])]
    p["closed_at"] = parse_time(p.get("closed_at"))
    if p.get("named_votes") is not None:
        p["named_votes"] = [NamedVote(**v) for v in p["named_votes"]]
    return PollResult(**p)


def _item_from(i: dict[str, Any]) -> ItemRecord:
    i = dict(i)
    i["documents"] = [DocumentRef(**x) for x in i.get("documents", [])]
    i["speeches"] = [Speech(**{**s, "started_at": parse_time(s.get("started_at"))}) for s in i.get("speeches", [])]
    i["polls"] = [_poll_from(p) for p in i.get("polls", [])]
    return ItemRecord(**i)
