"""Second factors: authenticator apps (TOTP), one-time recovery codes, the login's second step.

After the password is right, a user who has a confirmed factor, or whose role
requires one (setting ``MFA_REQUIRED_ROLES``), must pass a second step. The
step is carried by a signed, short-lived *challenge* (no database row: a
refused attempt rolls back and leaves nothing), bound to the user and to the
current password hash, so a password change voids every pending step.

Who holds which role is known by the domains above: ``role_requires`` is a
registry they fill at import (bodies: the secretariat; minutes: signers), as
``gateway.load_users_with`` is filled by ``accounts.auth`` (``factor_roles``).

A TOTP code is good once: the time step accepted last is stored and a code of
that step or an earlier one is refused. Recovery codes are hashed like
passwords (argon2) and each is good once. Failed codes count per account
(setting ``MFA_ATTEMPT_LIMIT``) in the rate limiter's storage, which a rollback
does not undo.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from typing import Any

import pyotp
import segno
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import parse as parse_limit
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from meetings.accounts import factor_roles, hashing, service
from meetings.accounts.factor_models import RecoveryCode, SecondFactor
from meetings.accounts.models import User
from meetings.core.db import end_read_only_transaction, utcnow
from meetings.core.errors import Conflict, DomainError, Invalid, NotFound, Unauthorized
from meetings.core.extensions import limiter
from meetings.platform.audit import service as audit

log = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
# Ten characters of 31 (no 0/o, 1/l/i to misread on paper): about 50 bits each.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_SALT = "second-factor-challenge"



class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


# --------------------------------------------------------------------------- who must have one

def required_roles() -> list[str]:
    """The role names of the ``MFA_REQUIRED_ROLES`` setting."""
    return [r.strip() for r in str(current_app.config.get("MFA_REQUIRED_ROLES") or "").split(",") if r.strip()]


def factor_required(session: Session, user: User) -> bool:
    """Does ``user``'s role require a second factor? An unknown role name in the setting
    fails closed (everyone must have one) and says so in the log: a typo must not switch it off."""
    for name in required_roles():
        check = factor_roles.check_for(name)
        if check is None:
            log.error("MFA_REQUIRED_ROLES names an unknown role %r: requiring a second factor of everyone", name)
            return True
        if check(session, user):
            return True
    return False


def confirmed_factors(session: Session, user: User) -> Sequence[SecondFactor]:
    """The user's factors that count at login (pending TOTP set-ups do not)."""
    return session.execute(select(SecondFactor).where(
        SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_not(None)).order_by(SecondFactor.id)
    ).scalars().all()


def second_step(session: Session, user: User) -> str | None:
    """What the login still needs once the password is right: ``"verify"`` (the user has a factor),
    ``"enrol"`` (their role requires one and they have none) or None."""
    if confirmed_factors(session, user):
        return "verify"
    return "enrol" if factor_required(session, user) else None


def methods(session: Session, user: User) -> list[str]:
    """The ways this user can pass the second step."""
    kinds = {f.kind for f in confirmed_factors(session, user)}
    found = [k for k in ("totp", "webauthn") if k in kinds]
    return found + (["recovery_code"] if unused_recovery_codes(session, user) else [])


