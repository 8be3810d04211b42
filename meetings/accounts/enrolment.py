"""Tablet enrolment: a one-time link (printed as a QR code) signs one tablet in as one user.

The morning of a sitting, a hall's tablets are not 1,000 password logins: the
secretariat prints a sheet with one QR code per delegate; the tablet opens the
link (``/enrol/<secret>``), the delegate confirms with one tap, and the tablet
holds an ordinary browser session (``accounts.sessions``) labelled "enrolled by
link (issued by X)" in the device list, ended like any other: signing the
device out, "sign out everywhere", a password change, deactivation, or revoking
the link here. Its sockets are disconnected as for any ended session.

What a link is worth, and what it is not:

* the secret has 256 bits (``secrets.token_urlsafe(32)``); only its sha256 is
  stored and looked up, so a database leak enrols nothing;
* it is good once: the consuming UPDATE matches only an unused, unrevoked,
  unexpired row, so two tablets racing on one link get one session between them;
* opening the link (GET) consumes nothing: link previewers and mail scanners
  fetch URLs; only the page's POST, with its CSRF token, does;
* it replaces a password, never a second factor: a user who has a second factor,
  or whose role requires one (``MFA_REQUIRED_ROLES``), an administrator, an
  archivist, and whoever a domain above registers with ``refuse_when`` (bodies:
  the secretariat and meeting secretaries) cannot be enrolled by link, checked
  when the link is issued and again when it is used.

accounts knows only users: a link's ``context`` ("meeting-12"), ``label`` and
``next_path`` are what the issuing domain (``bodies.enrolment_sheet``) gives.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.accounts import policy, second_factor, sessions
from meetings.accounts.enrolment_models import EnrolmentLink
from meetings.accounts.factor_models import SecondFactor
from meetings.accounts.models import User
from meetings.accounts.session_models import UserSession
from meetings.core.db import utcnow
from meetings.core.errors import DomainError, Forbidden, NotFound
from meetings.platform.audit import service as audit

Refusal = Callable[[Session, User], bool]
BulkRefusal = Callable[[Session, list[int]], set[int]]
_REFUSALS: dict[str, tuple[Refusal, BulkRefusal | None]] = {}
DEFAULT_DAYS = 7


class LinkGone(DomainError):
    """The link was used, expired or revoked: the page says which."""

    status = 410
    code = "link_gone"


class NotEnrollable(Forbidden):
    code = "not_enrollable"


def refuse_when(name: str, check: Refusal, bulk: BulkRefusal | None = None) -> None:
    """Register ``check(session, user)``: True when ``user`` must not be enrolled by link (a role of a
    domain above accounts, e.g. bodies' secretariat); ``bulk(session, user_ids)`` answers for many at once."""
    _REFUSALS[name] = (check, bulk)


def refusal(session: Session, user: User) -> str | None:
    """Why ``user`` cannot be enrolled by link, or None when they can."""
    return refusals(session, [user]).get(user.id)


def refusals(session: Session, users: Sequence[User]) -> dict[int, str]:
    """Why each of ``users`` cannot be enrolled by link (those who can are absent), in a few queries."""
    out: dict[int, str] = {}
    for user in users:
        if not user.active:
            out[user.id] = "inactive"
        elif user.global_role:
            out[user.id] = "global_role"  # administrators and archivists log in with a password (and a factor)
    rest = [u for u in users if u.id not in out]
    with_factor = set(session.execute(select(SecondFactor.user_id).where(
        SecondFactor.user_id.in_([u.id for u in rest]), SecondFactor.confirmed_at.is_not(None))).scalars())
    roles_required = bool(second_factor.required_roles())
    for user in rest:  # a link is no second factor: it never replaces one
        if user.id in with_factor or (roles_required and second_factor.factor_required(session, user)):
            out[user.id] = "second_factor"
    for name, (check, bulk) in _REFUSALS.items():
        rest = [u for u in users if u.id not in out]
        refused = bulk(session, [u.id for u in rest]) if bulk is not None else {
            u.id for u in rest if check(session, u)}
        out.update({uid: name for uid in refused})
    return out


def link_days() -> int:
    """How long an unused link stays good (setting ``ENROLMENT_LINK_DAYS``)."""
    config = current_app.config if has_app_context() else {}
    return max(1, int(config.get("ENROLMENT_LINK_DAYS") or DEFAULT_DAYS))


def status_of(link: EnrolmentLink, now: datetime | None = None) -> str:
    """pending, used, revoked or expired."""
    if link.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "used"
    return "expired" if link.expires_at <= (now or utcnow()) else "pending"


# --------------------------------------------------------------------------- issuing

def issue_link(session: Session, user: User, issuer: User, **where: Any) -> tuple[str, EnrolmentLink]:
    """A new link for ``user`` (see ``issue_links``); NotEnrollable when they must log in with a password."""
    issued, refused = issue_links(session, [user], issuer, **where)
    if refused:
        why = refused[user.id]
        raise NotEnrollable(f"{user.full_name} cannot be enrolled by link ({why}): they log in with a password.",
                            details={"reason": why})
    return issued[0]


def issue_links(session: Session, users: Sequence[User], issuer: User, *, context: str | None = None,
                label: str | None = None, next_path: str | None = None, expires_at: datetime | None = None,
                ) -> tuple[list[tuple[str, EnrolmentLink]], dict[int, str]]:
    """New links for ``users`` in one go: ([(clear secret, link)] in their order, {user id: why refused}).
    The clear secrets are returned once and never stored. The caller has checked that ``issuer`` may
    (``issue_for_user`` here, ``bodies.enrolment_sheet`` for a meeting). Unused links of the same users
    and context are voided: a reprinted sheet replaces the old one. One audit entry for the batch."""
    refused = refusals(session, users)
    users = [u for u in users if u.id not in refused]
    if not users:
        return [], refused
    now = utcnow()
    latest = now + timedelta(days=link_days())
    ids = [u.id for u in users]
    voided = session.execute(update(EnrolmentLink).where(
        EnrolmentLink.user_id.in_(ids), EnrolmentLink.context == context, EnrolmentLink.used_at.is_(None),
        EnrolmentLink.revoked_at.is_(None)).values(revoked_at=now, revoked_by_id=issuer.id)
        .execution_options(synchronize_session=False)).rowcount
    issued = []
    for user in users:
        clear = secrets.token_urlsafe(32)
        issued.append((clear, EnrolmentLink(
            user_id=user.id, secret_hash=sessions.digest(clear), issued_by_id=issuer.id, context=context,
            label=(label or "")[:200] or None, next_path=next_path, created_at=now,
            expires_at=min(expires_at, latest) if expires_at else latest)))
    session.add_all([row for _, row in issued])
    session.flush()
    audit.record(session, "enrolment.issued", actor_id=issuer.id, object_type="user",
                 object_id=ids[0] if len(ids) == 1 else None,
                 details={"context": context, "links": [row.id for _, row in issued], "users": ids,
                          "voided": voided, "expires_at": issued[0][1].expires_at.isoformat()})
    return issued, refused


def issue_for_user(session: Session, actor: User, user: User) -> tuple[str, EnrolmentLink]:
    """An administrator issues a link for any account (the REST route of accounts)."""
    if not policy.can_manage_users(actor):
        raise Forbidden("Only an administrator can enrol a tablet for an account; the secretariat does it "
                        "for a meeting's participants.")
    return issue_link(session, user, actor)


# --------------------------------------------------------------------------- using

def find(session: Session, secret: str) -> EnrolmentLink:
    """The link of this clear secret, whatever its state; NotFound for an unknown one."""
    if not secret or len(secret) > 100:
        raise NotFound("This enrolment link does not exist.")
    row = session.execute(select(EnrolmentLink).where(
        EnrolmentLink.secret_hash == sessions.digest(secret))).scalar_one_or_none()
    if row is None:
        raise NotFound("This enrolment link does not exist.")
    return row


def check_usable(session: Session, link: EnrolmentLink) -> User:
    """The user ``link`` would sign in; LinkGone when used, revoked or expired, NotEnrollable when
    the user may no longer be enrolled this way (a factor set up or a role taken since)."""
    state = status_of(link)
    if state != "pending":
        raise LinkGone(f"This enrolment link is {state}.", code=f"link_{state}")
    user = session.get(User, link.user_id)
    why = refusal(session, user)
    if why is not None:
        raise NotEnrollable(f"{user.full_name} logs in with a password ({why}).", details={"reason": why})
    return user


def redeem(session: Session, secret: str) -> tuple[User, EnrolmentLink]:
    """Consume the link (once, whoever races for it) and return whom to sign in. The caller then
    starts the browser session (Flask-Login) and calls ``attach_device`` with its key."""
    link = find(session, secret)
    user = check_usable(session, link)
    now = utcnow()
    # The check above was a read; the single use is this conditional write.
    taken = session.execute(update(EnrolmentLink).where(
        EnrolmentLink.id == link.id, EnrolmentLink.used_at.is_(None), EnrolmentLink.revoked_at.is_(None),
        EnrolmentLink.expires_at > now).values(used_at=now).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise LinkGone("This enrolment link was used a moment ago.", code="link_used")
    session.refresh(link)
    return user, link


def device_label(session: Session, link: EnrolmentLink, user: User) -> str:
    """What the device list says about a tablet enrolled by ``link``, in its user's language."""
    issuer = session.get(User, link.issued_by_id) if link.issued_by_id else None
    name = issuer.full_name if issuer is not None else "?"
    text = (f"Enrolled by link (issued by {name})" if (user.locale or "vi").startswith("en")
            else f"Cấp qua liên kết (người cấp: {name})")
    return text[:100]


def attach_device(session: Session, link: EnrolmentLink, user: User, device: str | None) -> None:
    """Record the session the link started, label it in the device list, and audit the use."""
    parsed = sessions.parse_key(device)
    if parsed is None or parsed[0] != "session":
        raise NotFound("No session was started.")
    row = session.get(UserSession, parsed[1])
    row.label = device_label(session, link, user)
    link.device = device
    audit.record(session, "enrolment.used", actor_id=user.id, object_type="user", object_id=user.id,
                 details={"link": link.id, "context": link.context, "device": device,
                          "issued_by": link.issued_by_id})


# --------------------------------------------------------------------------- revoking, listing

def _revoke(session: Session, link: EnrolmentLink, actor_id: int | None, *, reason: str) -> bool:
    """Void ``link``; a used one also ends the tablet's session (and its sockets)."""
    ended = False
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by_id = utcnow(), actor_id
    if link.device:
        ended = sessions.end(session, link.user_id, link.device, reason="revoked", actor_id=actor_id)
    audit.record(session, "enrolment.revoked", actor_id=actor_id, object_type="user", object_id=link.user_id,
                 details={"link": link.id, "context": link.context, "reason": reason,
                          "device_ended": link.device if ended else None})
    return ended


def revoke_link(session: Session, link: EnrolmentLink, actor: User) -> bool:
    """Revoke ``link`` (the caller has checked ``actor`` may): unused, it can no longer be used;
    used, the tablet it enrolled is signed out. Returns whether a device ended."""
    if link.revoked_at is not None:
        return False  # revoked before: a used link's device ended then
    return _revoke(session, link, actor.id, reason="revoked")


def revoke(session: Session, actor: User, link_id: int) -> bool:
    """Revoke a link by id: administrators, and whoever issued it."""
    link = session.get(EnrolmentLink, link_id)
    if link is None or not (policy.can_manage_users(actor) or link.issued_by_id == actor.id):
        raise NotFound("No such enrolment link.")
    return revoke_link(session, link, actor)


def links_in(session: Session, context: str) -> Sequence[EnrolmentLink]:
    """Every link issued in ``context``, newest first."""
    return session.execute(select(EnrolmentLink).where(EnrolmentLink.context == context)
                           .order_by(EnrolmentLink.id.desc())).scalars().all()


def describe(link: EnrolmentLink, now: datetime | None = None) -> dict[str, Any]:
    """A link as the REST answers show it (never its secret: only its hash is kept)."""
    return {"id": link.id, "user_id": link.user_id, "issued_by_id": link.issued_by_id, "context": link.context,
            "created_at": link.created_at, "expires_at": link.expires_at, "used_at": link.used_at,
            "revoked_at": link.revoked_at, "device": link.device, "status": status_of(link, now)}
