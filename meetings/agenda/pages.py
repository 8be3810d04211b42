"""Meeting pages for browsers (placeholder; filled in with the agenda views)."""
from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("agenda_pages", __name__)


@bp.route("/")
@login_required
def my_meetings():
    return "meetings"
