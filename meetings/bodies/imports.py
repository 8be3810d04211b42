"""Bulk import of users and participants (a meeting) or of members (a body) from a list.

``preview_meeting``/``preview_body`` only read: one SELECT for the accounts the file names (by
username or e-mail), one for the meeting's participants (or the body's members), one for the
body's units and one for their memberships; they say what applying would do and give an error
per bad row. ``import_meeting``/``import_body`` plan the same way and then, only when no row is
in error, write everything with bulk INSERTs and UPDATEs inside the caller's transaction (all or
nothing: the commit point commits, any error rolls it all back). Applying the same file again
changes nothing.

Decisions:
- A person is found by username, else by e-mail; a row with neither is refused (the next import
  would not find them again). A new account without a username gets one from its e-mail.
- New accounts get no usable password (``UNUSABLE_PASSWORD``): hashing 1,000 argon2 passwords
  would take minutes. They enrol a tablet through a provisioning link, or an administrator sets one.
- Only an administrator changes an existing account's name, e-mail or phone; for anyone else the
  difference is a warning and the account is left as it is (an e-mail address decides where an
  account's links go, so the secretariat of one body must not reroute another's).
- Units are found or created by name among the meeting's body's units (``units.find_or_create_by_names``);
  memberships are only added, never removed.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import permissions, units
from meetings.bodies.checks import announce, check_open, require_prepare
from meetings.bodies.import_rows import Row, RowError, Sheet, read_sheet
from meetings.bodies.models import Body, BodyMember, Meeting, Participant
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.errors import Forbidden, Invalid
from meetings.platform.audit import service as audit
from meetings.platform.signals import participants_added

# Not an argon2 hash: check_password never accepts anything against it.
UNUSABLE_PASSWORD = "!import"


@dataclass
class Plan:
    """What an import would do, row by row, and the writes it needs."""

    sheet: Sheet
    sha256: str
    preview: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    new_users: dict[str, dict[str, Any]] = field(default_factory=dict)      # username → INSERT values
    user_updates: list[dict[str, Any]] = field(default_factory=list)        # {"id", changed fields}
    new_participants: list[tuple[str | int, dict[str, Any]]] = field(default_factory=list)
    participant_updates: list[dict[str, Any]] = field(default_factory=list)
    new_members: list[tuple[str | int, dict[str, Any]]] = field(default_factory=list)   # body members
    member_updates: list[dict[str, Any]] = field(default_factory=list)
    unit_names: dict[str, str] = field(default_factory=dict)                # key → name as first given
    units_to_create: set[str] = field(default_factory=set)
    new_unit_members: list[tuple[str, str | int]] = field(default_factory=list)   # (unit key, user ref)

    @property
    def errors(self) -> list[RowError]:
        return self.sheet.all_errors()

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.sheet.rows), "errors": len(self.errors), "warnings": len(self.warnings),
                "users_created": len(self.new_users), "users_updated": len(self.user_updates),
                "participants_added": len(self.new_participants),
                "participants_updated": len(self.participant_updates),
                "members_added": len(self.new_members), "members_updated": len(self.member_updates),
                "units_created": len(self.units_to_create), "unit_memberships_added": len(self.new_unit_members)}

    def changes_anything(self) -> bool:
        return any(v for k, v in self.counts().items() if k not in ("rows", "errors", "warnings"))

    def report(self, *, applied: bool) -> dict[str, Any]:
        """The answer of a dry run or an apply (REST, CLI and console show it)."""
        planned = {e["row"]: e for e in self.preview}
        rows = []
        for row in self.sheet.rows:
            if row.errors or row.number not in planned:
                rows.append({"row": row.number, "full_name": row.full_name, "username": row.username,
                             "email": row.email, "phone": row.phone, "unit": row.unit, "role": row.role,
                             "errors": [e.as_dict() for e in row.errors]})
            else:
                rows.append({**planned[row.number], "errors": []})
        return {"applied": applied, "dry_run": not applied, "format": self.sheet.format, "file_sha256": self.sha256,
                "columns": self.sheet.columns, "ignored_columns": self.sheet.ignored_columns,
                "counts": self.counts(), "rows": rows,
                "errors": [e.as_dict() for e in self.errors], "warnings": [w.as_dict() for w in self.warnings],
                "units_created": sorted(self.unit_names[k] for k in self.units_to_create)}


def _unit_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _free_username(email: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w.@+-]", "", email.split("@", 1)[0])[:60] or "user"
    name = base if base not in taken else f"{base}-{hashlib.sha1(email.encode()).hexdigest()[:6]}"
    taken.add(name)
    return name


def _plan(session: Session, data: bytes, filename: str | None, body: Body, actor: User) -> tuple[Plan, dict]:
    """Read the file and match its people with the accounts (one SELECT); returns the plan and
    row number → (user ref, existing User or None) for the rows without errors."""
    sheet = read_sheet(data, filename)
    plan = Plan(sheet=sheet, sha256=hashlib.sha256(data).hexdigest())
    rows = [r for r in sheet.rows if not r.errors]
    names = {r.username for r in rows if r.username}
    emails = {r.email for r in rows if r.email}
    found = session.execute(select(User).where(or_(
        func.lower(User.username).in_({n.lower() for n in names}), func.lower(User.email).in_(emails),
        User.username.in_({e.split("@", 1)[0] for e in emails})))).scalars().all() if names or emails else []
    by_name = {u.username: u for u in found}
    # "An.Nguyen" in the file is the account "an.nguyen" (unless two accounts differ only by case).
    folded: dict[str, list[User]] = {}
    for u in found:
        folded.setdefault(u.username.lower(), []).append(u)
    by_name.update({k: v[0] for k, v in folded.items() if len(v) == 1 and k not in by_name})
    by_email: dict[str, list[User]] = {}
    for u in found:
        if u.email:
            by_email.setdefault(u.email.lower(), []).append(u)
    taken = set(by_name) | names
    may_edit = permissions.can_administer(actor)
    resolved: dict[int, tuple[str | int, User | None]] = {}
    seen_users: dict[str | int, int] = {}
    for row in rows:
        user = (by_name.get(row.username) or by_name.get(row.username.lower())) if row.username else None
        same_email = by_email.get(row.email or "", [])
        if row.username is None and not row.email:
            row.fail("username", "missing_identity", "Give a username or an e-mail: the person must be found again.")
            continue
        if user is None and row.username is None:
            if len(same_email) > 1:
                row.fail("email", "ambiguous_email", "Several accounts have this e-mail: give the username.")
                continue
            user = same_email[0] if same_email else None
        others = [u for u in same_email if user is None or u.id != user.id]
        if row.email and others and (user is None or not user.email or user.email.lower() != row.email):
            row.fail("email", "email_taken", f"This e-mail belongs to the account {others[0].username!r}.")
            continue
        ref: str | int = user.id if user else (row.username or _free_username(row.email, taken))
        if ref in seen_users:
            row.fail("username", "duplicate_person", f"The same person as row {seen_users[ref]}.")
            continue
        seen_users[ref] = row.number
        resolved[row.number] = (ref, user)
        entry = {"row": row.number, "full_name": row.full_name, "username": user.username if user else ref,
                 "email": row.email, "phone": row.phone, "unit": row.unit, "user": "new" if user is None else "same"}
        if user is None:
            plan.new_users[ref] = {"username": ref, "full_name": row.full_name, "email": row.email,
                                   "phone": row.phone, "password_hash": UNUSABLE_PASSWORD}
        else:
            wanted = {"full_name": row.full_name, "email": row.email, "phone": row.phone}
            changed = {k: v for k, v in wanted.items() if v and v != getattr(user, k)}
            if changed and may_edit:
                plan.user_updates.append({"id": user.id, **changed})
                entry["user"], entry["user_changes"] = "update", sorted(changed)
            elif changed:
                plan.warnings.append(RowError(row.number, sorted(changed)[0], "account_kept",
                                              "Only an administrator changes an existing account's name, "
                                              "e-mail or phone; the account is left as it is."))
        plan.preview.append(entry)
    _plan_units(session, plan, body, rows, resolved)
    return plan, resolved


def _plan_units(session: Session, plan: Plan, body: Body, rows: list[Row], resolved: dict) -> None:
    existing = session.execute(select(Unit).where(Unit.body_id == body.id)).scalars().all()
    by_key = {_unit_key(u.name): u for u in existing}
    for u in existing:
        if u.short_name:
            by_key.setdefault(_unit_key(u.short_name), u)
    user_ids = [ref for ref, _ in resolved.values() if isinstance(ref, int)]
    members = set(session.execute(select(UnitMember.unit_id, UnitMember.user_id).where(
        UnitMember.unit_id.in_([u.id for u in existing]), UnitMember.user_id.in_(user_ids))).tuples()) \
        if existing and user_ids else set()
    entries = {e["row"]: e for e in plan.preview}
    for row in rows:
        if row.number not in resolved or not row.unit:
            continue
        key, (ref, _) = _unit_key(row.unit), resolved[row.number]
        plan.unit_names.setdefault(key, row.unit)
        unit = by_key.get(key)
        if unit is None:
            plan.units_to_create.add(key)
        if unit is None or not isinstance(ref, int) or (unit.id, ref) not in members:
            plan.new_unit_members.append((key, ref))
            entries[row.number]["unit_member"] = "add"
        else:
            entries[row.number]["unit_member"] = "same"


# --------------------------------------------------------------------------- a meeting

def _plan_meeting(session: Session, meeting: Meeting, actor: User, data: bytes, filename: str | None) -> Plan:
    require_prepare(meeting, actor)
    check_open(meeting)
    plan, resolved = _plan(session, data, filename, meeting.body, actor)
    current = {p.user_id: p for p in session.execute(
        select(Participant).where(Participant.meeting_id == meeting.id)).scalars()}
    # The chair the file makes someone else (in any row) no longer counts against a new chair.
    by_number = {r.number: r for r in plan.sheet.rows}
    demoted = {ref for n, (ref, _) in resolved.items() if by_number[n].role not in (None, "chair")}
    chairs = {uid for uid, p in current.items() if p.role == "chair"} - demoted
    entries = {e["row"]: e for e in plan.preview}
    for row in plan.sheet.rows:
        if row.number not in resolved:
            continue
        ref, _ = resolved[row.number]
        p = current.get(ref) if isinstance(ref, int) else None
        role = row.role or (p.role if p else "delegate")
        if row.can_vote is not None:
            can_vote = row.can_vote
        else:
            can_vote = role != "observer" and (p.can_vote if p else True)
        weight = row.vote_weight or (p.vote_weight if p else 1)
        if role == "observer" and can_vote:
            row.fail("can_vote", "observer_cannot_vote", "Observers (khách mời) never vote.")
            continue
        if role == "chair" and chairs - {ref}:
            row.fail("role", "chair_taken", "The meeting already has a chair; change that participant's role first.")
            continue
        if role == "chair":
            chairs.add(ref)
        values = {"role": role, "can_vote": can_vote, "vote_weight": weight}
        entries[row.number].update(values)
        if p is None:
            plan.new_participants.append((ref, values))
            entries[row.number]["participant"] = "add"
        else:
            changed = {k: v for k, v in values.items() if getattr(p, k) != v}
            if changed:
                plan.participant_updates.append({"id": p.id, **changed})
            entries[row.number]["participant"] = "update" if changed else "same"
    return plan


def preview_meeting(session: Session, meeting: Meeting, actor: User, data: bytes,
                    filename: str | None = None) -> dict[str, Any]:
    """The dry run of ``import_meeting``: what it would do and each bad row's errors; writes nothing."""
    return _plan_meeting(session, meeting, actor, data, filename).report(applied=False)


