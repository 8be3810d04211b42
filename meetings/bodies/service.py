"""Every write of the agenda domain: bodies, meetings, participants, agenda items.

Plain functions of a Session and plain arguments. Each validates, writes,
records one audit entry and, when the meeting is already visible to its
participants (not a draft), appends a meeting event so live tablets learn of
the change. The caller commits; broadcasts go out after the commit.

Decisions worth knowing:
- A meeting has at most one chair: adding or promoting a second one is a 409;
  change the current chair's role first.
- Observers never vote: an observer's ``can_vote`` is always False (asking for
  True is a 422).
- A closed meeting is archived: its details, participants and agenda no longer
  change (409).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import (
    CONFIDENTIALITY,
    ITEM_STATUSES,
    MEETING_TRANSITIONS,
    PARTICIPANT_ROLES,
    AgendaItem,
    Body,
    BodyMember,
    Meeting,
    Participant,
)
from meetings.bodies.permissions import MANAGER_ROLES
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog

BODY_FIELDS = ("name", "short_name", "parent_name", "description", "quorum_numerator", "quorum_denominator")
MEETING_FIELDS = ("title", "description", "place", "starts_at", "ends_at", "confidentiality",
                  "quorum_numerator", "quorum_denominator")
ITEM_FIELDS = ("title", "description", "parent_id", "presenter_id", "planned_minutes", "status", "conclusion")
# What the chair may change on an item while running the meeting; the rest is preparation.
ITEM_RUN_FIELDS = frozenset({"status", "conclusion"})


def as_utc(value: datetime | None) -> datetime | None:
    """The same instant, timezone-aware in UTC (SQLite hands back naive UTC values)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --------------------------------------------------------------------------- bodies

def _check_quorum(numerator: int | None, denominator: int | None) -> None:
    if numerator is None and denominator is None:
        return
    if numerator is None or denominator is None:
        raise Invalid("Give both quorum_numerator and quorum_denominator, or neither.")
    if not (1 <= numerator <= denominator):
        raise Invalid("The quorum must be a fraction between 1/den and 1 (1 ≤ numerator ≤ denominator).")


def _name_taken(session: Session, name: str, exclude_id: int | None = None) -> bool:
    q = select(Body.id).where(Body.name == name)
    if exclude_id is not None:
        q = q.where(Body.id != exclude_id)
    return session.execute(q).first() is not None


def create_body(session: Session, data: dict[str, Any], *, actor_id: int | None) -> Body:
    """Create a body (organization or committee); its name must be new."""
    name = (data.get("name") or "").strip()
    if not name:
        raise Invalid("A body needs a name.")
    _check_quorum(data.get("quorum_numerator", 2), data.get("quorum_denominator", 3))
    if _name_taken(session, name):
        raise Conflict(f"A body named {name!r} already exists.")
    body = Body(**{k: data[k] for k in BODY_FIELDS if k in data})
    body.name = name
    session.add(body)
    session.flush()
    audit.record(session, "body.created", actor_id=actor_id, object_type="body", object_id=body.id,
                 details={"name": name})
    return body


def update_body(session: Session, body: Body, changes: dict[str, Any], *, actor_id: int | None) -> Body:
    """Change a body's fields (name, quorum rule, …)."""
    if "name" in changes:
        changes = {**changes, "name": (changes["name"] or "").strip()}
        if not changes["name"]:
            raise Invalid("A body needs a name.")
        if _name_taken(session, changes["name"], exclude_id=body.id):
            raise Conflict(f"A body named {changes['name']!r} already exists.")
    _check_quorum(changes.get("quorum_numerator", body.quorum_numerator),
                  changes.get("quorum_denominator", body.quorum_denominator))
    for key in BODY_FIELDS:
        if key in changes:
            setattr(body, key, changes[key])
    audit.record(session, "body.updated", actor_id=actor_id, object_type="body", object_id=body.id,
                 details={"fields": sorted(k for k in changes if k in BODY_FIELDS)})
    return body


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Invalid(f"There is no user {user_id}.", code="unknown_user")
    return user


