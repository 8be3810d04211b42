"""REST: bodies, meetings, participants, agenda items.

Thin views: find the caller, load the object they name (a meeting or item
the caller may not even see is a 404, so ids do not leak), call one service,
shape the answer. The services check permission (403 for one who sees but
may not change); the request's commit point commits.
"""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from meetings.bodies import agenda, participants, permissions, service, sittings
from meetings.bodies.models import AgendaItem, Meeting
from meetings.bodies.schemas import (
    BodyCreate,
    BodyOut,
    BodyPatch,
    ItemCreate,
    ItemOut,
    ItemPatch,
    MeetingCreate,
    MeetingDetail,
    MeetingOut,
    MeetingPatch,
    MeetingQuery,
    MemberIn,
    MemberOut,
    OrderIn,
    ParticipantCreate,
    ParticipantOut,
    ParticipantPatch,
    StatusIn,
)
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("agenda", __name__, description="Bodies, meetings, participants and agenda items")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={403: "You may see this but not change it",
                                                      409: "The change conflicts with the object's state"})

@blp.before_request
def _authenticated_first() -> None:
    # Anonymous callers get 401 before their JSON is even parsed (each view checks again).
    require_user()


# ------------------------------------------------------------------ shaping

def item_dict(item: AgendaItem, sub_items: list[AgendaItem] | None = None) -> dict[str, Any]:
    """An agenda item as REST shows it (presenter's name included)."""
    data = {k: getattr(item, k) for k in ("id", "meeting_id", "parent_id", "position", "title", "description",
                                          "presenter_id", "planned_minutes", "status", "conclusion")}
    data["presenter_name"] = item.presenter.full_name if item.presenter else None
    if sub_items is not None:
        data["sub_items"] = [item_dict(s) for s in sub_items]
    return data


def _agenda(meeting: Meeting) -> list[dict[str, Any]]:
    return [item_dict(top, subs) for top, subs in agenda.agenda_tree(meeting)]


def _with_subs(item: AgendaItem) -> dict[str, Any]:
    # Top-level items carry their sub-items; sub-items carry none.
    return item_dict(item, agenda.level(item.meeting, item.id) if item.parent_id is None else None)


class _Detail:
    """A meeting plus per-caller extras, read by MeetingDetail like the meeting itself."""

    def __init__(self, meeting: Meeting, **extra: Any) -> None:
        self._meeting = meeting
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._meeting, name)


# ------------------------------------------------------------------ bodies

@blp.route("/bodies")
@blp.response(200, BodyOut(many=True))
def list_bodies():
    """Every body (any logged-in user; secretariats choose from them)."""
    require_user()
    return service.all_bodies(db.session)


@blp.route("/bodies", methods=["POST"])
@blp.arguments(BodyCreate)
@blp.response(201, BodyOut)
@_errors(403, 409)
def create_body(data):
    """Create a body (administrator only)."""
    return service.create_body(db.session, require_user(), **data)


@blp.route("/bodies/<int:body_id>")
@blp.response(200, BodyOut)
@_errors(404)
def get_body(body_id: int):
    """One body."""
    require_user()
    return service.get_body(db.session, body_id)


@blp.route("/bodies/<int:body_id>", methods=["PATCH"])
@blp.arguments(BodyPatch)
@blp.response(200, BodyOut)
@_errors(403, 404, 409)
def update_body(data, body_id: int):
    """Change a body (administrator only)."""
    user = require_user()
    return service.update_body(db.session, service.get_body(db.session, body_id), user, **data)


@blp.route("/bodies/<int:body_id>/members")
@blp.response(200, MemberOut(many=True))
@_errors(404)
def list_members(body_id: int):
    """A body's members with their positions and secretariat flag."""
    require_user()
    return service.members_of(service.get_body(db.session, body_id))


@blp.route("/bodies/<int:body_id>/members", methods=["POST"])
@blp.arguments(MemberIn)
@blp.response(201, MemberOut, description="Member added")
@blp.alt_response(200, schema=MemberOut, description="Existing membership updated")
@_errors(403, 404)
def add_member(data, body_id: int):
    """Add a member to a body, or update an existing member's position and secretariat flag."""
    user = require_user()
    member, created = service.set_body_member(db.session, service.get_body(db.session, body_id), user, **data)
    return member, 201 if created else 200


