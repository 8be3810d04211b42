"""Tablets for a meeting's participants: enrolment links for all of them in one call, and the sheet.

accounts issues a link for a user (``accounts.enrolment``); whether someone may
issue links *for this meeting* is a meeting question, so it is asked here:
those who may prepare the meeting (``permissions.can_prepare``) issue links for
its participants. The secretariat itself, the meeting's secretaries and
administrators are never enrolled by link (they prepare meetings: a password
and, by default, a second factor); that is checked when issuing (skipped, with
the reason) and again when a link is used (``refuse_when`` below).

A link issued for a meeting leads to its room, and ends when the meeting does
(``ends_at``, or a day after it starts; at least 12 hours from now, so a sitting
that overruns can still enrol a tablet). Issuing again for a participant voids
their unused link: a reprinted sheet replaces the old one.

A link is a whole session of its user, not of one meeting: whoever issues it could scan it and be
that user everywhere. So a participant who is a member of another body, or takes part in a meeting
of another body, is skipped (``other_body``) unless the issuer is an administrator or belongs to the
secretariat of each of those bodies: a meeting's secretary may add any account to their meeting,
and must not so become a delegate of a body they do not run.

Only the links' hashes are stored, so the sheet (one QR code per delegate) can
be printed only when the links are issued: the answer of the issuing call.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts import enrolment
from meetings.accounts.enrolment_models import EnrolmentLink
from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import BodyMember, Meeting, Participant
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound

MIN_LIFETIME = timedelta(hours=12)


def _prepares_meetings(session: Session, user: User) -> bool:
    """The secretariat of any body, or a secretary of any meeting: a password login, never a link."""
    secretariat = session.execute(select(BodyMember.id).where(
        BodyMember.user_id == user.id, BodyMember.is_secretariat.is_(True)).limit(1)).first()
    secretary = session.execute(select(Participant.id).where(
        Participant.user_id == user.id, Participant.role == "secretary").limit(1)).first()
    return secretariat is not None or secretary is not None


def _all_preparing(session: Session, user_ids: list[int]) -> set[int]:
    """``_prepares_meetings`` for many users, in two queries."""
    found = set(session.execute(select(BodyMember.user_id).where(
        BodyMember.user_id.in_(user_ids), BodyMember.is_secretariat.is_(True))).scalars())
    return found | set(session.execute(select(Participant.user_id).where(
        Participant.user_id.in_(user_ids), Participant.role == "secretary")).scalars())


enrolment.refuse_when("prepares_meetings", _prepares_meetings, _all_preparing)


def context_of(meeting: Meeting) -> str:
    """The accounts-level context of the meeting's links."""
    return f"meeting-{meeting.id}"


def room_path(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}/room"


@dataclass
class Issued:
    """One delegate's new link: what the sheet prints."""

    user_id: int
    full_name: str
    position: str | None
    role: str
    url: str
    link: Any  # accounts.enrolment_models.EnrolmentLink

    def qr_svg(self) -> str:
        """The link as an SVG QR code (inline, no external resource). A fixed mask pattern (any of the
        eight is standard and scans alike) skips segno's mask search: 2 ms a code instead of 9, 1,000 a sheet."""
        return segno.make(self.url, error="m", mask=0).svg_inline(scale=4, border=2, title=self.full_name)


@dataclass
class Sheet:
    meeting: Meeting
    issued: list[Issued]
    skipped: list[dict[str, Any]]


def _require_prepare(meeting: Meeting, actor: User) -> None:
    if not permissions.can_prepare(meeting, actor):
        raise Forbidden("Only those preparing the meeting can enrol its tablets.")


def _members(session: Session, meeting: Meeting) -> dict[int, tuple[str | None, bool]]:
    """Each body member's position (chức vụ), for the sheet, and whether they are its secretariat."""
    return {uid: (position, bool(secretariat)) for uid, position, secretariat in session.execute(
        select(BodyMember.user_id, BodyMember.position, BodyMember.is_secretariat)
        .where(BodyMember.body_id == meeting.body_id))}


def _participants(session: Session, meeting: Meeting, user_ids: Iterable[int] | None,
                  ) -> list[tuple[Participant, User]]:
    rows = session.execute(select(Participant, User).join(User, User.id == Participant.user_id)
                           .where(Participant.meeting_id == meeting.id).order_by(User.full_name, User.id)).all()
    if user_ids is None:
        return [tuple(r) for r in rows]
    wanted = set(user_ids)
    found = [tuple(r) for r in rows if r[0].user_id in wanted]
    missing = wanted - {p.user_id for p, _ in found}
    if missing:
        raise Invalid("Not participants of this meeting: " + ", ".join(map(str, sorted(missing))) + ".",
                      details={"user_ids": sorted(missing)})
    return found


