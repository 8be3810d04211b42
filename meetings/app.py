"""The paperless meeting-room server.

``create_app()`` builds the Flask application; ``wsgi.py`` serves it with
gunicorn's gevent worker and Flask-SocketIO.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, jsonify

from meetings.core.config import PROJECT_ROOT, load_settings
from meetings.core.extensions import babel, csrf, db, limiter, socketio


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application from the environment (and ``overrides``)."""
    settings = load_settings(overrides)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.config["STORAGE_PATH"]).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or _instance_secret(app.instance_path)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    # Flask's defaults exist (as None), so these are set, not defaulted.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # a meeting day is long; the session bounds it

    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app)
    from meetings.core.i18n import init_i18n  # locale: the user's setting, else Accept-Language, else vi

    init_i18n(app)
    _init_socketio(app)

    from meetings.accounts.auth import init_auth
    from meetings.api import init_api
    from meetings.cli import init_cli
    from meetings.core.security import init_security
    from meetings.platform.http.commit import init_commit_point
    from meetings.web import init_pages

    _connect_signal_receivers()
    init_auth(app)
    init_api(app)
    init_pages(app)
    init_security(app)
    init_cli(app)
    _register_health(app)
    init_commit_point(app)  # last: it must run before the other after-request hooks
    return app


def _connect_signal_receivers() -> None:
    """Import the modules that connect receivers to domain signals (meetings/platform/signals.py)."""
    from meetings.annotations import receivers  # noqa: F401  (document replaced / opened)
    from meetings.bodies import directory  # noqa: F401  (registers the user directory's scope with accounts)
    from meetings.notifications import receivers as _notifications  # noqa: F401  (outbox, delivery, signals)
    from meetings.opinions import reminders as _opinions  # noqa: F401  (opinion deadlines, closing at them)
    from meetings.tasks import reminders as _tasks  # noqa: F401  (the periodic task reminders)


def _instance_secret(instance_path: str) -> str:
    # A stable key per installation, so sessions survive a restart without setup.
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_socketio(app: Flask) -> None:
    import socketio as sio

    kwargs = {}
    url = app.config["SOCKETIO_MESSAGE_QUEUE"]
    if url:
        # redis-py 8 defaults socket_timeout to a finite value, which kills the
        # idle pub/sub listener; None keeps it waiting for messages.
        kwargs["client_manager"] = sio.RedisManager(url, channel=app.config["SOCKETIO_CHANNEL"],
                                                    redis_options={"socket_timeout": None})
    # Import the domains' handlers BEFORE init_app: Flask-SocketIO keeps handlers
    # registered while it has no server and gives them to every server init_app
    # makes (one per app); imported afterwards, they would reach only the first app.
    from meetings.accounts import events as _account_events  # noqa: F401
    from meetings.annotations import events as _annotation_events  # noqa: F401
    from meetings.live import events as _live_events  # noqa: F401
    from meetings.platform.realtime.transport import server_options
    from meetings.voting import events as _voting_events  # noqa: F401

    # Origin allow-list, frame and payload limits, quiet logs for malformed packets.
    socketio.init_app(app, async_mode="gevent", **server_options(app.config), **kwargs)


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """Reports whether the database and the file storage answer."""
        from sqlalchemy import text

        checks = {}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # the point is to report it, not to crash
            checks["database"] = f"error: {type(exc).__name__}"
        storage = Path(app.config["STORAGE_PATH"])
        checks["storage"] = "ok" if storage.is_dir() and os.access(storage, os.W_OK) else "error: not writable"
        ok = all(v == "ok" for v in checks.values())
        return jsonify({"status": "ok" if ok else "degraded", "checks": checks}), 200 if ok else 503