def import_meeting(session: Session, meeting: Meeting, actor: User, data: bytes,
                   filename: str | None = None, *, expect_sha256: str | None = None) -> dict[str, Any]:
    """Apply a participant list to a meeting (those preparing it): all rows or none (422 with the
    errors). ``expect_sha256`` (the dry run's ``file_sha256``) refuses a different file."""
    plan = _plan_meeting(session, meeting, actor, data, filename)
    _require_applicable(plan, expect_sha256)
    if not plan.changes_anything():
        return plan.report(applied=True)
    ids = _write_people(session, plan, meeting.body, actor)
    added: list[Participant] = []
    if plan.new_participants:
        added = list(session.scalars(insert(Participant).returning(Participant, sort_by_parameter_order=True),
                                     [{"meeting_id": meeting.id, "user_id": ids.get(ref, ref), **v}
                                      for ref, v in plan.new_participants]))
    if plan.participant_updates:
        session.execute(update(Participant), plan.participant_updates)
    session.expire(meeting, ["participants"])
    counts = plan.counts()
    audit.record(session, "participants.imported", actor_id=actor.id, object_type="meeting", object_id=meeting.id,
                 meeting_id=meeting.id, details={"file_sha256": plan.sha256, **counts})
    if plan.new_participants or plan.participant_updates:
        announce(session, meeting, "participants.changed",
                 {"action": "imported", "added": counts["participants_added"],
                  "updated": counts["participants_updated"]}, actor)
    if added:  # invitations for a published meeting (notifications listens; composed by the job queue)
        participants_added.send(None, session=session, meeting=meeting, user_ids=[p.user_id for p in added],
                                actor=actor)
    return plan.report(applied=True)


