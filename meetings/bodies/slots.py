"""The documents an agenda item expects: its slots ("Chờ tài liệu: …").

The secretariat lists what each item needs before the files arrive; a copy of a
meeting or a template carries the slots (never the documents), so next month's
sitting opens with the list of what to collect. Who sees them: those running the
meeting (like unpublished documents); who changes them: those preparing it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.checks import announce, check_open, require_changes, require_prepare
from meetings.bodies.models import AgendaItem, Meeting
from meetings.bodies.template_models import AgendaDocumentSlot
from meetings.core.errors import Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit

MAX_SLOTS_PER_ITEM = 50


def slots_of(session: Session, meeting: Meeting) -> list[AgendaDocumentSlot]:
    """Every slot of the meeting's items, by item then position."""
    item_ids = [i.id for i in meeting.items]
    if not item_ids:
        return []
    return list(session.execute(select(AgendaDocumentSlot).where(AgendaDocumentSlot.agenda_item_id.in_(item_ids))
                                .order_by(AgendaDocumentSlot.agenda_item_id, AgendaDocumentSlot.position,
                                          AgendaDocumentSlot.id)).scalars())


def slots_by_item(session: Session, meeting: Meeting) -> dict[int, list[str]]:
    """item id → the titles of its slots, in order."""
    found: dict[int, list[str]] = {}
    for slot in slots_of(session, meeting):
        found.setdefault(slot.agenda_item_id, []).append(slot.title)
    return found


def require_view(meeting: Meeting, actor: User) -> None:
    """Forbidden unless ``actor`` may see the meeting's slots (``permissions.can_run``)."""
    if not permissions.can_run(meeting, actor):
        raise Forbidden("Only the meeting's secretariat and chair see its document slots.")


def visible_slot(session: Session, slot_id: int, actor: User) -> AgendaDocumentSlot:
    """The slot, if ``actor`` sees its meeting (NotFound otherwise, as for an unknown id)."""
    slot = session.get(AgendaDocumentSlot, slot_id)
    if slot is None:
        raise NotFound("No such document slot.")
    permissions.visible_item(session, slot.agenda_item_id, actor)
    return slot


def _title(value: Any) -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise Invalid("A document slot needs a title.")
    if len(title) > 500:
        raise Invalid("A document slot's title has at most 500 characters.")
    return title


def add_slot(session: Session, item: AgendaItem, actor: User, *, title: str) -> AgendaDocumentSlot:
    """Add a slot at the end of the item's slots."""
    meeting = item.meeting
    require_prepare(meeting, actor)
    check_open(meeting)
    title = _title(title)
    existing = list(session.execute(select(AgendaDocumentSlot).where(
        AgendaDocumentSlot.agenda_item_id == item.id)).scalars())
    if len(existing) >= MAX_SLOTS_PER_ITEM:
        raise Invalid(f"An item has at most {MAX_SLOTS_PER_ITEM} document slots.", code="too_many_slots")
    slot = AgendaDocumentSlot(agenda_item_id=item.id, title=title,
                              position=max((s.position for s in existing), default=-1) + 1)
    session.add(slot)
    session.flush()
    _changed(session, meeting, actor, "agenda.slot_added", slot)
    return slot


def add_slots(session: Session, item: AgendaItem, titles: list[str]) -> None:
    """Slots for a freshly made item (a copy or a template's meeting): no checks of the actor, no audit.

    The caller (``templates``) checked the actor and records one audit entry for the whole copy.
    """
    for position, title in enumerate(titles[:MAX_SLOTS_PER_ITEM]):
        session.add(AgendaDocumentSlot(agenda_item_id=item.id, title=_title(title), position=position))


def update_slot(session: Session, slot: AgendaDocumentSlot, actor: User, **fields: Any) -> AgendaDocumentSlot:
    """Rename a slot."""
    meeting = session.get(AgendaItem, slot.agenda_item_id).meeting
    require_prepare(meeting, actor)
    require_changes(fields)
    check_open(meeting)
    if "title" in fields:
        slot.title = _title(fields["title"])
    session.flush()
    _changed(session, meeting, actor, "agenda.slot_updated", slot)
    return slot


def delete_slot(session: Session, slot: AgendaDocumentSlot, actor: User) -> None:
    """Remove a slot (a document uploaded into it stays)."""
    meeting = session.get(AgendaItem, slot.agenda_item_id).meeting
    require_prepare(meeting, actor)
    check_open(meeting)
    _changed(session, meeting, actor, "agenda.slot_deleted", slot)
    session.delete(slot)
    session.flush()


def _changed(session: Session, meeting: Meeting, actor: User, action: str, slot: AgendaDocumentSlot) -> None:
    audit.record(session, action, actor_id=actor.id, object_type="agenda_document_slot", object_id=slot.id,
                 meeting_id=meeting.id, details={"item_id": slot.agenda_item_id, "title": slot.title})
    announce(session, meeting, "agenda.changed", {"action": "slots", "item_id": slot.agenda_item_id}, actor)
