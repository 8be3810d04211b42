"""Copies of a meeting, a body's meeting templates, and its monthly regular sitting.

What a copy carries: the agenda's skeleton (items and sub-items with their titles,
descriptions, presenters, planned minutes and document slots — never conclusions,
statuses or the documents themselves), the participants with their roles, voting
rights and weights, and the meeting's settings (``SETTING_FIELDS``: everything of
``sittings.MEETING_FIELDS`` except its title and times). The new meeting is a draft
made by ``sittings.create_meeting``, so it is checked, audited and signalled like any
other; then one ``meeting.copied`` audit entry says where it came from.

Who: creating a meeting needs ``permissions.can_create_meeting`` on the body (an
administrator or its secretariat); copying one also ``can_prepare`` on the source.
A body's templates are managed by the same people.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import agenda, permissions, recurrence, sittings, slots
from meetings.bodies.checks import require_changes, require_prepare
from meetings.bodies.models import PARTICIPANT_ROLES, AgendaItem, Body, Meeting, Participant
from meetings.bodies.template_models import MeetingTemplate
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.signals import participant_added

SETTING_FIELDS = tuple(f for f in sittings.MEETING_FIELDS if f not in ("title", "starts_at", "ends_at"))
TEMPLATE_FIELDS = ("name", "regular", "title_pattern", "date_rule", "day", "weekday", "week", "start_time",
                   "duration_minutes")


def hall_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or "Asia/Ho_Chi_Minh")


def require_manage(body: Body, actor: User) -> None:
    """Forbidden unless ``actor`` may create the body's meetings (and so manage its templates)."""
    if not permissions.can_create_meeting(body, actor):
        raise Forbidden("Only an administrator or the body's secretariat can do this.")


# --------------------------------------------------------------------------- the skeleton

def skeleton_of(session: Session, meeting: Meeting) -> dict[str, Any]:
    """What a copy or a template keeps of ``meeting`` (a JSON-able dict)."""
    slot_titles = slots.slots_by_item(session, meeting)

    def item(i: AgendaItem, subs: list[AgendaItem] | None) -> dict[str, Any]:
        data = {"title": i.title, "description": i.description, "presenter_id": i.presenter_id,
                "planned_minutes": i.planned_minutes, "slots": slot_titles.get(i.id, [])}
        if subs is not None:
            data["sub_items"] = [item(s, None) for s in subs]
        return data

    duration = (meeting.ends_at - meeting.starts_at) if meeting.ends_at else None
    return {
        "settings": {k: getattr(meeting, k) for k in SETTING_FIELDS},
        "duration_minutes": int(duration.total_seconds() // 60) if duration else None,
        "participants": [{"user_id": p.user_id, "role": p.role, "can_vote": p.can_vote,
                          "vote_weight": p.vote_weight} for p in sorted(meeting.participants, key=lambda p: p.id)],
        "items": [item(top, subs) for top, subs in agenda.agenda_tree(meeting)],
    }


def _build(session: Session, body: Body, actor: User, skeleton: dict[str, Any], *, title: str,
           starts_at: datetime, ends_at: datetime | None) -> tuple[Meeting, dict[str, int]]:
    """A new draft meeting of ``body`` from ``skeleton``; returns it with what was copied, counted."""
    settings = {k: v for k, v in (skeleton.get("settings") or {}).items() if k in SETTING_FIELDS}
    minutes = skeleton.get("duration_minutes")
    if ends_at is None and minutes:
        ends_at = starts_at + timedelta(minutes=minutes)
    meeting = sittings.create_meeting(session, actor, body_id=body.id, title=title, starts_at=starts_at,
                                      ends_at=ends_at, **settings)
    added, chair = [], False
    for p in skeleton.get("participants") or []:
        user = session.get(User, p.get("user_id") or 0)
        # People who left (deactivated or deleted) are not invited again; one chair, one row per person.
        if user is None or not user.active or any(a.user_id == user.id for a in added):
            continue
        role = p.get("role") if p.get("role") in PARTICIPANT_ROLES else "delegate"
        if role == "chair" and chair:
            role = "delegate"
        chair = chair or role == "chair"
        added.append(Participant(user_id=user.id, role=role, can_vote=bool(p.get("can_vote")) and role != "observer",
                                 vote_weight=max(int(p.get("vote_weight") or 1), 1)))
    meeting.participants.extend(added)
    session.flush()
    for participant in added:  # invitations decide (a draft invites nobody yet)
        participant_added.send(None, session=session, meeting=meeting, participant=participant, actor=actor)
    present = {p.user_id for p in added}
    counts = {"participants": len(added), "items": 0, "slots": 0}

    def make(data: dict[str, Any], position: int, parent_id: int | None) -> AgendaItem:
        minutes = data.get("planned_minutes")
        item = AgendaItem(meeting_id=meeting.id, parent_id=parent_id, position=position,
                          title=str(data.get("title") or "").strip() or "—", description=data.get("description"),
                          presenter_id=data.get("presenter_id") if data.get("presenter_id") in present else None,
                          planned_minutes=minutes if isinstance(minutes, int) and minutes >= 0 else None)
        meeting.items.append(item)
        session.flush()
        slots.add_slots(session, item, list(data.get("slots") or []))
        counts["items"] += 1
        counts["slots"] += len(data.get("slots") or [])
        return item

    for position, top in enumerate(skeleton.get("items") or []):
        parent = make(top, position, None)
        for sub_position, sub in enumerate(top.get("sub_items") or []):
            make(sub, sub_position, parent.id)
    session.flush()
    return meeting, counts


def copy_meeting(session: Session, source: Meeting, actor: User, *, starts_at: datetime,
                 ends_at: datetime | None = None, title: str | None = None) -> Meeting:
    """A new draft meeting of the source's body like ``source``, at ``starts_at`` (its length kept)."""
    require_prepare(source, actor)
    require_manage(source.body, actor)
    meeting, counts = _build(session, source.body, actor, skeleton_of(session, source),
                             title=title or source.title, starts_at=starts_at, ends_at=ends_at)
    audit.record(session, "meeting.copied", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"from_meeting_id": source.id, **counts})
    return meeting


