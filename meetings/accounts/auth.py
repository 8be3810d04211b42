"""Who is asking: browser sessions (Flask-Login) and bearer tokens.

Both end up as Flask-Login's ``current_user``, so every route and socket
event asks the same question the same way.
"""
from __future__ import annotations

from flask import Flask, redirect, request, session, url_for

from meetings.accounts.models import User
from meetings.accounts.service import user_for_token
from meetings.core.extensions import csrf, db, login_manager
from meetings.platform.http.caller import bearer_token
from meetings.platform.http.errors import error_response, is_api_request
from meetings.platform.realtime import gateway


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts_pages.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(user_id: str | int) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    gateway.load_users_with(_load)  # sockets re-read their user the same way

    @login_manager.request_loader
    def _from_bearer(req) -> User | None:
        token = bearer_token()
        return user_for_token(db.session, token) if token else None

    @login_manager.unauthorized_handler
    def _unauthorized():
        if is_api_request():
            return error_response(401, "unauthorized", "Log in or send a bearer token.")
        return redirect(url_for("accounts_pages.login", next=request.full_path))

    @app.before_request
    def _csrf_for_cookie_sessions():
        # Bearer-token calls cannot be forged by another site; cookie calls can.
        if not is_api_request() or request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.routing_exception is not None or request.endpoint in _CSRF_FREE_ENDPOINTS:
            return  # 404/405 answer as such; nothing will run
        if bearer_token() is None and session.get("_user_id") is not None:
            csrf.protect()


# Obtaining a token uses a password, not a cookie, so it needs no CSRF token.
_CSRF_FREE_ENDPOINTS = {"accounts.issue_token"}