def set_body_member(session: Session, body: Body, user_id: int, *, position: str | None = None,
                    is_secretariat: bool = False, actor_id: int | None) -> tuple[BodyMember, bool]:
    """Add a user to a body, or update their membership. Returns (member, created)."""
    _user(session, user_id)
    member = next((m for m in body.members if m.user_id == user_id), None)
    created = member is None
    if created:
        member = BodyMember(user_id=user_id)
        body.members.append(member)
    member.position = position
    member.is_secretariat = bool(is_secretariat)
    session.flush()
    audit.record(session, "body.member_added" if created else "body.member_updated", actor_id=actor_id,
                 object_type="body", object_id=body.id,
                 details={"user_id": user_id, "is_secretariat": member.is_secretariat})
    return member, created


def remove_body_member(session: Session, body: Body, user_id: int, *, actor_id: int | None) -> None:
    """Remove a user from a body (their meeting participations stay)."""
    member = next((m for m in body.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound("That user is not a member of this body.")
    body.members.remove(member)
    session.flush()
    audit.record(session, "body.member_removed", actor_id=actor_id, object_type="body", object_id=body.id,
                 details={"user_id": user_id})


# --------------------------------------------------------------------------- meetings

def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is None:
        raise Invalid("A meeting needs a start time.")
    if ends_at is not None and as_utc(ends_at) <= as_utc(starts_at):
        raise Invalid("A meeting must end after it starts.", code="invalid_times")


def _check_open(meeting: Meeting) -> None:
    if meeting.status == "closed":
        raise Conflict("The meeting is closed; it can no longer change.", code="meeting_closed")


def _announce(session: Session, meeting: Meeting, type_: str, data: dict[str, Any], actor_id: int | None) -> None:
    # Draft meetings are visible only to those preparing them: nobody to tell yet.
    if meeting.status != "draft":
        eventlog.append(session, meeting.id, type_, data, actor_id=actor_id)


def create_meeting(session: Session, data: dict[str, Any], *, actor_id: int | None) -> Meeting:
    """Create a meeting of a body; it starts as a draft."""
    body = session.get(Body, data.get("body_id") or 0)
    if body is None:
        raise Invalid("There is no such body.", code="unknown_body")
    title = (data.get("title") or "").strip()
    if not title:
        raise Invalid("A meeting needs a title.")
    _check_times(data.get("starts_at"), data.get("ends_at"))
    if data.get("confidentiality", "normal") not in CONFIDENTIALITY:
        raise Invalid(f"Confidentiality must be one of {', '.join(CONFIDENTIALITY)}.")
    _check_quorum(data.get("quorum_numerator"), data.get("quorum_denominator"))
    meeting = Meeting(body_id=body.id, status="draft", created_by_id=actor_id,
                      **{k: data[k] for k in MEETING_FIELDS if k in data})
    meeting.title = title
    session.add(meeting)
    session.flush()
    audit.record(session, "meeting.created", actor_id=actor_id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"title": title, "body_id": body.id})
    return meeting


def update_meeting(session: Session, meeting: Meeting, changes: dict[str, Any], *, actor_id: int | None) -> Meeting:
    """Change a meeting's details (title, times, place, confidentiality, quorum)."""
    _check_open(meeting)
    changes = {k: v for k, v in changes.items() if k in MEETING_FIELDS}
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            raise Invalid("A meeting needs a title.")
    _check_times(changes.get("starts_at", meeting.starts_at), changes.get("ends_at", meeting.ends_at))
    if changes.get("confidentiality", meeting.confidentiality) not in CONFIDENTIALITY:
        raise Invalid(f"Confidentiality must be one of {', '.join(CONFIDENTIALITY)}.")
    _check_quorum(changes.get("quorum_numerator", meeting.quorum_numerator),
                  changes.get("quorum_denominator", meeting.quorum_denominator))
    for key, value in changes.items():
        setattr(meeting, key, value)
    fields = sorted(changes)
    audit.record(session, "meeting.updated", actor_id=actor_id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"fields": fields})
    _announce(session, meeting, "meeting.updated", {"fields": fields}, actor_id)
    return meeting


