"""REST: the units (departments) of a body and their members.

Any logged-in user may read a body's units (like its members: who answers for a
task is no secret inside the administration); only the body's office (an
administrator or its secretariat) changes them. The services check; the
request's commit point commits.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from meetings.bodies import service, units
from meetings.bodies.schemas import UnitMemberOut, UnitOut
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("units", __name__, description="Units (departments) of a body and their members")

Str = ma.fields.String


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={403: "Only the body's office may change its units",
                                                      409: "A unit of that name exists"})


@blp.before_request
def _authenticated_first() -> None:
    require_user()


class UnitPatch(ma.Schema):
    name = Str(validate=validate.Length(min=1, max=300), metadata={"description": "e.g. \"Sở Tài chính\""})
    short_name = Str(allow_none=True, validate=validate.Length(max=50))
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=320),
                            metadata={"description": "The unit's office address, for notices to the unit"})
    active = ma.fields.Boolean(metadata={"description": "false: out of service, gets no new tasks"})


class UnitCreate(UnitPatch):
    name = Str(required=True, validate=validate.Length(min=1, max=300))

    class Meta:
        exclude = ("active",)


class UnitQuery(ma.Schema):
    include_inactive = ma.fields.Boolean(load_default=False)


class UnitMemberIn(ma.Schema):
    user_id = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    is_head = ma.fields.Boolean(load_default=False, metadata={"description": "The unit's head (thủ trưởng)"})


@blp.route("/bodies/<int:body_id>/units")
@blp.arguments(UnitQuery, location="query")
@blp.response(200, UnitOut(many=True))
@_errors(404)
def list_units(query, body_id: int):
    """A body's units with their members (active ones unless include_inactive)."""
    require_user()
    return units.units_of(db.session, service.get_body(db.session, body_id),
                          include_inactive=query["include_inactive"])


@blp.route("/bodies/<int:body_id>/units", methods=["POST"])
@blp.arguments(UnitCreate)
@blp.response(201, UnitOut)
@_errors(403, 404, 409)
def create_unit(data, body_id: int):
    """Add a unit to a body (administrator or the body's secretariat)."""
    user = require_user()
    return units.create_unit(db.session, service.get_body(db.session, body_id), user, **data)


@blp.route("/units/<int:unit_id>")
@blp.response(200, UnitOut)
@_errors(404)
def get_unit(unit_id: int):
    """One unit with its members."""
    require_user()
    return units.get_unit(db.session, unit_id)


@blp.route("/units/<int:unit_id>", methods=["PATCH"])
@blp.arguments(UnitPatch)
@blp.response(200, UnitOut)
@_errors(403, 404, 409)
def update_unit(data, unit_id: int):
    """Rename a unit, change its e-mail, or (de)activate it."""
    user = require_user()
    return units.update_unit(db.session, units.get_unit(db.session, unit_id), user, **data)


@blp.route("/units/<int:unit_id>", methods=["DELETE"])
@blp.response(200, UnitOut)
@_errors(403, 404)
def deactivate_unit(unit_id: int):
    """Deactivate a unit (it is never deleted: its tasks keep naming it)."""
    user = require_user()
    return units.deactivate_unit(db.session, units.get_unit(db.session, unit_id), user)


@blp.route("/units/<int:unit_id>/members")
@blp.response(200, UnitMemberOut(many=True))
@_errors(404)
def list_unit_members(unit_id: int):
    """A unit's members, heads first."""
    require_user()
    return units.get_unit(db.session, unit_id).members_in_order


@blp.route("/units/<int:unit_id>/members", methods=["POST"])
@blp.arguments(UnitMemberIn)
@blp.response(201, UnitMemberOut, description="Member added")
@blp.alt_response(200, schema=UnitMemberOut, description="Existing member updated")
@_errors(403, 404)
def add_unit_member(data, unit_id: int):
    """Add a user to a unit, or change whether they head it."""
    user = require_user()
    member, created = units.set_unit_member(db.session, units.get_unit(db.session, unit_id), user, **data)
    return member, 201 if created else 200


@blp.route("/units/<int:unit_id>/members/<int:user_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404)
def remove_unit_member(unit_id: int, user_id: int):
    """Take a user out of a unit."""
    user = require_user()
    units.remove_unit_member(db.session, units.get_unit(db.session, unit_id), user, user_id=user_id)
