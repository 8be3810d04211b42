"""WebAuthn (passkeys, security keys): the registration and authentication ceremonies.

The relying party is the server: its id (a host name) and origin come from
``WEBAUTHN_RP_ID`` / ``WEBAUTHN_ORIGIN``, by default the host the browser
asked for. Challenges are not stored: a registration's rides in a signed state
token handed to the client, a login's is derived from the login step's signed
challenge (``second_factor.issue_challenge``). An assertion is good once: the
digest of the challenge it answered is kept on the credential.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from meetings.accounts import second_factor
from meetings.accounts.factor_models import SecondFactor
from meetings.accounts.models import User
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, Unauthorized
from meetings.platform.audit import service as audit

_REGISTRATION_SALT = "webauthn-registration"
_REGISTRATION_SECONDS = 300
# What a broken or hostile client can make the library raise while parsing.
_BAD_INPUT = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)


def relying_party() -> tuple[str, str]:
    """(rp id, origin): the settings, else the host and origin of the current request."""
    origin = current_app.config.get("WEBAUTHN_ORIGIN") or request.host_url.rstrip("/")
    rp_id = current_app.config.get("WEBAUTHN_RP_ID") or request.host.rsplit(":", 1)[0].strip("[]")
    return rp_id, origin


def _credentials(session: Session, user: User) -> list[SecondFactor]:
    return [f for f in second_factor.confirmed_factors(session, user) if f.kind == "webauthn"]


def _user_handle(user: User) -> bytes:
    # Stable per user, and no id or name in clear on the authenticator.
    return hmac.new(current_app.secret_key.encode(), f"webauthn-user:{user.id}".encode(), hashlib.sha256).digest()


# --------------------------------------------------------------------------- registration

def registration_options(session: Session, user: User) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()`` and the signed ``state`` to send back with the answer."""
    rp_id, _ = relying_party()
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp_id, rp_name=current_app.config["MFA_ISSUER"], user_name=user.username,
        user_id=_user_handle(user), user_display_name=user.full_name, challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(f.credential_id))
                             for f in _credentials(session, user)],
    )
    state = URLSafeTimedSerializer(current_app.secret_key, salt=_REGISTRATION_SALT).dumps(
        {"u": user.id, "c": bytes_to_base64url(challenge)})
    return {"options": options_to_json_dict(options), "state": state}


def register(session: Session, user: User, *, state: str, credential: dict[str, Any],
             label: str | None = None) -> tuple[SecondFactor, list[str]]:
    """Verify the authenticator's answer to ``registration_options`` and keep the credential; returns it
    and new recovery codes when the user had none (shown once)."""
    try:
        data = URLSafeTimedSerializer(current_app.secret_key, salt=_REGISTRATION_SALT).loads(
            state, max_age=_REGISTRATION_SECONDS)
    except BadSignature:
        raise Invalid("The registration expired or is unknown: start again.", code="state_invalid") from None
    if data.get("u") != user.id:
        raise Invalid("The registration expired or is unknown: start again.", code="state_invalid")
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(data["c"]),
            expected_rp_id=rp_id, expected_origin=origin)
    except _BAD_INPUT as exc:
        raise Invalid(f"The key's answer was refused: {exc}", code="webauthn_invalid") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.execute(select(SecondFactor.id).where(SecondFactor.credential_id == credential_id)).first():
        raise Conflict("This key is already registered.")
    factor = SecondFactor(user_id=user.id, kind="webauthn", label=(label or "").strip()[:100] or None,
                          credential_id=credential_id, public_key=verified.credential_public_key,
                          sign_count=verified.sign_count, confirmed_at=utcnow())
    session.add(factor)
    session.flush()
    audit.record(session, "second_factor.enrolled", actor_id=user.id, object_type="user", object_id=user.id,
                 details={"kind": "webauthn", "factor_id": factor.id})
    return factor, second_factor.ensure_recovery_codes(session, user)


# --------------------------------------------------------------------------- authentication

def _login_challenge(challenge: str) -> bytes:
    return hashlib.sha256(f"webauthn-login:{challenge}".encode()).digest()


def authentication_options(session: Session, challenge: str) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()`` during the login step ``challenge``."""
    user = second_factor.user_for_challenge(session, challenge)
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id, challenge=_login_challenge(challenge),
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(f.credential_id))
                           for f in _credentials(session, user)],
        user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json_dict(options)


def check_assertion(session: Session, user: User, challenge: str, assertion: dict[str, Any] | str) -> None:
    """Pass the second step with a WebAuthn assertion; Unauthorized when it is wrong or replayed."""
    second_factor.guard_attempts(user)
    if isinstance(assertion, str):
        try:
            assertion = json.loads(assertion)
        except ValueError:
            assertion = {}
    raw_id = assertion.get("id") if isinstance(assertion, dict) else None
    factor = next((f for f in _credentials(session, user) if f.credential_id == raw_id), None)
    expected = _login_challenge(challenge)
    mark = hashlib.sha256(expected).hexdigest()
    rp_id, origin = relying_party()
    try:
        if factor is None or factor.last_challenge == mark:
            raise ValueError("unknown credential or replayed answer")
        verified = verify_authentication_response(
            credential=assertion, expected_challenge=expected, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=factor.public_key, credential_current_sign_count=factor.sign_count or 0)
    except _BAD_INPUT:
        second_factor.count_failure(user)
        raise Unauthorized("The key's answer was refused.", code="bad_assertion") from None
    factor.sign_count = verified.new_sign_count
    factor.last_challenge = mark
    factor.last_used_at = utcnow()
    second_factor.clear_failures(user)