def change_status(session: Session, meeting: Meeting, status: str, *, actor_id: int | None) -> Meeting:
    """Move a meeting along MEETING_TRANSITIONS; any other move is a 409."""
    previous = meeting.status
    allowed = MEETING_TRANSITIONS.get(previous, set())
    if status not in allowed:
        raise Conflict(
            f"A meeting cannot go from {previous!r} to {status!r}; allowed: {', '.join(sorted(allowed)) or 'none'}.",
            code="bad_transition", details={"from": previous, "to": status, "allowed": sorted(allowed)},
        )
    meeting.status = status
    audit.record(session, "meeting.status", actor_id=actor_id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"from": previous, "to": status})
    # Always logged, even back to draft: tablets must learn the meeting left (or entered) their view.
    eventlog.append(session, meeting.id, "meeting.status", {"status": status, "previous": previous},
                    actor_id=actor_id)
    return meeting


# --------------------------------------------------------------------------- participants

def _check_participant(meeting: Meeting, role: str, can_vote: bool, vote_weight: int,
                       participant_id: int | None) -> None:
    if role not in PARTICIPANT_ROLES:
        raise Invalid(f"Role must be one of {', '.join(PARTICIPANT_ROLES)}.")
    if role == "observer" and can_vote:
        raise Invalid("Observers never vote.", code="observer_cannot_vote")
    if not isinstance(vote_weight, int) or vote_weight < 1:
        raise Invalid("vote_weight must be a whole number ≥ 1.")
    if role == "chair" and any(p.role == "chair" and p.id != participant_id for p in meeting.participants):
        raise Conflict("This meeting already has a chair; change that participant's role first.",
                       code="chair_taken")


def add_participant(session: Session, meeting: Meeting, user_id: int, *, role: str = "delegate",
                    can_vote: bool | None = None, vote_weight: int = 1, actor_id: int | None) -> Participant:
    """Invite a user to a meeting with a role; a user takes part once."""
    _check_open(meeting)
    _user(session, user_id)
    if can_vote is None:
        can_vote = role != "observer"
    _check_participant(meeting, role, can_vote, vote_weight, None)
    if any(p.user_id == user_id for p in meeting.participants):
        raise Conflict("That user already takes part in this meeting.", code="duplicate_participant")
    participant = Participant(user_id=user_id, role=role, can_vote=can_vote, vote_weight=vote_weight)
    meeting.participants.append(participant)
    session.flush()
    audit.record(session, "participant.added", actor_id=actor_id, object_type="participant",
                 object_id=participant.id, meeting_id=meeting.id,
                 details={"user_id": user_id, "role": role, "can_vote": can_vote, "vote_weight": vote_weight})
    _announce(session, meeting, "participants.changed",
              {"action": "added", "participant_id": participant.id, "user_id": user_id}, actor_id)
    return participant


def update_participant(session: Session, participant: Participant, changes: dict[str, Any], *,
                       actor_id: int | None) -> Participant:
    """Change a participant's role, voting right or weight."""
    meeting = participant.meeting
    _check_open(meeting)
    role = changes.get("role", participant.role)
    # Becoming an observer drops the voting right unless the caller insists otherwise (then 422).
    default_vote = False if role == "observer" else participant.can_vote
    can_vote = changes["can_vote"] if "can_vote" in changes else default_vote
    vote_weight = changes.get("vote_weight", participant.vote_weight)
    _check_participant(meeting, role, can_vote, vote_weight, participant.id)
    participant.role, participant.can_vote, participant.vote_weight = role, can_vote, vote_weight
    session.flush()
    audit.record(session, "participant.updated", actor_id=actor_id, object_type="participant",
                 object_id=participant.id, meeting_id=meeting.id,
                 details={"user_id": participant.user_id, "role": role, "can_vote": can_vote,
                          "vote_weight": vote_weight})
    _announce(session, meeting, "participants.changed",
              {"action": "updated", "participant_id": participant.id, "user_id": participant.user_id}, actor_id)
    return participant


