"""REST: copies of meetings, a body's templates, its monthly regular sitting, document slots, agenda moves.

Thin views, as in ``views.py``: find the caller, load what they name (a meeting
or item they may not see is a 404), call one service, shape the answer.
"""
from __future__ import annotations

from flask_smorest import Blueprint

from meetings.bodies import agenda, permissions, regular, service, slots, templates
from meetings.bodies.schemas import ItemOut, MeetingOut
from meetings.bodies.template_schemas import (
    CopyIn,
    FromTemplateIn,
    MoveIn,
    RegularIn,
    RegularPlanOut,
    SlotIn,
    SlotOut,
    SlotPatch,
    TemplateOut,
    TemplatePatch,
    TemplateSave,
)
from meetings.bodies.views import item_dict
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("meeting_templates", __name__,
                description="Meeting copies and templates, regular sittings, document slots, agenda moves")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={403: "You may see this but not change it",
                                                      409: "The change conflicts with the object's state"})


@blp.before_request
def _authenticated_first() -> None:
    require_user()


# ------------------------------------------------------------------ copies and templates

@blp.route("/meetings/<int:meeting_id>/copy", methods=["POST"])
@blp.arguments(CopyIn)
@blp.response(201, MeetingOut)
@_errors(403, 404)
def copy_meeting(data, meeting_id: int):
    """A new draft meeting like this one at a new date: agenda skeleton with document slots,
    participants and roles, settings (not conclusions, statuses or documents)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return templates.copy_meeting(db.session, meeting, user, **data)


@blp.route("/meetings/<int:meeting_id>/template", methods=["POST"])
@blp.arguments(TemplateSave)
@blp.response(201, TemplateOut, description="Template created")
@blp.alt_response(200, schema=TemplateOut, description="The body's template of that name replaced")
@_errors(403, 404)
def save_template(data, meeting_id: int):
    """Save this meeting as a template of its body (replacing the body's template of the same name)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    template, created = templates.save_template(db.session, meeting, user, **data)
    return template, 201 if created else 200


@blp.route("/bodies/<int:body_id>/templates")
@blp.response(200, TemplateOut(many=True))
@_errors(403, 404)
def list_templates(body_id: int):
    """The body's meeting templates, its regular one first (administrators and the body's secretariat)."""
    user = require_user()
    return templates.templates_of(db.session, service.get_body(db.session, body_id), user)


@blp.route("/templates/<int:template_id>")
@blp.response(200, TemplateOut)
@_errors(403, 404)
def get_template(template_id: int):
    """One template with its content."""
    return templates.get_template(db.session, template_id, require_user())


@blp.route("/templates/<int:template_id>", methods=["PATCH"])
@blp.arguments(TemplatePatch)
@blp.response(200, TemplateOut)
@_errors(403, 404, 409)
def update_template(data, template_id: int):
    """Rename a template, make it the regular one, change its date rule, local time, length or title pattern."""
    user = require_user()
    return templates.update_template(db.session, templates.get_template(db.session, template_id, user), user, **data)


@blp.route("/templates/<int:template_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404)
def delete_template(template_id: int):
    """Delete a template; the meetings made from it stay."""
    user = require_user()
    templates.delete_template(db.session, templates.get_template(db.session, template_id, user), user)


@blp.route("/templates/<int:template_id>/meetings", methods=["POST"])
@blp.arguments(FromTemplateIn)
@blp.response(201, MeetingOut)
@_errors(403, 404)
def meeting_from_template(data, template_id: int):
    """A new draft meeting of the template's body from the template."""
    user = require_user()
    return templates.meeting_from_template(db.session, templates.get_template(db.session, template_id, user),
                                           user, **data)


# ------------------------------------------------------------------ the regular sitting

@blp.route("/bodies/<int:body_id>/regular-sittings/next")
@blp.response(200, RegularPlanOut)
@_errors(403, 404, 409)
def plan_regular(body_id: int):
    """Next month's regular sitting as it would be made (title, date by the template's rule, source)."""
    user = require_user()
    return regular.plan_next(db.session, service.get_body(db.session, body_id), user)


@blp.route("/bodies/<int:body_id>/regular-sittings", methods=["POST"])
@blp.arguments(RegularIn)
@blp.response(201, MeetingOut)
@_errors(403, 404, 409)
def create_regular(data, body_id: int):
    """Make the regular sitting of ``year``/``month`` (default: the planned one) as a draft; 409 if it exists."""
    user = require_user()
    return regular.create_next(db.session, service.get_body(db.session, body_id), user, **data)


# ------------------------------------------------------------------ document slots

@blp.route("/meetings/<int:meeting_id>/slots")
@blp.response(200, SlotOut(many=True))
@_errors(403, 404)
def list_slots(meeting_id: int):
    """The documents each agenda item expects (the secretariat and the chair)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    slots.require_view(meeting, user)
    return slots.slots_of(db.session, meeting)


@blp.route("/items/<int:item_id>/slots", methods=["POST"])
@blp.arguments(SlotIn)
@blp.response(201, SlotOut)
@_errors(403, 404, 409)
def add_slot(data, item_id: int):
    """Say that an item expects a document of this title."""
    user = require_user()
    return slots.add_slot(db.session, permissions.visible_item(db.session, item_id, user), user, **data)


@blp.route("/slots/<int:slot_id>", methods=["PATCH"])
@blp.arguments(SlotPatch)
@blp.response(200, SlotOut)
@_errors(403, 404, 409)
def update_slot(data, slot_id: int):
    """Rename a document slot."""
    user = require_user()
    return slots.update_slot(db.session, slots.visible_slot(db.session, slot_id, user), user, **data)


@blp.route("/slots/<int:slot_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_slot(slot_id: int):
    """Remove a document slot."""
    user = require_user()
    slots.delete_slot(db.session, slots.visible_slot(db.session, slot_id, user), user)


# ------------------------------------------------------------------ agenda moves

@blp.route("/items/<int:item_id>/move", methods=["POST"])
@blp.arguments(MoveIn)
@blp.response(200, ItemOut(many=True), description="The whole agenda after the move")
@_errors(403, 404, 409)
def move_item(data, item_id: int):
    """Move an item (a sub-item to another item, or to the top level) to a place, in one change."""
    user = require_user()
    item = agenda.move_item(db.session, permissions.visible_item(db.session, item_id, user), user, **data)
    return [item_dict(top, subs) for top, subs in agenda.agenda_tree(item.meeting)]
