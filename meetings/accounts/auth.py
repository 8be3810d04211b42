"""Who is asking: browser sessions (Flask-Login) and bearer tokens.

Both end up as Flask-Login's ``current_user``, so every route and socket
event asks the same question the same way. Both are server-side credentials
(``meetings.accounts.sessions``): the cookie carries only a session id, and a
session or token that ended, idled out or grew too old is refused on the next
request or socket event. A browser whose cookie names an ended session gets
``Clear-Site-Data: "cache", "storage"``, so a lost tablet that is signed out
wipes its offline documents and outbox at its next contact.
"""
from __future__ import annotations

from flask import Flask, g, has_request_context, redirect, request, session, url_for
from flask_login import user_logged_in, user_logged_out

from meetings.accounts import hashing, sessions
from meetings.accounts.models import ApiToken, User
from meetings.accounts.session_models import UserSession
from meetings.accounts.token_cache import TokenSeen
from meetings.core.extensions import csrf, db, login_manager
from meetings.platform.http.caller import bearer_token
from meetings.platform.http.commit import afterwards
from meetings.platform.http.errors import error_response, is_api_request
from meetings.platform.realtime import gateway

_CREDENTIAL = "accounts_credential"  # on g: the key of the credential this request came with
_ENDED = "accounts_session_ended"    # on g: the cookie named a session that is over
# What Flask-Login keeps in the cookie session, dropped with an ended session.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", sessions.SESSION_KEY)
CLEAR_SITE_DATA = '"cache", "storage"'


def current_credential() -> str | None:
    """The key (``session-<id>`` / ``token-<id>``) of the credential of this request or socket."""
    return g.get(_CREDENTIAL) if has_request_context() else None


def session_ended() -> bool:
    """Whether this request's cookie named a browser session that is over."""
    return bool(g.get(_ENDED, False)) if has_request_context() else False


def note_seen(row: UserSession | ApiToken | TokenSeen) -> None:
    """This request uses ``row``: remember its key and, at most once a minute, write its
    last-seen time (and where from) once the request is over, never in a GET's transaction."""
    key = sessions.key_of(row)
    g.setdefault(_CREDENTIAL, key)
    if sessions.needs_touch(row):
        engine, ip, agent = db.engine, request.remote_addr, request.user_agent.string
        afterwards(lambda: sessions.touch(engine, key, ip=ip, user_agent=agent))


def _load_socket_user(user_id: int, credential: str | None) -> User | None:
    """Each socket event: the user, while the credential the socket connected with is live."""
    if not sessions.socket_credential_live(db.session, int(user_id), credential):
        return None
    user = db.session.get(User, int(user_id))
    # The credential's check reads the user's flag only when it is not remembered: read it here too.
    return user if user is not None and user.active else None


def _started(_app: Flask, user: User, **_: object) -> None:
    """Flask-Login logged ``user`` in (the password page, or a second factor after it): a new
    server-side session, its id in the cookie. A session the cookie named before is ended."""
    previous = session.get(sessions.SESSION_KEY)
    old = sessions.live_session(db.session, previous) if isinstance(previous, str) else None
    if old is not None:
        sessions.end(db.session, old.user_id, sessions.key_of(old), reason="replaced", actor_id=user.id)
    clear, row = sessions.start(db.session, user, user_agent=request.user_agent.string, ip=request.remote_addr)
    session[sessions.SESSION_KEY] = clear
    setattr(g, _CREDENTIAL, sessions.key_of(row))


def _ended(_app: Flask, user: User, **_: object) -> None:
    """Flask-Login logged out: the server-side session ends, with its sockets."""
    clear = session.pop(sessions.SESSION_KEY, None)
    row = sessions.live_session(db.session, clear) if isinstance(clear, str) else None
    if row is not None:
        sessions.end(db.session, row.user_id, sessions.key_of(row), reason="logout", actor_id=row.user_id)


def init_auth(app: Flask) -> None:
    hashing.configure(app.config)  # argon2 costs (refused below OWASP's minimum) and its thread pool
    login_manager.init_app(app)
    login_manager.login_view = "accounts_pages.login"
    login_manager.session_protection = "basic"
    user_logged_in.connect(_started)
    user_logged_out.connect(_ended)

    @login_manager.user_loader
    def _load(user_id: str | int) -> User | None:
        clear = session.get(sessions.SESSION_KEY)
        row = sessions.live_session(db.session, clear) if isinstance(clear, str) else None
        if row is None or str(row.user_id) != str(user_id):
            g.setdefault(_ENDED, True)  # a copied, logged-out, ended or expired cookie
            return None
        note_seen(row)
        return db.session.get(User, row.user_id)

    gateway.load_users_with(_load_socket_user)  # sockets re-check their credential on each event

    @login_manager.request_loader
    def _from_bearer(req) -> User | None:
        token = bearer_token()
        row = sessions.live_token(db.session, token) if token else None
        if row is None:
            return None
        note_seen(row)
        return db.session.get(User, row.user_id)

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

    @app.after_request
    def _wipe_ended_session(response):
        # The cookie named a session that is over: forget it, and have the browser drop what
        # the offline mode kept (static/js/core/offline.js does the same on session.revoked).
        if g.pop(_ENDED, False):
            for name in _LOGIN_KEYS:
                session.pop(name, None)
            response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response


# Obtaining a token uses a password, not a cookie, so it needs no CSRF token.
_CSRF_FREE_ENDPOINTS = {"accounts.issue_token"}