def remove_participant(session: Session, participant: Participant, *, actor_id: int | None) -> None:
    """Remove a participant; items they were to present lose their presenter."""
    meeting = participant.meeting
    _check_open(meeting)
    for item in meeting.items:
        if item.presenter_id == participant.user_id:
            item.presenter_id = None
    pid, uid = participant.id, participant.user_id
    meeting.participants.remove(participant)
    session.flush()
    audit.record(session, "participant.removed", actor_id=actor_id, object_type="participant", object_id=pid,
                 meeting_id=meeting.id, details={"user_id": uid})
    _announce(session, meeting, "participants.changed",
              {"action": "removed", "participant_id": pid, "user_id": uid}, actor_id)


# --------------------------------------------------------------------------- agenda items

def level(meeting: Meeting, parent_id: int | None) -> list[AgendaItem]:
    """The items of one level of the agenda (top level when parent_id is None), in order."""
    return sorted((i for i in meeting.items if i.parent_id == parent_id), key=lambda i: (i.position, i.id))


def _check_parent(meeting: Meeting, parent_id: int | None, item: AgendaItem | None = None) -> None:
    if parent_id is None:
        return
    parent = next((i for i in meeting.items if i.id == parent_id), None)
    if parent is None:
        raise Invalid("The parent must be an item of the same meeting.", code="bad_parent")
    if parent.parent_id is not None:
        raise Invalid("Sub-items have one level only: the parent must be a top-level item.", code="bad_parent")
    if item is not None:
        if parent.id == item.id:
            raise Invalid("An item cannot be its own parent.", code="bad_parent")
        if any(i.parent_id == item.id for i in meeting.items):
            raise Invalid("An item with sub-items cannot become a sub-item.", code="bad_parent")


def _check_item_fields(meeting: Meeting, data: dict[str, Any]) -> None:
    if "title" in data and not (data["title"] or "").strip():
        raise Invalid("An agenda item needs a title.")
    presenter = data.get("presenter_id")
    if presenter is not None and not any(p.user_id == presenter for p in meeting.participants):
        raise Invalid("The presenter must be a participant of the meeting.", code="bad_presenter")
    minutes = data.get("planned_minutes")
    if minutes is not None and (not isinstance(minutes, int) or minutes < 0):
        raise Invalid("planned_minutes must be a whole number ≥ 0.")
    if "status" in data and data["status"] not in ITEM_STATUSES:
        raise Invalid(f"Item status must be one of {', '.join(ITEM_STATUSES)}.")


def _renumber(items: Iterable[AgendaItem]) -> None:
    for position, item in enumerate(items):
        item.position = position


def create_item(session: Session, meeting: Meeting, data: dict[str, Any], *, actor_id: int | None) -> AgendaItem:
    """Add an item at the end of its level (top level, or under ``parent_id``)."""
    _check_open(meeting)
    data = {k: v for k, v in data.items() if k in ITEM_FIELDS}
    data.setdefault("title", "")
    _check_item_fields(meeting, data)
    _check_parent(meeting, data.get("parent_id"))
    siblings = level(meeting, data.get("parent_id"))
    item = AgendaItem(**data)
    item.title = data["title"].strip()
    item.position = siblings[-1].position + 1 if siblings else 0
    meeting.items.append(item)
    session.flush()
    audit.record(session, "agenda.item_created", actor_id=actor_id, object_type="agenda_item", object_id=item.id,
                 meeting_id=meeting.id, details={"title": item.title, "parent_id": item.parent_id})
    _announce(session, meeting, "agenda.changed", {"action": "created", "item_id": item.id}, actor_id)
    return item