def _beyond_reach(session: Session, meeting: Meeting, actor: User, user_ids: list[int]) -> set[int]:
    """Those of ``user_ids`` who belong to (or take part in a meeting of) a body other than the meeting's
    whose secretariat ``actor`` is not: a link would make the issuer them there too."""
    if not user_ids or permissions.can_administer(actor):
        return set()
    runs = set(session.execute(select(BodyMember.body_id).where(
        BodyMember.user_id == actor.id, BodyMember.is_secretariat.is_(True))).scalars()) | {meeting.body_id}
    members = session.execute(select(BodyMember.user_id, BodyMember.body_id).where(
        BodyMember.user_id.in_(user_ids), BodyMember.body_id.not_in(runs))).tuples()
    takes_part = session.execute(select(Participant.user_id, Meeting.body_id).join(
        Meeting, Meeting.id == Participant.meeting_id).where(
        Participant.user_id.in_(user_ids), Meeting.body_id.not_in(runs))).tuples()
    return {uid for uid, _ in [*members, *takes_part]}


def expires_for(meeting: Meeting):
    """When the meeting's links end: with the meeting, but not sooner than ``MIN_LIFETIME`` from now."""
    end = meeting.ends_at or (meeting.starts_at + timedelta(days=1))
    return max(end, utcnow() + MIN_LIFETIME)


def issue_for_meeting(session: Session, meeting: Meeting, actor: User, *, url_for_secret: Callable[[str], str],
                      user_ids: Iterable[int] | None = None) -> Sheet:
    """New links for the meeting's participants (all, or ``user_ids``), in one call. Participants who
    cannot be enrolled by link are skipped with the reason; the clear URLs are in the answer only."""
    _require_prepare(meeting, actor)
    if meeting.status == "closed":
        raise Conflict("The meeting is closed: no tablets to enrol.", code="meeting_closed")
    members = _members(session, meeting)
    rows = _participants(session, meeting, user_ids)
    # Those who may prepare this meeting (permissions.can_prepare, for all at once): never by link.
    skipped = [{"user_id": u.id, "full_name": u.full_name, "reason": "prepares_meetings"} for p, u in rows
               if u.is_admin or p.role == "secretary" or members.get(u.id, (None, False))[1]]
    preparing = {s["user_id"] for s in skipped}
    beyond = _beyond_reach(session, meeting, actor, [u.id for _, u in rows if u.id not in preparing])
    skipped += [{"user_id": u.id, "full_name": u.full_name, "reason": "other_body"} for _, u in rows if u.id in beyond]
    others = [(p, u) for p, u in rows if u.id not in preparing and u.id not in beyond]
    done, refused = enrolment.issue_links(session, [u for _, u in others], actor, context=context_of(meeting),
                                          label=meeting.title, next_path=room_path(meeting),
                                          expires_at=expires_for(meeting))
    links = iter(done)
    issued: list[Issued] = []
    for p, u in others:
        if u.id in refused:
            skipped.append({"user_id": u.id, "full_name": u.full_name, "reason": refused[u.id]})
            continue
        clear, link = next(links)
        issued.append(Issued(u.id, u.full_name, members.get(u.id, (None, False))[0], p.role, url_for_secret(clear),
                             link))
    return Sheet(meeting, issued, skipped)


def links_of_meeting(session: Session, meeting: Meeting, actor: User) -> list[dict[str, Any]]:
    """Each participant with the state of their latest link of this meeting (none, pending, used …)."""
    _require_prepare(meeting, actor)
    latest: dict[int, Any] = {}
    for link in enrolment.links_in(session, context_of(meeting)):
        latest.setdefault(link.user_id, link)  # newest first
    members, now = _members(session, meeting), utcnow()
    return [{"user_id": p.user_id, "full_name": u.full_name, "position": members.get(p.user_id, (None, False))[0],
             "role": p.role, "link": enrolment.describe(latest[p.user_id], now) if p.user_id in latest else None}
            for p, u in _participants(session, meeting, None)]


def revoke_for_meeting(session: Session, meeting: Meeting, actor: User, link_id: int) -> bool:
    """Revoke one of the meeting's links; a used one signs its tablet out. Returns whether a device ended."""
    _require_prepare(meeting, actor)
    link = session.get(EnrolmentLink, link_id)
    if link is None or link.context != context_of(meeting):
        raise NotFound("No such enrolment link in this meeting.")
    return enrolment.revoke_link(session, link, actor)
