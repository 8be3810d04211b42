"""Who may see and do what in a meeting: plain functions of user and meeting.

These are the single source of truth for every REST route and socket event.

They run on every socket event, so each costs O(1) rows: the caller's own
participant row and body-member row are found with one indexed query each
(or in the meeting's collections when those are already loaded), never by
loading every participant. Within one transaction the rows found are kept in
``session.info`` (cleared by every flush, commit and rollback, and bypassed
while participants or body members are pending), so ``can_view`` followed by
``can_run`` on the same event does not ask twice.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, object_session

from meetings.accounts.models import User
from meetings.accounts.policy import is_cleared
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant
from meetings.core.errors import NotFound

MANAGER_ROLES = ("chair", "secretary")
# What the chair may change on an item while running the meeting; the rest is preparation.
ITEM_RUN_FIELDS = frozenset({"status", "conclusion"})

_MEMO = "permissions_rows"
_MISSING = object()


def _user_id(user: User | None) -> int | None:
    return getattr(user, "id", None) if user is not None else None


def _memo(session: Session) -> dict[Any, Any] | None:
    """The per-transaction memo, or None while relevant rows are pending (not yet flushed)."""
    if any(isinstance(o, (Participant, BodyMember)) for o in (*session.new, *session.deleted)):
        return None
    return session.info.setdefault(_MEMO, {})


def _lookup(meeting: Meeting, key: tuple, stmt) -> Any:
    """Run ``stmt`` (one indexed query) unless this transaction already did."""
    session = object_session(meeting)
    memo = _memo(session)
    if memo is not None:
        hit = memo.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
    found = session.execute(stmt).scalar_one_or_none()
    if memo is not None:
        memo[key] = found
    return found


def _loaded(obj: Any, collection: str) -> bool:
    """True when walking ``obj.collection`` costs no query (loaded, or no session to ask)."""
    return collection in inspect(obj).dict or object_session(obj) is None


def participant_of(meeting: Meeting, user: User | None) -> Participant | None:
    """The user's participant row in the meeting, or None (one indexed query at most)."""
    uid = _user_id(user)
    if not uid:
        return None
    if _loaded(meeting, "participants"):
        return next((p for p in meeting.participants if p.user_id == uid), None)
    return _lookup(meeting, ("participant", meeting.id, uid),
                   select(Participant).where(Participant.meeting_id == meeting.id, Participant.user_id == uid))


def _body_member(meeting: Meeting, uid: int) -> BodyMember | None:
    body = inspect(meeting).dict.get("body")
    if (body is not None and _loaded(body, "members")) or object_session(meeting) is None:
        return next((m for m in meeting.body.members if m.user_id == uid), None)
    return _lookup(meeting, ("body_member", meeting.body_id, uid),
                   select(BodyMember).where(BodyMember.body_id == meeting.body_id, BodyMember.user_id == uid))


def is_body_secretariat(meeting: Meeting, user: User | None) -> bool:
    uid = _user_id(user)
    if not uid:
        return False
    member = _body_member(meeting, uid)
    return member is not None and bool(member.is_secretariat)


def can_administer(user: User | None) -> bool:
    """Create and change bodies and their members (administrators)."""
    return bool(_user_id(user)) and bool(user.is_admin)


def can_create_meeting(body: Body, user: User | None) -> bool:
    """Create a meeting of ``body``: an administrator, or a secretariat member of that body."""
    uid = _user_id(user)
    if not uid:
        return False
    return bool(user.is_admin) or any(m.user_id == uid and m.is_secretariat for m in body.members)


def can_prepare(meeting: Meeting, user: User | None) -> bool:
    """Edit the meeting, its agenda, documents and participants (the secretariat)."""
    if not _user_id(user):
        return False
    if user.is_admin:
        return True
    p = participant_of(meeting, user)
    if p is not None and p.role == "secretary":
        return True
    return is_body_secretariat(meeting, user)


def can_run(meeting: Meeting, user: User | None) -> bool:
    """Run the live session: roll call, presenter, speakers, polls (chair or secretariat)."""
    if not _user_id(user):
        return False
    p = participant_of(meeting, user)
    if p is not None and p.role in MANAGER_ROLES:
        return True
    return bool(user.is_admin) or is_body_secretariat(meeting, user)


def can_view(meeting: Meeting, user: User | None) -> bool:
    """See the meeting at all. Draft meetings are visible only to those preparing them; an archivist
    (who reads every meeting by role, not by taking part) only those within their clearance."""
    if not _user_id(user):
        return False
    p = participant_of(meeting, user)
    if p is not None and p.role in MANAGER_ROLES:
        return True
    if user.is_admin:
        return True
    if meeting.status != "draft" and (p is not None or (user.is_archivist
                                                        and is_cleared(user, meeting.confidentiality))):
        return True
    return is_body_secretariat(meeting, user)


def can_change_status(meeting: Meeting, user: User | None, status: str) -> bool:
    """Move the meeting to ``status``: publishing or unpublishing (to or from draft) is
    preparation; starting, adjourning, resuming and closing is running it."""
    if "draft" in (meeting.status, status):
        return can_prepare(meeting, user)
    return can_run(meeting, user)


def can_change_item(meeting: Meeting, user: User | None, fields: Iterable[str]) -> bool:
    """Change these fields of an agenda item: the chair may set only its status and
    conclusion (running the meeting); anything else is the secretariat's."""
    if set(fields) <= ITEM_RUN_FIELDS:
        return can_run(meeting, user)
    return can_prepare(meeting, user)


def can_view_document(meeting: Meeting, user: User | None, published: bool) -> bool:
    """Unpublished documents are for the secretariat's and chair's eyes only."""
    return can_run(meeting, user) or (published and can_view(meeting, user))


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget)


def visible_meeting(session: Session, meeting_id: int, user: User | None) -> Meeting:
    """The meeting, if ``user`` may see it; otherwise NotFound, the same answer as for an
    id that does not exist, so strangers cannot learn which meetings exist."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not can_view(meeting, user):
        raise NotFound("No such meeting.")
    return meeting


def visible_item(session: Session, item_id: int, user: User | None) -> AgendaItem:
    """The agenda item, if ``user`` may see its meeting; otherwise NotFound (ids do not leak)."""
    item = session.get(AgendaItem, item_id)
    if item is None or not can_view(item.meeting, user):
        raise NotFound("No such agenda item.")
    return item
