"""Language of each request: the user's own setting, else the browser's
Accept-Language, else the installation default (Vietnamese).

Flask-Babel is bound in create_app(); ``init_i18n`` gives it the selector,
the catalogues in meetings/translations and the hall's time zone, and puts
``lang`` on ``g`` so templates set ``<html lang>``.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import get_babel, get_locale
from flask_login import current_user

SUPPORTED = ("vi", "en")


def select_locale() -> str:
    """The locale for this request (see the module docstring for the order)."""
    user = current_user._get_current_object() if current_user else None
    chosen = getattr(user, "locale", None) if user is not None and user.is_authenticated else None
    if chosen in SUPPORTED:
        return chosen
    best = request.accept_languages.best_match(SUPPORTED) if request else None
    return best or current_app.config.get("DEFAULT_LOCALE", "vi")


def init_i18n(app: Flask) -> None:
    """Attach the locale selector and defaults to the app's Flask-Babel setup."""
    conf = get_babel(app)
    conf.locale_selector = select_locale
    conf.default_locale = app.config.get("DEFAULT_LOCALE", "vi")
    # Meetings happen in Vietnam unless told otherwise: show times in the hall's zone.
    conf.default_timezone = app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")

    @app.before_request
    def _lang() -> None:
        g.lang = str(get_locale() or conf.default_locale)

    @app.context_processor
    def _locale_context() -> dict:
        return {"supported_locales": SUPPORTED}