# --------------------------------------------------------------------------- templates

def templates_of(session: Session, body: Body, actor: User) -> list[MeetingTemplate]:
    """The body's templates, the regular one first, then by name."""
    require_manage(body, actor)
    return list(session.execute(select(MeetingTemplate).where(MeetingTemplate.body_id == body.id)
                                .order_by(MeetingTemplate.regular.desc(), MeetingTemplate.name)).scalars())


def get_template(session: Session, template_id: int, actor: User) -> MeetingTemplate:
    """The template, if ``actor`` manages its body (Forbidden otherwise; NotFound for an unknown id)."""
    template = session.get(MeetingTemplate, template_id)
    if template is None:
        raise NotFound("No such meeting template.")
    require_manage(session.get(Body, template.body_id), actor)
    return template


def _anchor_fields(meeting: Meeting) -> dict[str, Any]:
    local = meeting.starts_at.astimezone(hall_zone())
    anchor = recurrence.anchor_of(local.date())
    return {**anchor, "start_time": local.strftime("%H:%M"), "date_rule": "weekday_of_month"}


def _only_regular(session: Session, template: MeetingTemplate) -> None:
    for other in session.execute(select(MeetingTemplate).where(
            MeetingTemplate.body_id == template.body_id, MeetingTemplate.id != template.id,
            MeetingTemplate.regular.is_(True))).scalars():
        other.regular = False