# --------------------------------------------------------------------------- the pending step

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _password_mark(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue_challenge(user: User) -> str:
    """A signed challenge naming ``user`` whose password was just checked (valid ``MFA_CHALLENGE_SECONDS``)."""
    return _serializer().dumps({"u": user.id, "p": _password_mark(user), "n": secrets.token_urlsafe(16)})


def user_for_challenge(session: Session, challenge: str) -> User:
    """The user a live challenge names; Unauthorized when it is forged, expired or stale."""
    try:
        data = _serializer().loads(challenge, max_age=current_app.config["MFA_CHALLENGE_SECONDS"])
    except SignatureExpired:
        raise Unauthorized("The login step expired: log in again.", code="challenge_expired") from None
    except BadSignature:
        raise Unauthorized("Unknown login step: log in again.", code="challenge_invalid") from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("p") != _password_mark(user):
        raise Unauthorized("Unknown login step: log in again.", code="challenge_invalid")
    return user


def hold_token(session: Session, user: User) -> None:
    """Refuse a bearer token to a user who must pass a second step: Unauthorized with a challenge.

    Called after the password was checked; raising rolls back whatever that step wrote (the token)."""
    step = second_step(session, user)
    if step == "enrol":
        raise Unauthorized("Your role requires a second factor: log in in a browser to set one up.",
                           code="second_factor_enrolment_required", details={"enrol": True})
    if step == "verify":
        raise Unauthorized("Enter a code from your authenticator, a recovery code, or use your key.",
                           code="second_factor_required",
                           details={"challenge": issue_challenge(user), "methods": methods(session, user),
                                    "expires_in": current_app.config["MFA_CHALLENGE_SECONDS"]})


# --------------------------------------------------------------------------- attempts per account

def _attempt_limit():
    return parse_limit(current_app.config["MFA_ATTEMPT_LIMIT"])


def guard_attempts(user: User) -> None:
    """TooManyAttempts while this account has used up its failed codes."""
    if not limiter.limiter.test(_attempt_limit(), "second-factor", str(user.id)):
        raise TooManyAttempts("Too many wrong codes: wait a few minutes.")


def count_failure(user: User) -> None:
    """One failed code for this account (kept by the rate limiter, beyond the rollback)."""
    limiter.limiter.hit(_attempt_limit(), "second-factor", str(user.id))


def clear_failures(user: User) -> None:
    """A passed step starts the count again."""
    limiter.limiter.clear(_attempt_limit(), "second-factor", str(user.id))


# --------------------------------------------------------------------------- TOTP

def start_totp(session: Session, user: User, label: str | None = None) -> SecondFactor:
    """A new authenticator-app set-up, pending until its first code is confirmed (replaces a pending one)."""
    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id, SecondFactor.kind == "totp",
                                               SecondFactor.confirmed_at.is_(None)))
    factor = SecondFactor(user_id=user.id, kind="totp", label=(label or "").strip()[:100] or None,
                          totp_secret=pyotp.random_base32())
    session.add(factor)
    session.flush()
    return factor


def pending_totp(session: Session, user: User) -> SecondFactor | None:
    """The user's TOTP set-up not yet confirmed, if any."""
    return session.execute(select(SecondFactor).where(
        SecondFactor.user_id == user.id, SecondFactor.kind == "totp", SecondFactor.confirmed_at.is_(None))
    ).scalars().first()


def provisioning_uri(factor: SecondFactor, user: User) -> str:
    """The ``otpauth://`` URI an authenticator app reads (from the QR code)."""
    return pyotp.TOTP(factor.totp_secret).provisioning_uri(name=user.username,
                                                           issuer_name=current_app.config["MFA_ISSUER"])


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (the page's CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _totp_step(factor: SecondFactor, code: str) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side for clock drift), or None."""
    totp = pyotp.TOTP(factor.totp_secret)
    now = totp.timecode(utcnow())
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_totp(factor: SecondFactor, code: str) -> bool:
    step = _totp_step(factor, code)
    if step is None or (factor.last_counter is not None and step <= factor.last_counter):
        return False  # wrong, or replayed: a code (and any older one) is good once
    factor.last_counter = step
    factor.last_used_at = utcnow()
    return True


def confirm_totp(session: Session, user: User, code: str) -> list[str]:
    """Confirm the pending set-up with its first code; returns new recovery codes when the user had none
    (shown once), else an empty list."""
    factor = pending_totp(session, user)
    if factor is None:
        raise NotFound("No authenticator set-up is pending.")
    guard_attempts(user)
    if not _use_totp(factor, _digits(code)):
        count_failure(user)
        raise Unauthorized("Wrong code.", code="bad_code")
    factor.confirmed_at = utcnow()
    audit.record(session, "second_factor.enrolled", actor_id=user.id, object_type="user", object_id=user.id,
                 details={"kind": "totp", "factor_id": factor.id})
    clear_failures(user)
    return ensure_recovery_codes(session, user)


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code) if not ch.isspace())


# --------------------------------------------------------------------------- recovery codes

