"""REST: tokens and users. Each view parses, calls one accounts service, shapes the answer."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from meetings.accounts import service
from meetings.accounts.schemas import TokenRequest, TokenResponse, UserCreate, UserOut, UserUpdate
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
    """All users (admin and secretariat staff choose participants from this list)."""
    require_user()
    return service.all_users(db.session)


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
    """One user."""
    require_user()
    return service.get_user(db.session, user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserUpdate)
@blp.response(200, UserOut)
@error_responses(blp, 403, 404)
def update_user(body, user_id: int):
    """Change a user: admins change anyone; users change their own name, email,
    language and password."""
    caller = require_user()
    return service.update_user(db.session, service.get_user(db.session, user_id), caller, **body)
