"""Bodies (organizations and committees) and their members: reads and writes.

Every write is ``(session, target, actor, **fields)``: it checks the actor's
permission itself (``meetings.bodies.permissions``), validates, writes and
records one audit entry. The caller's commit point commits.

Meetings live in ``sittings``, participants in ``participants``, agenda
items in ``agenda``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.checks import check_quorum, known_user, require_changes
from meetings.bodies.models import Body, BodyMember
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit

BODY_FIELDS = ("name", "short_name", "parent_name", "description", "quorum_numerator", "quorum_denominator",
               "place_name", "minutes_copies", "minutes_recipients", "minutes_undiscussed")
UNDISCUSSED = ("mark", "omit")


def _require_administer(actor: User) -> None:
    if not permissions.can_administer(actor):
        raise Forbidden("Only an administrator can change bodies.")


def _name_taken(session: Session, name: str, exclude_id: int | None = None) -> bool:
    q = select(Body.id).where(Body.name == name)
    if exclude_id is not None:
        q = q.where(Body.id != exclude_id)
    return session.execute(q).first() is not None


# --------------------------------------------------------------------------- reads

def all_bodies(session: Session) -> Sequence[Body]:
    """Every body by name (any logged-in user may see them)."""
    return session.execute(select(Body).order_by(Body.name)).scalars().all()


def get_body(session: Session, body_id: int) -> Body:
    """One body, or NotFound."""
    body = session.get(Body, body_id)
    if body is None:
        raise NotFound("No such body.")
    return body


def members_of(body: Body) -> list[BodyMember]:
    """A body's members, by name."""
    return sorted(body.members, key=lambda m: (m.user.full_name, m.id))


# --------------------------------------------------------------------------- writes

def _check_document_settings(fields: dict[str, Any]) -> None:
    """The settings the minutes print must make sense: a signed record can never say "lập thành 0 bản"."""
    copies = fields.get("minutes_copies", 1)
    if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= 100:
        raise Invalid("The number of copies must be between 1 and 100.", code="invalid_settings")
    if fields.get("minutes_undiscussed", "mark") not in UNDISCUSSED:
        raise Invalid(f"Undiscussed items are one of {', '.join(UNDISCUSSED)}.", code="invalid_settings")
    recipients = fields.get("minutes_recipients", [])
    if not isinstance(recipients, list) or not all(isinstance(r, str) and r.strip() for r in recipients):
        raise Invalid("The distribution list is a list of non-empty lines.", code="invalid_settings")
    if "place_name" in fields and fields["place_name"] is not None:
        fields["place_name"] = fields["place_name"].strip() or None


def create_body(session: Session, actor: User, **fields: Any) -> Body:
    """Create a body (administrators); its name must be new."""
    _require_administer(actor)
    name = (fields.get("name") or "").strip()
    if not name:
        raise Invalid("A body needs a name.")
    check_quorum(fields.get("quorum_numerator", 2), fields.get("quorum_denominator", 3))
    _check_document_settings(fields)
    if _name_taken(session, name):
        raise Conflict(f"A body named {name!r} already exists.")
    body = Body(**{k: fields[k] for k in BODY_FIELDS if k in fields})
    body.name = name
    session.add(body)
    session.flush()
    audit.record(session, "body.created", actor_id=actor.id, object_type="body", object_id=body.id,
                 details={"name": name})
    return body


def update_body(session: Session, body: Body, actor: User, **fields: Any) -> Body:
    """Change a body's fields (name, quorum rule, …; administrators)."""
    _require_administer(actor)
    require_changes(fields)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise Invalid("A body needs a name.")
        if _name_taken(session, fields["name"], exclude_id=body.id):
            raise Conflict(f"A body named {fields['name']!r} already exists.")
    check_quorum(fields.get("quorum_numerator", body.quorum_numerator),
                 fields.get("quorum_denominator", body.quorum_denominator))
    _check_document_settings(fields)
    for key in BODY_FIELDS:
        if key in fields:
            setattr(body, key, fields[key])
    audit.record(session, "body.updated", actor_id=actor.id, object_type="body", object_id=body.id,
                 details={"fields": sorted(k for k in fields if k in BODY_FIELDS)})
    return body


def set_body_member(session: Session, body: Body, actor: User, *, user_id: int, position: str | None = None,
                    is_secretariat: bool = False) -> tuple[BodyMember, bool]:
    """Add a user to a body, or update their membership (administrators). Returns (member, created)."""
    _require_administer(actor)
    known_user(session, user_id)
    member = next((m for m in body.members if m.user_id == user_id), None)
    created = member is None
    if created:
        member = BodyMember(user_id=user_id)
        body.members.append(member)
    member.position = position
    member.is_secretariat = bool(is_secretariat)
    session.flush()
    audit.record(session, "body.member_added" if created else "body.member_updated", actor_id=actor.id,
                 object_type="body", object_id=body.id,
                 details={"user_id": user_id, "is_secretariat": member.is_secretariat})
    return member, created


def remove_body_member(session: Session, body: Body, actor: User, *, user_id: int) -> None:
    """Remove a user from a body (administrators; their meeting participations stay)."""
    _require_administer(actor)
    member = next((m for m in body.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound("That user is not a member of this body.")
    body.members.remove(member)
    session.flush()
    audit.record(session, "body.member_removed", actor_id=actor.id, object_type="body", object_id=body.id,
                 details={"user_id": user_id})
