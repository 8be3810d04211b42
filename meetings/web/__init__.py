"""Server-rendered pages (login, meetings); the tablet app grows from here."""
from __future__ import annotations

from flask import Flask


def init_pages(app: Flask) -> None:
    from meetings.accounts.pages import bp as accounts_pages
    from meetings.agenda.pages import bp as agenda_pages

    app.register_blueprint(accounts_pages)
    app.register_blueprint(agenda_pages)