def update_item(session: Session, item: AgendaItem, changes: dict[str, Any], *, actor_id: int | None) -> AgendaItem:
    """Change an item; moving it under another parent puts it at the end of that level."""
    meeting = item.meeting
    _check_open(meeting)
    changes = {k: v for k, v in changes.items() if k in ITEM_FIELDS}
    _check_item_fields(meeting, changes)
    moved = "parent_id" in changes and changes["parent_id"] != item.parent_id
    if moved:
        new_parent, old_parent = changes["parent_id"], item.parent_id
        _check_parent(meeting, new_parent, item)
        target = level(meeting, new_parent)
        item.parent_id = new_parent
        item.position = target[-1].position + 1 if target else 0
        _renumber(level(meeting, old_parent))
    changes.pop("parent_id", None)
    for key, value in changes.items():
        setattr(item, key, value.strip() if key == "title" else value)
    session.flush()
    fields = sorted(changes) + (["parent_id"] if moved else [])
    audit.record(session, "agenda.item_updated", actor_id=actor_id, object_type="agenda_item", object_id=item.id,
                 meeting_id=meeting.id, details={"fields": fields})
    _announce(session, meeting, "agenda.changed",
              {"action": "updated", "item_id": item.id, "fields": fields}, actor_id)
    return item


def delete_item(session: Session, item: AgendaItem, *, actor_id: int | None) -> None:
    """Delete an item with its sub-items; its documents stay with the meeting."""
    meeting = item.meeting
    _check_open(meeting)
    item_id, parent_id = item.id, item.parent_id
    children = [i for i in meeting.items if i.parent_id == item_id]
    # Children first, flushed apart: the ORM does not know the self-reference's order.
    for doomed in (*children, item):
        meeting.items.remove(doomed)
        session.delete(doomed)
        session.flush()
    _renumber(level(meeting, parent_id))
    audit.record(session, "agenda.item_deleted", actor_id=actor_id, object_type="agenda_item", object_id=item_id,
                 meeting_id=meeting.id, details={"title": item.title, "with_sub_items": len(children)})
    _announce(session, meeting, "agenda.changed", {"action": "deleted", "item_id": item_id}, actor_id)


def reorder_items(session: Session, meeting: Meeting, parent_id: int | None, ids: list[int], *,
                  actor_id: int | None) -> list[AgendaItem]:
    """Put one level of the agenda in the given order; ``ids`` must be a permutation of it."""
    _check_open(meeting)
    _check_parent(meeting, parent_id)
    current = level(meeting, parent_id)
    if len(ids) != len(set(ids)) or sorted(ids) != sorted(i.id for i in current):
        raise Invalid("ids must list every item of that level exactly once.", code="bad_order",
                      details={"expected": sorted(i.id for i in current)})
    by_id = {i.id: i for i in current}
    ordered = [by_id[i] for i in ids]
    _renumber(ordered)
    session.flush()
    audit.record(session, "agenda.reordered", actor_id=actor_id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"parent_id": parent_id, "ids": ids})
    _announce(session, meeting, "agenda.changed",
              {"action": "reordered", "parent_id": parent_id, "ids": ids}, actor_id)
    return ordered



# --------------------------------------------------------------------------- reads shared by REST and pages

def visible_meetings(user: User) -> Select[tuple[Meeting]]:
    """A query of the meetings ``user`` may see: the SQL twin of permissions.can_view.

    tests/test_agenda_api.py checks that both agree for every user of the test world.
    """
    query = select(Meeting)
    if user.is_admin:
        return query
    secretariat_of = select(BodyMember.body_id).where(BodyMember.user_id == user.id, BodyMember.is_secretariat)
    managing = select(Participant.meeting_id).where(Participant.user_id == user.id,
                                                    Participant.role.in_(MANAGER_ROLES))
    taking_part = select(Participant.meeting_id).where(Participant.user_id == user.id)
    published = Meeting.status != "draft"
    seen_when_published = published if user.is_archivist else and_(published, Meeting.id.in_(taking_part))
    return query.where(or_(Meeting.body_id.in_(secretariat_of), Meeting.id.in_(managing), seen_when_published))


def agenda_tree(meeting: Meeting) -> list[tuple[AgendaItem, list[AgendaItem]]]:
    """The agenda in order: each top-level item with its sub-items."""
    return [(top, level(meeting, top.id)) for top in level(meeting, None)]