def _require_applicable(plan: Plan, expect_sha256: str | None) -> None:
    if expect_sha256 and expect_sha256 != plan.sha256:
        raise Invalid("This is not the file that was previewed.", code="file_changed")
    if plan.errors:
        raise Invalid(f"{len(plan.errors)} row(s) have errors; nothing was imported.", code="import_errors",
                      details={"errors": [e.as_dict() for e in plan.errors]})


def _write_people(session: Session, plan: Plan, body: Body, actor: User) -> dict[str | int, int]:
    """Insert the new accounts, update the changed ones, find or create the units and add the unit
    memberships; returns each new username → its user id (an existing user's ref is already the id)."""
    ids: dict[str | int, int] = {}
    if plan.new_users:
        rows = session.execute(insert(User).returning(User.id, User.username, sort_by_parameter_order=True),
                               list(plan.new_users.values()))
        ids.update({username: uid for uid, username in rows})
        audit.record(session, "users.imported", actor_id=actor.id, object_type="body", object_id=body.id,
                     details={"user_ids": sorted(ids.values())})
    if plan.user_updates:
        session.execute(update(User), plan.user_updates)
        changed = {u["id"] for u in plan.user_updates}
        for obj in [o for o in session.identity_map.values() if isinstance(o, User) and o.id in changed]:
            session.expire(obj)  # a bulk UPDATE does not refresh loaded objects
    if plan.new_unit_members:
        found = units.find_or_create_by_names(session, body, list(plan.unit_names.values()))
        by_key = {_unit_key(name): unit for name, unit in found.items()}
        session.execute(insert(UnitMember), [{"unit_id": by_key[key].id, "user_id": ids.get(ref, ref),
                                              "is_head": False} for key, ref in plan.new_unit_members])
    return ids


