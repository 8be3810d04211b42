"""Units of a body (departments such as Sở Tài chính) and their members: reads and writes.

Units are part of the body's administration: an administrator or a member of the
body's secretariat (văn phòng) creates them, renames them, deactivates them and
says who works in them (``is_head``: the unit's head answers for its tasks).
A deactivated unit keeps its rows (old tasks still name it) but takes no new work.
Every write checks the actor itself, writes, and records one audit entry; the
caller's commit point commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.checks import known_user, require_changes
from meetings.bodies.models import Body, BodyMember
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit

UNIT_FIELDS = ("name", "short_name", "email", "active")


# --------------------------------------------------------------------------- policy

def is_body_office(session: Session, body_id: int, user: User | None) -> bool:
    """The body's office: an administrator, or a member of its secretariat."""
    uid = getattr(user, "id", None)
    if not uid:
        return False
    if user.is_admin:
        return True
    return session.execute(select(BodyMember.id).where(
        BodyMember.body_id == body_id, BodyMember.user_id == uid, BodyMember.is_secretariat.is_(True),
    )).first() is not None


def office_ids(session: Session, body_id: int) -> set[int]:
    """The users of the body's secretariat: whom office notices and live tallies go to."""
    return set(session.scalars(select(BodyMember.user_id).where(
        BodyMember.body_id == body_id, BodyMember.is_secretariat.is_(True))))


def can_manage_units(session: Session, body: Body, user: User | None) -> bool:
    """Create, change and staff the units of ``body`` (its office)."""
    return is_body_office(session, body.id, user)


def _require_manage(session: Session, body: Body, actor: User | None) -> None:
    if not can_manage_units(session, body, actor):
        raise Forbidden("Only an administrator or the body's secretariat can change its units.")


def _clean(name: str | None) -> str:
    # One space between words: "Sở  Tài chính " and "Sở Tài chính" are one unit.
    return " ".join((name or "").split())


# --------------------------------------------------------------------------- reads

def get_unit(session: Session, unit_id: int) -> Unit:
    """One unit, or NotFound."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("No such unit.")
    return unit


def units_of(session: Session, body: Body, *, include_inactive: bool = False) -> list[Unit]:
    """The units of ``body`` by name (active ones unless ``include_inactive``)."""
    q = select(Unit).where(Unit.body_id == body.id).order_by(Unit.name, Unit.id)
    if not include_inactive:
        q = q.where(Unit.active.is_(True))
    return list(session.execute(q).scalars())


def unit_of_user(session: Session, body_id: int, user_id: int) -> Unit | None:
    """The active unit of ``body_id`` the user works in (the one they head first), or None."""
    rows = session.execute(
        select(Unit, UnitMember.is_head).join(UnitMember, UnitMember.unit_id == Unit.id)
        .where(Unit.body_id == body_id, Unit.active.is_(True), UnitMember.user_id == user_id)
        .order_by(UnitMember.is_head.desc(), Unit.name)
    ).first()
    return rows[0] if rows else None


def unit_ids_of_user(session: Session, user_id: int) -> set[int]:
    """Ids of every unit (of any body, active or not) the user belongs to."""
    return set(session.execute(select(UnitMember.unit_id).where(UnitMember.user_id == user_id)).scalars())


def member_ids(unit: Unit, *, heads_only: bool = False) -> list[int]:
    """User ids of the unit's members (or only its heads)."""
    return [m.user_id for m in unit.members if m.is_head or not heads_only]


# --------------------------------------------------------------------------- writes

def _name_taken(session: Session, body_id: int, name: str, exclude_id: int | None = None) -> bool:
    q = select(Unit.id).where(Unit.body_id == body_id, Unit.name == name)
    if exclude_id is not None:
        q = q.where(Unit.id != exclude_id)
    return session.execute(q).first() is not None


def create_unit(session: Session, body: Body, actor: User, *, name: str, short_name: str | None = None,
                email: str | None = None) -> Unit:
    """Add a unit to ``body`` (its office); the name must be new in the body."""
    _require_manage(session, body, actor)
    name = _clean(name)
    if not name:
        raise Invalid("A unit needs a name.")
    if _name_taken(session, body.id, name):
        raise Conflict(f"The body already has a unit named {name!r}.", code="unit_exists")
    unit = Unit(body_id=body.id, name=name, short_name=_clean(short_name) or None, email=email or None,
                active=True)
    try:
        with session.begin_nested():
            session.add(unit)
            session.flush()
    except IntegrityError:  # two office screens created it at the same moment: one wins
        raise Conflict(f"The body already has a unit named {name!r}.", code="unit_exists") from None
    audit.record(session, "unit.created", actor_id=actor.id, object_type="unit", object_id=unit.id,
                 details={"body_id": body.id, "name": name})
    return unit


