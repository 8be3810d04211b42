"""The office's page of a body's units: create, rename, deactivate them and say who works in each.

Thin, like every page: who may open it is the rule the REST applies to every change of a
unit (``units.can_manage_units``: an administrator or the body's secretariat); others get
the REST's answer, 403 (404 for a body that does not exist). The page renders a JSON boot
block with the body's units; static/js/units/main.js makes every change over REST
(/api/v1/bodies/<id>/units, /api/v1/units/<id>…) and reads the list back after each one.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import login_required

from meetings.bodies import service, units
from meetings.bodies.unit_models import Unit
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user

bp = Blueprint("unit_pages", __name__)


def _unit(unit: Unit) -> dict[str, Any]:
    # The same fields GET /api/v1/bodies/<id>/units answers: the script renders both alike.
    return {"id": unit.id, "name": unit.name, "short_name": unit.short_name, "email": unit.email,
            "active": unit.active,
            "members": [{"user_id": m.user_id, "username": m.user.username, "full_name": m.user.full_name,
                         "is_head": m.is_head} for m in units.members_of_unit(unit)]}


@bp.route("/bodies/<int:body_id>/units")
@login_required
def units_page(body_id: int):
    """"Đơn vị": the body's units (inactive ones too) and their members, for the body's office."""
    user = require_user()
    body = service.get_body(db.session, body_id)  # 404 for an unknown body, as the REST
    if not units.can_manage_units(db.session, body, user):
        abort(403)
    boot = {"locale": str(get_locale() or "vi"), "body_id": body.id, "body_name": body.name,
            "units": [_unit(u) for u in units.units_of(db.session, body, include_inactive=True)]}
    return render_template("bodies/units.html", body=body, boot=boot)
