"""The office's page of a body's units: create, rename, deactivate them and say who works in each.

Thin, like every page: who may open it is the rule the REST applies to every change of a
unit (``units.can_manage_units``: an administrator or the body's secretariat); others get
the REST's answer, 403 (404 for a body that does not exist). The page renders a JSON boot
block with the body's units; static/js/units/main.js makes every change over REST
(/api/v1/bodies/<id>/units, /api/v1/units/<id>…) and reads the list back after each one.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import login_required

from meetings.bodies import service, units
from meetings.bodies.schemas import UnitOut
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user

bp = Blueprint("unit_pages", __name__)


@bp.route("/bodies/<int:body_id>/units")
@login_required
def units_page(body_id: int):
    """"Đơn vị": the body's units (inactive ones too) and their members, for the body's office."""
    user = require_user()
    body = service.get_body(db.session, body_id)  # 404 for an unknown body, as the REST
    if not units.can_manage_units(db.session, body, user):
        abort(403)
    boot = {"locale": str(get_locale() or "vi"), "body_id": body.id, "body_name": body.name,
            # What GET /api/v1/bodies/<id>/units answers, in the same schema: the script renders both alike.
            "units": UnitOut(many=True).dump(units.units_of(db.session, body, include_inactive=True))}
    return render_template("bodies/units.html", body=body, boot=boot)