@blp.route("/bodies/<int:body_id>/members/<int:user_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404)
def remove_member(body_id: int, user_id: int):
    """Remove a member from a body."""
    user = require_user()
    service.remove_body_member(db.session, service.get_body(db.session, body_id), user, user_id=user_id)


# ------------------------------------------------------------------ meetings

@blp.route("/meetings")
@blp.arguments(MeetingQuery, location="query")
@blp.response(200, MeetingOut(many=True))
def list_meetings(args):
    """The meetings the caller may see, by start time; filter by status, body and start date."""
    return sittings.meetings_for(db.session, require_user(), **args)


@blp.route("/meetings", methods=["POST"])
@blp.arguments(MeetingCreate)
@blp.response(201, MeetingOut)
@_errors(403)
def create_meeting(data):
    """Create a draft meeting (administrator, or a secretariat member of that body)."""
    return sittings.create_meeting(db.session, require_user(), **data)


@blp.route("/meetings/<int:meeting_id>")
@blp.response(200, MeetingDetail)
@_errors(404)
def get_meeting(meeting_id: int):
    """A meeting with its participants, its agenda (sub-items nested) and what the caller may do."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    mine = permissions.participant_of(meeting, user)
    return _Detail(
        meeting,
        participants=participants.in_role_order(meeting),
        agenda=_agenda(meeting),
        my_role=mine.role if mine else None,
        can_prepare=permissions.can_prepare(meeting, user),
        can_run=permissions.can_run(meeting, user),
    )


@blp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@blp.arguments(MeetingPatch)
@blp.response(200, MeetingOut)
@_errors(403, 404, 409)
def update_meeting(data, meeting_id: int):
    """Change a meeting's details (its secretariat)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return sittings.update_meeting(db.session, meeting, user, **data)


@blp.route("/meetings/<int:meeting_id>/status", methods=["POST"])
@blp.arguments(StatusIn)
@blp.response(200, MeetingOut)
@_errors(403, 404, 409)
def change_status(data, meeting_id: int):
    """Move the meeting along draft → scheduled → in_progress → adjourned → closed.

    Publishing (draft ↔ scheduled) is for the secretariat; starting, adjourning,
    resuming and closing also for the chair.
    """
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return sittings.change_status(db.session, meeting, user, status=data["status"])


# ------------------------------------------------------------------ participants

@blp.route("/meetings/<int:meeting_id>/participants")
@blp.response(200, ParticipantOut(many=True))
@_errors(404)
def list_participants(meeting_id: int):
    """Who takes part, with roles and voting rights (chair first)."""
    user = require_user()
    return participants.in_role_order(permissions.visible_meeting(db.session, meeting_id, user))


@blp.route("/meetings/<int:meeting_id>/participants", methods=["POST"])
@blp.arguments(ParticipantCreate)
@blp.response(201, ParticipantOut)
@_errors(403, 404, 409)
def add_participant(data, meeting_id: int):
    """Invite a user with a role (at most one chair; observers never vote)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return participants.add_participant(db.session, meeting, user, **data)


@blp.route("/meetings/<int:meeting_id>/participants/<int:participant_id>", methods=["PATCH"])
@blp.arguments(ParticipantPatch)
@blp.response(200, ParticipantOut)
@_errors(403, 404, 409)
def update_participant(data, meeting_id: int, participant_id: int):
    """Change a participant's role, voting right or vote weight."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return participants.update_participant(db.session, meeting, user, participant_id=participant_id, **data)


@blp.route("/meetings/<int:meeting_id>/participants/<int:participant_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def remove_participant(meeting_id: int, participant_id: int):
    """Remove a participant from the meeting."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    participants.remove_participant(db.session, meeting, user, participant_id=participant_id)


# ------------------------------------------------------------------ agenda items

@blp.route("/meetings/<int:meeting_id>/items")
@blp.response(200, ItemOut(many=True))
@_errors(404)
def list_items(meeting_id: int):
    """The agenda in order, sub-items nested under their parent."""
    user = require_user()
    return _agenda(permissions.visible_meeting(db.session, meeting_id, user))


@blp.route("/meetings/<int:meeting_id>/items", methods=["POST"])
@blp.arguments(ItemCreate)
@blp.response(201, ItemOut)
@_errors(403, 404, 409)
def create_item(data, meeting_id: int):
    """Add an item at the end of the agenda, or of a top-level item's sub-items."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    item = agenda.create_item(db.session, meeting, user, **data)
    return item_dict(item, [] if item.parent_id is None else None)


@blp.route("/items/<int:item_id>", methods=["PATCH"])
@blp.arguments(ItemPatch)
@blp.response(200, ItemOut)
@_errors(403, 404, 409)
def update_item(data, item_id: int):
    """Change an item. The chair may set only its status and conclusion; the rest is the secretariat's."""
    user = require_user()
    item = permissions.visible_item(db.session, item_id, user)
    return _with_subs(agenda.update_item(db.session, item, user, **data))


@blp.route("/items/<int:item_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_item(item_id: int):
    """Delete an item and its sub-items."""
    user = require_user()
    agenda.delete_item(db.session, permissions.visible_item(db.session, item_id, user), user)


@blp.route("/meetings/<int:meeting_id>/items/order", methods=["POST"])
@blp.arguments(OrderIn)
@blp.response(200, ItemOut(many=True))
@_errors(403, 404, 409)
def reorder_items(data, meeting_id: int):
    """Order one level of the agenda: ``ids`` lists every item of that level (parent_id null = top level)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return [_with_subs(i) for i in agenda.reorder_items(db.session, meeting, user, **data)]
