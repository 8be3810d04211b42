"""Answers to invitations, the expected attendance, and the roll call started from the answers.

An invitee answers attend, decline (with a reason) or proxy (ủy quyền, to another voting
member, through ``meetings.voting.proxies`` and its rules: no chains, one per grantor, no
revocation while a poll is open). They answer from the e-mail's link (the token authorizes
this one answer, no login) or in the app. Answers may change until the meeting closes; a
proxy given here is revoked when the answer moves away from "proxy".

The secretariat sees the counts; at the sitting, ``roll_call_from_replies`` marks those who
declined or gave a proxy as excused (the reason, or "proxy to …"), once, for anyone not yet
marked. Those who said they attend stay unmarked: presence is seen in the hall, not promised.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import participants as roster
from meetings.bodies import permissions, rules
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.live import attendance, attendance_bulk
from meetings.live import policy as live_policy
from meetings.live.models import Attendance
from meetings.notifications.invitation_models import REPLIES, Invitation
from meetings.notifications.invitations import ensure_invitation, token_hash
from meetings.notifications.texts import words
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.rooms import managers_room
from meetings.voting import proxies

OPEN_FOR_REPLIES = ("scheduled", "in_progress", "adjourned")
MAX_REASON = 500


def by_token(session: Session, token: str) -> Invitation:
    """The invitation a reply link opens (NotFound for any other token)."""
    invitation = None
    if token and len(token) <= 100:
        invitation = session.scalar(select(Invitation).where(Invitation.reply_token_hash == token_hash(token)))
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def _own(session: Session, meeting: Meeting, user: User) -> Invitation | None:
    if permissions.participant_of(meeting, user) is None or meeting.status == "draft":
        raise NotFound("You are not invited to this meeting.", code="not_invited")
    return session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                   Invitation.user_id == user.id))


def my_invitation(session: Session, meeting: Meeting, user: User) -> Invitation:
    """The user's own invitation to a published meeting they take part in (made if missing: a
    meeting published before invitations existed, or loaded already scheduled, has none yet)."""
    found = _own(session, meeting, user)
    return found if found is not None else ensure_invitation(session, meeting, user.id)


def my_answer(session: Session, meeting: Meeting, user: User) -> dict[str, Any]:
    """The user's invitation and answer as the app shows them, with the possible proxy holders (reads only)."""
    found = _own(session, meeting, user)
    row = invitation_row(session, found) if found is not None else _unsent_row(meeting.id, user.id)
    return {**row, "proxy_choices": proxy_choices(meeting, user)}


def _unsent_row(meeting_id: int, user_id: int) -> dict[str, Any]:
    return {"id": None, "meeting_id": meeting_id, "user_id": user_id, "reply": "pending", "reason": None,
            "proxy_holder_id": None, "proxy_holder_name": None, "sequence": None, "replied_at": None,
            "cancelled": False}


def _check(invitation: Invitation, meeting: Meeting, reply: str, reason: str | None,
           holder_id: int | None) -> None:
    if invitation.cancelled_at is not None:
        raise Conflict("This invitation was cancelled.", code="invitation_cancelled")
    if meeting.status not in OPEN_FOR_REPLIES:
        raise Conflict("The meeting no longer takes answers.", code="replies_closed")
    if reply not in REPLIES or reply == "pending":
        raise Invalid("The answer must be attend, decline or proxy.", code="bad_reply")
    if reply == "decline" and not reason:
        raise Invalid("Say why you cannot attend.", code="reason_required")
    if reason and len(reason) > MAX_REASON:
        raise Invalid(f"The reason is longer than {MAX_REASON} characters.")
    if reply == "proxy" and not holder_id:
        raise Invalid("Choose who holds your proxy.", code="holder_required")


def answer(session: Session, invitation: Invitation, actor: User, *, reply: str, reason: str | None = None,
           proxy_holder_id: int | None = None, via: str = "app") -> Invitation:
    """Record the invitee's answer (``actor`` is the invitee: the link or the app authorized them)."""
    meeting = session.get(Meeting, invitation.meeting_id)
    if actor.id != invitation.user_id:
        raise Forbidden("Only the invitee answers their invitation.")
    reason = (reason or "").strip() or None
    _check(invitation, meeting, reply, reason, proxy_holder_id)
    given = proxies.proxy_granted_by(session, meeting.id, actor.id)
    # A proxy to someone else, or one this answer gave and now takes back (refused, 409, while a poll is open).
    if given is not None and (given.holder_id != proxy_holder_id if reply == "proxy" else invitation.reply == "proxy"):
        proxies.revoke_proxy(session, given, actor)
        given = None
    if reply == "proxy" and given is None:
        proxies.create_proxy(session, meeting, actor, actor.id, proxy_holder_id)
    invitation.reply, invitation.reason = reply, reason
    invitation.proxy_holder_id = proxy_holder_id if reply == "proxy" else None
    invitation.replied_at = utcnow()
    session.flush()
    audit.record(session, "invitation.replied", actor_id=actor.id, object_type="invitation",
                 object_id=invitation.id, meeting_id=meeting.id,
                 details={"reply": reply, "reason": reason, "proxy_holder_id": invitation.proxy_holder_id,
                          "via": via})
    payload = {"meeting_id": meeting.id, "invitation": invitation_row(session, invitation),
               "counts": _counts(session, meeting)}
    eventlog.notify_room(session, managers_room(meeting.id), "invitation.replied", payload)
    eventlog.notify(session, actor.id, "invitation.replied", payload)
    return invitation