def update_unit(session: Session, unit: Unit, actor: User, **fields: Any) -> Unit:
    """Change a unit's name, short name, e-mail or active flag (the body's office)."""
    body = session.get(Body, unit.body_id)
    _require_manage(session, body, actor)
    fields = {k: v for k, v in fields.items() if k in UNIT_FIELDS}
    require_changes(fields)
    if "name" in fields:
        fields["name"] = _clean(fields["name"])
        if not fields["name"]:
            raise Invalid("A unit needs a name.")
        if _name_taken(session, unit.body_id, fields["name"], exclude_id=unit.id):
            raise Conflict(f"The body already has a unit named {fields['name']!r}.", code="unit_exists")
    if "short_name" in fields:
        fields["short_name"] = _clean(fields["short_name"]) or None
    if "active" in fields:
        fields["active"] = bool(fields["active"])
    for key, value in fields.items():
        setattr(unit, key, value)
    audit.record(session, "unit.updated", actor_id=actor.id, object_type="unit", object_id=unit.id,
                 details={"body_id": unit.body_id, "fields": sorted(fields)})
    return unit


def deactivate_unit(session: Session, unit: Unit, actor: User) -> Unit:
    """Take a unit out of service: it keeps its history but gets no new tasks."""
    body = session.get(Body, unit.body_id)
    _require_manage(session, body, actor)
    if not unit.active:
        return unit
    unit.active = False
    audit.record(session, "unit.deactivated", actor_id=actor.id, object_type="unit", object_id=unit.id,
                 details={"body_id": unit.body_id})
    return unit


def set_unit_member(session: Session, unit: Unit, actor: User, *, user_id: int,
                    is_head: bool = False) -> tuple[UnitMember, bool]:
    """Add a user to a unit or change whether they head it (the body's office). Returns (member, created)."""
    body = session.get(Body, unit.body_id)
    _require_manage(session, body, actor)
    known_user(session, user_id)
    member = next((m for m in unit.members if m.user_id == user_id), None)
    created = member is None
    if created:
        member = UnitMember(user_id=user_id, is_head=bool(is_head))
        try:
            with session.begin_nested():
                unit.members.append(member)
                session.flush()
        except IntegrityError:  # added from another screen at the same moment
            raise Conflict("That user was just added to this unit; reload.", code="conflict") from None
    member.is_head = bool(is_head)
    session.flush()
    audit.record(session, "unit.member_added" if created else "unit.member_updated", actor_id=actor.id,
                 object_type="unit", object_id=unit.id,
                 details={"body_id": unit.body_id, "user_id": user_id, "is_head": member.is_head})
    return member, created


def remove_unit_member(session: Session, unit: Unit, actor: User, *, user_id: int) -> None:
    """Take a user out of a unit (the body's office)."""
    body = session.get(Body, unit.body_id)
    _require_manage(session, body, actor)
    member = next((m for m in unit.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound("That user is not a member of this unit.")
    unit.members.remove(member)
    session.flush()
    audit.record(session, "unit.member_removed", actor_id=actor.id, object_type="unit", object_id=unit.id,
                 details={"body_id": unit.body_id, "user_id": user_id})


def find_or_create_by_names(session: Session, body: Body, names: Iterable[str],
                            actor: User | None = None) -> dict[str, Unit]:
    """Each name → the body's unit of that name, creating the missing ones in one go (for imports).

    Names are matched after collapsing spaces and ignoring case ("SỞ TÀI CHÍNH" is "Sở Tài chính"),
    and against short names too ("STC"). An inactive unit found by name is returned as it is.
    With ``actor`` the actor must be the body's office; without, the caller (an import that checked
    its own permission, or the demo) answers for it. Blank names are left out of the result.
    """
    if actor is not None:
        _require_manage(session, body, actor)
    existing = list(session.execute(select(Unit).where(Unit.body_id == body.id)).scalars())
    by_key: dict[str, Unit] = {}
    for unit in existing:
        by_key.setdefault(unit.name.casefold(), unit)
    for unit in existing:
        if unit.short_name:
            by_key.setdefault(unit.short_name.casefold(), unit)
    result: dict[str, Unit] = {}
    created: list[Unit] = []
    for raw in names:
        name = _clean(raw)
        if not name:
            continue
        unit = by_key.get(name.casefold())
        if unit is None:
            unit = Unit(body_id=body.id, name=name, active=True)
            session.add(unit)
            by_key[name.casefold()] = unit
            created.append(unit)
        result[raw] = unit
    if created:
        session.flush()
        for unit in created:
            audit.record(session, "unit.created", actor_id=getattr(actor, "id", None), object_type="unit",
                         object_id=unit.id, details={"body_id": body.id, "name": unit.name, "import": True})
    return result
