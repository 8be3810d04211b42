"""Reading a meeting's record from the database: agenda, documents, attendance, speeches, polls.

The live and voting parts come from those domains' own read functions; the
result is the plain ``MinutesRecord`` that composing takes.
"""
from __future__ import annotations

from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting
from meetings.bodies.sittings import sitting_periods
from meetings.documents.models import Document
from meetings.live.attendance import attendance_list, quorum
from meetings.live.speakers import speaker_history
from meetings.minutes.record import (
    Attendee,
    DocumentRef,
    ItemRecord,
    MinutesRecord,
    NamedVote,
    PollOption,
    PollResult,
    Quorum,
    Speech,
    Suspension,
    parse_time,
)
from meetings.voting.results import poll_results_for_minutes

# Speaker requests that were given the floor (not withdrawn, not skipped).
SPOKEN = (None, "done", "finished", "speaking", "ended")


def _attendance(session: Session, meeting: Meeting) -> list[Attendee]:
    return [Attendee(full_name=r["full_name"], role=r.get("role") or "delegate", status=r.get("status") or "unknown",
                     reason=r.get("reason"), arrived_at=parse_time(r.get("arrived_at")),
                     member=bool(r.get("can_vote")))
            for r in attendance_list(session, meeting.id)]


def _speeches(session: Session, meeting_id: int) -> dict[int | None, list[Speech]]:
    out: dict[int | None, list[Speech]] = {}
    for r in speaker_history(session, meeting_id):
        if r.get("status") not in SPOKEN:
            continue
        out.setdefault(r.get("agenda_item_id"), []).append(Speech(
            full_name=r["full_name"], kind=r.get("kind") or "speech", position=r.get("position"),
            started_at=parse_time(r.get("started_at")), duration_seconds=r.get("duration_seconds")))
    return out


def _polls(session: Session, meeting_id: int) -> dict[int | None, list[PollResult]]:
    out: dict[int | None, list[PollResult]] = {}
    for r in poll_results_for_minutes(session, meeting_id):
        named = r.get("named_votes")
        out.setdefault(r.get("agenda_item_id"), []).append(PollResult(
            title=r["title"], secret=bool(r.get("secret")),
            options=[PollOption(label=o["label"], count=o.get("count")) for o in r.get("options", [])],
            entitled=r.get("entitled"), present=r.get("present"), cast=r.get("cast"), base=r.get("base"),
            base_count=r.get("base_count"), **_threshold(r), required=r.get("required"),
            outcome=r.get("outcome"), tie_break_used=bool(r.get("tie_break_used")),
            closed_at=parse_time(r.get("closed_at")),
            named_votes=None if named is None else [
                NamedVote(full_name=v["full_name"], choices=list(v.get("choice_labels") or []),
                          by_proxy_for=v.get("by_proxy_for")) for v in named]))
    return out


def _threshold(result: dict[str, Any]) -> dict[str, Any]:
    """The threshold as fraction and kind, so each language says it in its own words."""
    rule = result.get("threshold_rule")
    if rule:
        return {"threshold": f"{rule[0]}/{rule[1]}", "threshold_strict": bool(rule[2])}
    label = str(result.get("threshold") or "")
    for words, strict in (("more than ", True), ("at least ", False)):
        if label.startswith(words):  # results stored before the rule was kept beside its label
            return {"threshold": label[len(words):], "threshold_strict": strict}
    return {"threshold": label or None, "threshold_strict": None}


def _times(session: Session, meeting_id: int) -> dict[str, Any]:
    """Start, end and breaks from the sitting periods the status changes recorded, never the plan."""
    periods = sitting_periods(session, meeting_id)
    if not periods:
        return {"starts_at": None, "ends_at": None, "suspensions": []}
    breaks = [Suspension(a.ended_at, b.started_at) for a, b in pairwise(periods) if a.ended_at]
    return {"starts_at": periods[0].started_at, "ends_at": periods[-1].ended_at, "suspensions": breaks}


def _discussed(item: ItemRecord) -> bool:
    return item.status not in ("pending", "deferred") or bool(item.speeches or item.polls)


def gather_record(session: Session, meeting_id: int, *, conclusions: dict[str, str] | None = None,
                  opening_text: str | None = None, closing_text: str | None = None,
                  recipients: list[str] | None = None, number: str | None = None,
                  language: str = "vi", version: int = 1, previous_note: str | None = None) -> MinutesRecord:
    """Read the meeting's record from the database.

    ``conclusions`` (agenda item id as text → conclusion) are the draft's
    edits; an item without one keeps ``AgendaItem.conclusion``.
    """
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
    body = meeting.body
    omit = body.minutes_undiscussed == "omit"

    def record_of(it, number: str) -> ItemRecord:
        return ItemRecord(
            number=number, title=it.title, presenter=it.presenter.full_name if it.presenter else None,
            documents=docs.get(it.id, []), speeches=speeches.get(it.id, []), polls=polls.get(it.id, []),
            conclusion=conclusions.get(str(it.id), it.conclusion), status=it.status)

    items: list[ItemRecord] = []
    n = 0
    for item in (i for i in meeting.items if i.parent_id is None):
        head = record_of(item, "")
        subs = [record_of(c, "") for c in meeting.items if c.parent_id == item.id]
        if omit:  # numbered afresh, so leaving items out leaves no gaps
            subs = [x for x in subs if _discussed(x) or x.conclusion]
            if not (subs or _discussed(head) or head.conclusion):
                continue
        n += 1
        head.number = str(n)
        for m, sub in enumerate(subs, start=1):
            sub.number = f"{n}.{m}"
        items += [head, *subs]
    q = quorum(session, meeting_id)
    return MinutesRecord(
        body_name=body.name, parent_name=body.parent_name or None, short_name=body.short_name,
        meeting_title=meeting.title, **_times(session, meeting_id),
        quorum=Quorum(members=q["members"], present=q["present"], required=q["required"], met=q["met"]),
        copies=body.minutes_copies, place=meeting.place, place_name=body.place_name,
        chair=by_role.get("chair"), secretary=by_role.get("secretary"),
        attendees=_attendance(session, meeting), items=items, other_polls=polls.get(None, []),
        opening_text=opening_text, closing_text=closing_text,
        recipients=list(recipients or body.minutes_recipients or []),
        number=number, confidentiality=meeting.confidentiality, language=language, version=version,
        previous_note=previous_note)