def invitation_row(session: Session, invitation: Invitation) -> dict[str, Any]:
    """One invitation as REST and the live notice show it (times as ISO 8601)."""
    holder = session.get(User, invitation.proxy_holder_id) if invitation.proxy_holder_id else None
    return {"id": invitation.id, "meeting_id": invitation.meeting_id, "user_id": invitation.user_id,
            "reply": invitation.reply, "reason": invitation.reason, "proxy_holder_id": invitation.proxy_holder_id,
            "proxy_holder_name": holder.full_name if holder else None, "sequence": invitation.sequence,
            "replied_at": invitation.replied_at.isoformat() if invitation.replied_at else None,
            "cancelled": invitation.cancelled_at is not None}


def _standing(session: Session, meeting: Meeting) -> dict[int, Invitation]:
    rows = session.scalars(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                    Invitation.cancelled_at.is_(None)))
    return {i.user_id: i for i in rows}


def _counts(session: Session, meeting: Meeting) -> dict[str, int]:
    standing = _standing(session, meeting)
    counts = dict.fromkeys(REPLIES, 0)
    for p in meeting.participants:
        invitation = standing.get(p.user_id)
        counts[invitation.reply if invitation else "pending"] += 1
    return {**counts, "total": len(meeting.participants)}


def expected_attendance(session: Session, meeting: Meeting, actor: User) -> dict[str, Any]:
    """Every participant's answer, the counts, and the quorum if those who said "attend" come
    (those preparing or running the meeting)."""
    if not (permissions.can_prepare(meeting, actor) or permissions.can_run(meeting, actor)):
        raise Forbidden("Only the chair or the secretariat sees the expected attendance.")
    standing = _standing(session, meeting)
    rows, voting, voting_attending, represented = [], 0, 0, 0
    for p in roster.in_role_order(meeting):
        invitation = standing.get(p.user_id)
        reply = invitation.reply if invitation else "pending"
        rows.append({**(invitation_row(session, invitation) if invitation else _unsent_row(meeting.id, p.user_id)),
                     "full_name": p.user.full_name, "role": p.role, "can_vote": p.can_vote,
                     "invited": invitation is not None, "has_email": bool(p.user.email)})
        if p.can_vote:
            voting += 1
            voting_attending += reply == "attend"
            represented += reply in ("attend", "proxy")
    return {"meeting_id": meeting.id, "invitations": rows, "counts": _counts(session, meeting),
            "expected": {"voting_members": voting, "voting_attending": voting_attending,
                         "voting_represented": represented,
                         "quorum": rules.quorum(voting, voting_attending, meeting.quorum_rule())}}


def roll_call_from_replies(session: Session, meeting: Meeting, actor: User, locale: str = "vi") -> dict[str, Any]:
    """Start the roll call from the answers: who declined or gave a proxy is marked excused (with
    the reason, or "proxy to …" in ``locale``), unless already marked. Returns the roll call and
    the ids marked."""
    live_policy.require_run(meeting, actor)
    marked_already = set(session.scalars(select(Attendance.user_id).where(Attendance.meeting_id == meeting.id)))
    standing, w, marks = _standing(session, meeting), words(locale), {}
    for p in meeting.participants:  # not in_role_order: sorting by name would load every user one by one
        invitation = standing.get(p.user_id)
        if invitation is None or invitation.reply not in ("decline", "proxy") or p.user_id in marked_already:
            continue
        reason = invitation.reason
        if invitation.reply == "proxy":
            holder = session.get(User, invitation.proxy_holder_id) if invitation.proxy_holder_id else None
            reason = w["proxy.reason"].format(name=holder.full_name if holder else "?")
        marks[p.user_id] = ("excused" if reason else "absent", (reason or "").strip() or None)
    # One bulk write and one "attendance.bulk_changed" event, however many answered.
    marked = attendance_bulk.mark_many(session, meeting, actor, marks, audit_action=None)["marked"]
    audit.record(session, "attendance.from_replies", actor_id=actor.id, object_type="meeting",
                 object_id=meeting.id, meeting_id=meeting.id, details={"marked": marked})
    return {"marked": marked, **attendance.roll_call(session, meeting)}


def proxy_choices(meeting: Meeting, user: User) -> list[dict[str, Any]]:
    """Whom the invitee may name as proxy holder: the meeting's other voting members."""
    return [{"user_id": p.user_id, "full_name": p.user.full_name} for p in roster.in_role_order(meeting)
            if p.can_vote and p.user_id != user.id]
