"""A meeting's agenda: items in order, with one level of sub-items.

Every write is ``(session, target, actor, **fields)`` and checks the actor's
permission itself: the secretariat prepares the agenda
(``permissions.can_prepare``); while running the meeting the chair may set
an item's status and conclusion (``permissions.can_change_item``). A closed
meeting's agenda no longer changes (409).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.checks import announce, check_open, require_changes, require_prepare
from meetings.bodies.models import ITEM_STATUSES, AgendaItem, Meeting
from meetings.core.errors import Forbidden, Invalid
from meetings.platform.audit import service as audit

ITEM_FIELDS = ("title", "description", "parent_id", "presenter_id", "planned_minutes", "status", "conclusion")


# --------------------------------------------------------------------------- reads

def level(meeting: Meeting, parent_id: int | None) -> list[AgendaItem]:
    """The items of one level of the agenda (top level when parent_id is None), in order."""
    return sorted((i for i in meeting.items if i.parent_id == parent_id), key=lambda i: (i.position, i.id))


def agenda_tree(meeting: Meeting) -> list[tuple[AgendaItem, list[AgendaItem]]]:
    """The agenda in order: each top-level item with its sub-items."""
    return [(top, level(meeting, top.id)) for top in level(meeting, None)]


# --------------------------------------------------------------------------- checks

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


# --------------------------------------------------------------------------- writes

def create_item(session: Session, meeting: Meeting, actor: User, **fields: Any) -> AgendaItem:
    """Add an item at the end of its level (top level, or under ``parent_id``)."""
    require_prepare(meeting, actor)
    check_open(meeting)
    data = {k: v for k, v in fields.items() if k in ITEM_FIELDS}
    data.setdefault("title", "")
    _check_item_fields(meeting, data)
    _check_parent(meeting, data.get("parent_id"))
    siblings = level(meeting, data.get("parent_id"))
    item = AgendaItem(**data)
    item.title = data["title"].strip()
    item.position = siblings[-1].position + 1 if siblings else 0
    meeting.items.append(item)
    session.flush()
    audit.record(session, "agenda.item_created", actor_id=actor.id, object_type="agenda_item", object_id=item.id,
                 meeting_id=meeting.id, details={"title": item.title, "parent_id": item.parent_id})
    announce(session, meeting, "agenda.changed", {"action": "created", "item_id": item.id}, actor)
    return item


def update_item(session: Session, item: AgendaItem, actor: User, **fields: Any) -> AgendaItem:
    """Change an item; moving it under another parent puts it at the end of that level."""
    meeting = item.meeting
    if not permissions.can_change_item(meeting, actor, fields):
        raise Forbidden("You may not change this agenda item.")
    require_changes(fields)
    check_open(meeting)
    changes = {k: v for k, v in fields.items() if k in ITEM_FIELDS}
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
    changed = sorted(changes) + (["parent_id"] if moved else [])
    audit.record(session, "agenda.item_updated", actor_id=actor.id, object_type="agenda_item", object_id=item.id,
                 meeting_id=meeting.id, details={"fields": changed})
    announce(session, meeting, "agenda.changed", {"action": "updated", "item_id": item.id, "fields": changed},
             actor)
    return item


def delete_item(session: Session, item: AgendaItem, actor: User) -> None:
    """Delete an item with its sub-items; its documents stay with the meeting."""
    meeting = item.meeting
    require_prepare(meeting, actor)
    check_open(meeting)
    item_id, parent_id = item.id, item.parent_id
    children = [i for i in meeting.items if i.parent_id == item_id]
    # Children first, flushed apart: the ORM does not know the self-reference's order.
    for doomed in (*children, item):
        meeting.items.remove(doomed)
        session.delete(doomed)
        session.flush()
    _renumber(level(meeting, parent_id))
    audit.record(session, "agenda.item_deleted", actor_id=actor.id, object_type="agenda_item", object_id=item_id,
                 meeting_id=meeting.id, details={"title": item.title, "with_sub_items": len(children)})
    announce(session, meeting, "agenda.changed", {"action": "deleted", "item_id": item_id}, actor)


def reorder_items(session: Session, meeting: Meeting, actor: User, *, parent_id: int | None,
                  ids: list[int]) -> list[AgendaItem]:
    """Put one level of the agenda in the given order; ``ids`` must be a permutation of it."""
    require_prepare(meeting, actor)
    check_open(meeting)
    _check_parent(meeting, parent_id)
    current = level(meeting, parent_id)
    if len(ids) != len(set(ids)) or sorted(ids) != sorted(i.id for i in current):
        raise Invalid("ids must list every item of that level exactly once.", code="bad_order",
                      details={"expected": sorted(i.id for i in current)})
    by_id = {i.id: i for i in current}
    ordered = [by_id[i] for i in ids]
    _renumber(ordered)
    session.flush()
    audit.record(session, "agenda.reordered", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"parent_id": parent_id, "ids": ids})
    announce(session, meeting, "agenda.changed",
             {"action": "reordered", "parent_id": parent_id, "ids": ids}, actor)
    return ordered


def move_item(session: Session, item: AgendaItem, actor: User, *, parent_id: int | None,
              position: int) -> AgendaItem:
    """Put an item at ``position`` (0-based) of the level under ``parent_id`` (None: the top level).

    One change renumbers both the level it joins and the level it leaves, so a sub-item dragged
    to another item lands exactly where it was dropped (update_item's parent_id puts it last).
    """
    meeting = item.meeting
    require_prepare(meeting, actor)
    check_open(meeting)
    if not isinstance(position, int) or position < 0:
        raise Invalid("position must be a whole number ≥ 0.")
    old_parent = item.parent_id
    if parent_id != old_parent:
        _check_parent(meeting, parent_id, item)
    target = [i for i in level(meeting, parent_id) if i.id != item.id]
    position = min(position, len(target))
    target.insert(position, item)
    item.parent_id = parent_id
    _renumber(target)
    if parent_id != old_parent:
        _renumber(level(meeting, old_parent))
    session.flush()
    audit.record(session, "agenda.item_moved", actor_id=actor.id, object_type="agenda_item", object_id=item.id,
                 meeting_id=meeting.id, details={"from_parent_id": old_parent, "parent_id": parent_id,
                                                 "position": position})
    announce(session, meeting, "agenda.changed",
             {"action": "moved", "item_id": item.id, "parent_id": parent_id, "position": position}, actor)
    return item
