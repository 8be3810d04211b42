"""REST: tokens and users. Each view parses, calls one accounts service, shapes the answer."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from meetings.accounts import devices, second_factor, service
from meetings.accounts.auth import current_credential
from meetings.accounts.schemas import (
    DeviceOut,
    PasswordChange,
    SignedOut,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserOut,
    UserUpdate,
)
from meetings.core.errors import Unauthorized
from meetings.core.extensions import db, limiter
from meetings.platform.http.caller import bearer_token, require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("accounts", __name__, description="Authentication and users")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/token", methods=["POST"])
@limiter.limit(_login_limit)
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
@blp.alt_response(401, schema=None, description="Wrong username or password")
@blp.alt_response(429, schema=None, description="Too many attempts")
def issue_token(body):
    """Exchange a username and password for an expiring bearer token."""
    clear, row = service.token_for_credentials(
        db.session, body["username"], body["password"],
        ttl_hours=current_app.config["TOKEN_TTL_HOURS"], label=body.get("label"),
    )
    # A second factor due: 401 with a challenge (POST /auth/token/second-factor); the token rolls back.
    second_factor.hold_token(db.session, row.user)
    return {"token": clear, "expires_at": row.expires_at, "user_id": row.user_id}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the bearer token used for this call (log out a tablet)."""
    require_user()
    token = bearer_token()
    if token is None:
        raise Unauthorized("Only a bearer token can be revoked this way.")
    service.revoke_token(db.session, token)


@blp.route("/users/me")
@blp.response(200, UserOut)
def me():
    """The caller's own account."""
    return require_user()


@blp.route("/users")
@blp.response(200, UserOut(many=True))
def list_users():
    """The user directory. Administrators: every account, full records. Everyone else: only
    ``id`` and ``full_name`` of themselves and of the people in the meetings they take part in or
    manage (a body's secretariat: its members and its meetings' participants)."""
    return service.directory(db.session, require_user())


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
@error_responses(blp, 403, 409)
def create_user(body):
    """Create a user (admin only)."""
    return service.add_user(db.session, require_user(), **body)


@blp.route("/users/<int:user_id>")
@blp.response(200, UserOut)
@error_responses(blp, 404)
def get_user(user_id: int):
    """One user, shaped as in the directory; 404 for an account the caller may not see."""
    return service.read_user(db.session, user_id, require_user())


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserUpdate)
@blp.response(200, UserOut)
@error_responses(blp, 403, 404)
def update_user(body, user_id: int):
    """Change a user: admins change anyone; users change their own name, email and language.
    ``password`` is an administrator's reset of another account; a reset or ``active: false``
    ends every session and token of the account and disconnects its sockets."""
    caller = require_user()
    return service.update_user(db.session, service.get_user(db.session, user_id), caller,
                               current=current_credential(), **body)


@blp.route("/users/me/password", methods=["POST"])
@limiter.limit(_login_limit)
@blp.arguments(PasswordChange)
@blp.response(204)
@error_responses(blp, 403)
@blp.alt_response(429, schema=None, description="Too many attempts")
def change_password(body):
    """Change one's own password: the current one is needed, the new one must pass the password
    policy (``weak_password``); every other session and token of the account ends."""
    devices.change_password(db.session, require_user(), current_password=body["current"],
                            new_password=body["new"], current=current_credential())


@blp.route("/users/me/devices")
@blp.response(200, DeviceOut(many=True))
def list_devices():
    """The caller's live browser sessions and tokens: where and when each was last seen."""
    return devices.list_devices(db.session, require_user(), current=current_credential())


@blp.route("/users/me/devices/<string:device_id>", methods=["DELETE"])
@blp.response(204)
@error_responses(blp, 404)
def sign_out_device(device_id: str):
    """Sign out one of one's devices (a lost tablet): its session or token ends, its sockets are
    told ``session.revoked`` and disconnected, and its browser wipes its offline data at next contact."""
    devices.sign_out_device(db.session, require_user(), device_id)


@blp.route("/users/<int:user_id>/sessions/revoke", methods=["POST"])
@blp.response(200, SignedOut)
@error_responses(blp, 403, 404)
def sign_out_everywhere(user_id: int):
    """Sign an account out everywhere: every session and token ends and its sockets are disconnected,
    on every server process. Administrators for anyone; a user for their own other devices."""
    caller = require_user()
    ended = devices.sign_out_everywhere(db.session, service.get_user(db.session, user_id), caller,
                                        current=current_credential())
    return {"ended": ended}