def save_template(session: Session, meeting: Meeting, actor: User, *, name: str,
                  regular: bool = False) -> tuple[MeetingTemplate, bool]:
    """Save ``meeting`` as its body's template ``name`` (replacing one of that name); (template, created)."""
    require_prepare(meeting, actor)
    require_manage(meeting.body, actor)
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise Invalid("A template needs a name of 1 to 200 characters.")
    template = session.execute(select(MeetingTemplate).where(
        MeetingTemplate.body_id == meeting.body_id, MeetingTemplate.name == name)).scalar_one_or_none()
    created = template is None
    if created:
        template = MeetingTemplate(body_id=meeting.body_id, name=name, created_by_id=actor.id, regular=False,
                                   title_pattern=recurrence.DEFAULT_TITLE_PATTERN)
        session.add(template)
    skeleton = skeleton_of(session, meeting)
    template.content, template.source_meeting_id = skeleton, meeting.id
    template.duration_minutes = skeleton["duration_minutes"]
    for key, value in _anchor_fields(meeting).items():
        setattr(template, key, value)
    template.regular = bool(regular) or bool(template.regular)
    session.flush()
    if template.regular:
        _only_regular(session, template)
    audit.record(session, "meeting_template.saved", actor_id=actor.id, object_type="meeting_template",
                 object_id=template.id, meeting_id=meeting.id,
                 details={"name": name, "body_id": meeting.body_id, "created": created, "regular": template.regular})
    return template, created


def _check_template(data: dict[str, Any]) -> None:
    if "name" in data:
        data["name"] = " ".join((data["name"] or "").split())
        if not data["name"] or len(data["name"]) > 200:
            raise Invalid("A template needs a name of 1 to 200 characters.")
    if "title_pattern" in data:
        try:
            recurrence.check_pattern(data["title_pattern"] or "")
        except ValueError as err:
            raise Invalid(str(err), code="bad_title_pattern") from err
    if "date_rule" in data and data["date_rule"] not in recurrence.DATE_RULES:
        raise Invalid(f"date_rule must be one of {', '.join(recurrence.DATE_RULES)}.")
    for key, low, high in (("day", 1, 31), ("weekday", 0, 6), ("week", 1, 5)):
        if key in data and not (isinstance(data[key], int) and low <= data[key] <= high):
            raise Invalid(f"{key} must be a whole number from {low} to {high}.")
    if "start_time" in data:
        try:
            data["start_time"] = time.fromisoformat(data["start_time"] or "").strftime("%H:%M")
        except ValueError as err:
            raise Invalid("start_time must be a local time HH:MM.") from err
    minutes = data.get("duration_minutes")
    if minutes is not None and not (isinstance(minutes, int) and 0 < minutes <= 24 * 60):
        raise Invalid("duration_minutes must be between 1 and 1440, or null.")


def update_template(session: Session, template: MeetingTemplate, actor: User, **fields: Any) -> MeetingTemplate:
    """Rename a template, make it the regular one, or change its date rule, time, length or title pattern."""
    require_manage(session.get(Body, template.body_id), actor)
    require_changes(fields)
    data = {k: v for k, v in fields.items() if k in TEMPLATE_FIELDS}
    _check_template(data)
    if data.get("name", template.name) != template.name and session.execute(select(MeetingTemplate.id).where(
            MeetingTemplate.body_id == template.body_id, MeetingTemplate.name == data["name"])).first():
        raise Conflict("The body already has a template of that name.", code="template_name_taken")
    for key, value in data.items():
        setattr(template, key, value)
    session.flush()
    if template.regular:
        _only_regular(session, template)
    audit.record(session, "meeting_template.updated", actor_id=actor.id, object_type="meeting_template",
                 object_id=template.id, details={"fields": sorted(data)})
    return template


def delete_template(session: Session, template: MeetingTemplate, actor: User) -> None:
    """Delete a template (the meetings made from it stay)."""
    require_manage(session.get(Body, template.body_id), actor)
    audit.record(session, "meeting_template.deleted", actor_id=actor.id, object_type="meeting_template",
                 object_id=template.id, details={"name": template.name, "body_id": template.body_id})
    session.delete(template)
    session.flush()


def meeting_from_template(session: Session, template: MeetingTemplate, actor: User, *, starts_at: datetime,
                          ends_at: datetime | None = None, title: str | None = None) -> Meeting:
    """A new draft meeting of the template's body from the template, at ``starts_at``."""
    body = session.get(Body, template.body_id)
    require_manage(body, actor)
    meeting, counts = _build(session, body, actor, template.content or {}, title=title or template.name,
                             starts_at=starts_at, ends_at=ends_at)
    audit.record(session, "meeting.copied", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"from_template_id": template.id, **counts})
    return meeting
