"""REST: the token API's second step and one's own second factors (``/users/me/factors``).

Each view parses, calls one accounts service, shapes the answer.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from meetings.accounts import second_factor, second_step, webauthn_keys
from meetings.accounts.factor_schemas import (
    ChallengeQuery,
    CodeIn,
    FactorsOut,
    Reauthenticate,
    RecoveryCodesOut,
    SecondStepRequest,
    TotpStart,
    TotpStarted,
    WebauthnOptions,
    WebauthnRegister,
)
from meetings.accounts.schemas import TokenResponse
from meetings.core.extensions import db, limiter
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("factors", __name__, description="Second factors: TOTP, WebAuthn, recovery codes")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/token/second-factor", methods=["POST"])
@limiter.limit(_login_limit)
@blp.arguments(SecondStepRequest)
@blp.response(201, TokenResponse)
@blp.alt_response(401, schema=None, description="Wrong, replayed or expired")
@blp.alt_response(429, schema=None, description="Too many attempts")
def token_second_step(body):
    """Complete ``POST /auth/token`` after its 401 ``second_factor_required``: the challenge it gave and a
    TOTP code, a recovery code, or a WebAuthn assertion."""
    clear, row = second_step.token_after_second_step(
        db.session, body["challenge"], code=body.get("code"), assertion=body.get("assertion"),
        ttl_hours=current_app.config["TOKEN_TTL_HOURS"], label=body.get("label"))
    return {"token": clear, "expires_at": row.expires_at, "user_id": row.user_id}


@blp.route("/auth/token/second-factor/webauthn")
@blp.arguments(ChallengeQuery, location="query")
@blp.response(200)
@blp.alt_response(401, schema=None, description="Expired or unknown challenge")
def token_webauthn_options(query):
    """Options for ``navigator.credentials.get()`` during a token's second step."""
    return webauthn_keys.authentication_options(db.session, query["challenge"])


@blp.route("/users/me/factors")
@blp.response(200, FactorsOut)
def my_factors():
    """One's own second factors (never a secret) and whether one's role requires one."""
    return second_factor.describe(db.session, require_user())


@blp.route("/users/me/factors/totp", methods=["POST"])
@blp.arguments(TotpStart)
@blp.response(201, TotpStarted)
def start_totp(body):
    """Start setting up an authenticator app: its secret, ``otpauth://`` URI and QR code (confirm with a code)."""
    user = require_user()
    factor = second_factor.start_totp(db.session, user, body.get("label"))
    uri = second_factor.provisioning_uri(factor, user)
    return {"id": factor.id, "secret": factor.totp_secret, "otpauth_uri": uri,
            "qr_svg": second_factor.qr_data_uri(uri)}


@blp.route("/users/me/factors/totp/confirm", methods=["POST"])
@blp.arguments(CodeIn)
@blp.response(200, RecoveryCodesOut)
@error_responses(blp, 404)
def confirm_totp(body):
    """Confirm the authenticator app with its first code; the recovery codes come once."""
    return {"recovery_codes": second_factor.confirm_totp(db.session, require_user(), body["code"])}


@blp.route("/users/me/factors/webauthn/options")
@blp.response(200, WebauthnOptions)
def webauthn_options():
    """Options for ``navigator.credentials.create()`` and the state to send back."""
    user = require_user()
    return webauthn_keys.registration_options(db.session, user)


@blp.route("/users/me/factors/webauthn", methods=["POST"])
@blp.arguments(WebauthnRegister)
@blp.response(201, RecoveryCodesOut)
@error_responses(blp, 409)
def register_webauthn(body):
    """Keep a passkey or security key; the recovery codes come once (when one had none)."""
    factor, codes = webauthn_keys.register(db.session, require_user(), state=body["state"],
                                           credential=body["credential"], label=body.get("label"))
    return {"id": factor.id, "recovery_codes": codes}


@blp.route("/users/me/factors/recovery-codes", methods=["POST"])
@blp.arguments(Reauthenticate)
@blp.response(201, RecoveryCodesOut)
def new_recovery_codes(body):
    """New recovery codes (the old stop working); needs the password or a current code."""
    return {"recovery_codes": second_factor.regenerate_recovery_codes(db.session, require_user(), **body)}


@blp.route("/users/me/factors/<int:factor_id>", methods=["DELETE"])
@blp.arguments(Reauthenticate)
@blp.response(204)
@error_responses(blp, 404, 409)
def remove_factor(body, factor_id: int):
    """Remove one of one's factors; needs the password or a current code."""
    second_factor.remove_factor(db.session, require_user(), factor_id, **body)