def unused_recovery_codes(session: Session, user: User) -> int:
    """How many recovery codes the user has left."""
    return session.execute(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def _normalize_recovery(code: str) -> str:
    return "".join(ch for ch in str(code).lower() if ch.isalnum())


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODE_COUNT`` new ones; the clear codes are
    returned once and only their hashes are stored."""
    codes, hashes = [], []
    for _ in range(RECOVERY_CODE_COUNT):  # hashed before the first write: no lock held meanwhile
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        hashes.append(service.hash_password(_normalize_recovery(raw)))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(RecoveryCode(user_id=user.id, code_hash=h) for h in hashes)
    session.flush()
    audit.record(session, "second_factor.recovery_codes_issued", actor_id=user.id, object_type="user",
                 object_id=user.id, details={"count": RECOVERY_CODE_COUNT})
    return codes


def ensure_recovery_codes(session: Session, user: User) -> list[str]:
    """New recovery codes when the user has none left; else an empty list."""
    return [] if unused_recovery_codes(session, user) else new_recovery_codes(session, user)


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    wanted = _normalize_recovery(code)
    rows = session.execute(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalars().all()
    end_read_only_transaction(session)  # SQLite: others commit during the verifications below
    for row in rows:
        if hashing.verify_secret(row.code_hash, wanted):  # off the event loop
            row.used_at = utcnow()
            audit.record(session, "second_factor.recovery_code_used", actor_id=user.id, object_type="user",
                         object_id=user.id, details={"left": len(rows) - 1})
            return True
    return False


# --------------------------------------------------------------------------- checking a code

def check_code(session: Session, user: User, code: str) -> str:
    """Pass the second step with a TOTP code (six digits) or a recovery code; returns which it was.

    Unauthorized (``bad_code``) when it is wrong or replayed; TooManyAttempts past the account's limit."""
    guard_attempts(user)
    code = _digits(code)
    used = None
    if code.isdigit() and len(code) == 6:
        for factor in confirmed_factors(session, user):
            if factor.kind == "totp" and _use_totp(factor, code):
                used = "totp"
                break
    elif code and _use_recovery_code(session, user, code):
        used = "recovery_code"
    if used is None:
        count_failure(user)
        raise Unauthorized("Wrong or already used code.", code="bad_code")
    clear_failures(user)
    return used


def complete_login(session: Session, user: User, method: str) -> None:
    """Record that ``user`` passed the second step (the password step has its own entry)."""
    audit.record(session, "second_factor.passed", actor_id=user.id, object_type="user", object_id=user.id,
                 details={"method": method})


# --------------------------------------------------------------------------- listing and removing

def describe(session: Session, user: User) -> dict[str, Any]:
    """The user's factors as shown to them (never a secret)."""
    return {
        "required": factor_required(session, user),
        "factors": [{"id": f.id, "kind": f.kind, "label": f.label, "created_at": f.created_at,
                     "last_used_at": f.last_used_at} for f in confirmed_factors(session, user)],
        "recovery_codes_left": unused_recovery_codes(session, user),
    }


def prove_presence(session: Session, user: User, *, password: str | None, code: str | None) -> None:
    """A sensitive change to one's own factors needs the password or a current code."""
    if password and service.check_password(user, password, session=session):
        return
    if code:
        check_code(session, user, code)
        return
    raise Unauthorized("Give your password or a current code.", code="reauthentication_required")


def remove_factor(session: Session, user: User, factor_id: int, *, password: str | None = None,
                  code: str | None = None) -> None:
    """Remove one of the user's own factors (after ``prove_presence``). The last factor of a user whose
    role requires one stays: they would be sent to enrol again at the next login anyway."""
    factor = session.get(SecondFactor, factor_id)
    if factor is None or factor.user_id != user.id:
        raise NotFound("No such factor.")
    prove_presence(session, user, password=password, code=code)
    others = [f for f in confirmed_factors(session, user) if f.id != factor.id]
    if factor.confirmed_at is not None and not others and factor_required(session, user):
        raise Conflict("Your role requires a second factor: add another before removing this one.",
                       code="factor_required")
    session.delete(factor)
    if not others:
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, "second_factor.removed", actor_id=user.id, object_type="user", object_id=user.id,
                 details={"kind": factor.kind, "factor_id": factor_id})


def regenerate_recovery_codes(session: Session, user: User, *, password: str | None = None,
                              code: str | None = None) -> list[str]:
    """New recovery codes (the old ones stop working), for a user who has a factor."""
    prove_presence(session, user, password=password, code=code)
    if not confirmed_factors(session, user):
        raise Invalid("Set up a second factor first.")
    return new_recovery_codes(session, user)
