"""REST: tokens and users."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from meetings.accounts import service
from meetings.accounts.models import User
from meetings.accounts.schemas import TokenRequest, TokenResponse, UserCreate, UserOut, UserUpdate
from meetings.core.errors import Forbidden, NotFound, Unauthorized
from meetings.core.extensions import db, limiter
from meetings.platform.audit import service as audit
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
    user = service.authenticate(db.session, body["username"], body["password"])
    if user is None:
        db.session.rollback()
        raise Unauthorized("Wrong username or password.", code="bad_credentials")
    clear, row = service.issue_token(
        db.session, user, current_app.config["TOKEN_TTL_HOURS"], body.get("label")
    )
    db.session.commit()
    return {"token": clear, "expires_at": row.expires_at, "user_id": user.id}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the bearer token used for this call (log out a tablet)."""
    require_user()
    token = bearer_token()
    if token is None:
        raise Unauthorized("Only a bearer token can be revoked this way.")
    service.revoke_token(db.session, token)
    db.session.commit()


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
    return db.session.execute(select(User).order_by(User.full_name)).scalars().all()


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
@error_responses(blp, 403, 409)
def create_user(body):
    """Create a user (admin only)."""
    caller = require_user()
    if not caller.is_admin:
        raise Forbidden("Only an administrator can create users.")
    user = service.create_user(
        db.session, body["username"], body["password"], body["full_name"],
        email=body.get("email"), global_role=body.get("global_role"), actor_id=caller.id,
    )
    db.session.commit()
    return user


@blp.route("/users/<int:user_id>")
@blp.response(200, UserOut)
@error_responses(blp, 404)
def get_user(user_id: int):
    """One user."""
    require_user()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserUpdate)
@blp.response(200, UserOut)
@error_responses(blp, 403, 404)
def update_user(body, user_id: int):
    """Change a user: admins change anyone; users change their own name, email,
    language and password."""
    caller = require_user()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if not caller.is_admin:
        if caller.id != user.id or {"global_role", "active"} & body.keys():
            raise Forbidden("You may change only your own name, email, language and password.")
    for field in ("full_name", "email", "locale", "global_role", "active"):
        if field in body:
            setattr(user, field, body[field])
    if "password" in body:
        user.password_hash = service.hash_password(body["password"])
    audit.record(db.session, "user.updated", actor_id=caller.id, object_type="user",
                 object_id=user.id, details={"fields": sorted(k for k in body if k != "password")
                                             + (["password"] if "password" in body else [])})
    db.session.commit()
    return user