# --------------------------------------------------------------------------- a body

def _plan_body(session: Session, body: Body, actor: User, data: bytes, filename: str | None) -> Plan:
    if not permissions.can_administer(actor):
        raise Forbidden("Only an administrator imports a body's members.")
    plan, resolved = _plan(session, data, filename, body, actor)
    current = {m.user_id: m for m in session.execute(
        select(BodyMember).where(BodyMember.body_id == body.id)).scalars()}
    has = set(plan.sheet.columns.values())
    entries = {e["row"]: e for e in plan.preview}
    for row in plan.sheet.rows:
        if row.number not in resolved:
            continue
        ref, _ = resolved[row.number]
        m = current.get(ref) if isinstance(ref, int) else None
        values = {"position": row.position if "position" in has or m is None else m.position,
                  "is_secretariat": row.is_secretariat if "is_secretariat" in has or m is None else m.is_secretariat}
        entries[row.number].update(values)
        if m is None:
            plan.new_members.append((ref, values))
            entries[row.number]["member"] = "add"
        else:
            changed = {k: v for k, v in values.items() if getattr(m, k) != v}
            if changed:
                plan.member_updates.append({"id": m.id, **changed})
            entries[row.number]["member"] = "update" if changed else "same"
    return plan


def preview_body(session: Session, body: Body, actor: User, data: bytes, filename: str | None = None) -> dict:
    """The dry run of ``import_body``; writes nothing."""
    return _plan_body(session, body, actor, data, filename).report(applied=False)


def import_body(session: Session, body: Body, actor: User, data: bytes, filename: str | None = None, *,
                expect_sha256: str | None = None) -> dict[str, Any]:
    """Apply a member list to a body (administrators): accounts, memberships, units; all or nothing."""
    plan = _plan_body(session, body, actor, data, filename)
    _require_applicable(plan, expect_sha256)
    if not plan.changes_anything():
        return plan.report(applied=True)
    ids = _write_people(session, plan, body, actor)
    if plan.new_members:
        session.execute(insert(BodyMember), [{"body_id": body.id, "user_id": ids.get(ref, ref), **v}
                                             for ref, v in plan.new_members])
    if plan.member_updates:
        session.execute(update(BodyMember), plan.member_updates)
    session.expire(body, ["members"])
    audit.record(session, "body.members_imported", actor_id=actor.id, object_type="body", object_id=body.id,
                 details={"file_sha256": plan.sha256, **plan.counts()})
    return plan.report(applied=True)
