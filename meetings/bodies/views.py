"""REST: bodies, meetings, participants, agenda items.

Thin views: find the caller, load the object, check permission with
meetings.bodies.permissions, call the service, commit, shape the answer.
A caller who may not even see a meeting gets 404 (ids do not leak); one who
sees it but may not change it gets 403.
"""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.bodies import permissions, service
from meetings.bodies.models import AgendaItem, Body, Meeting, Participant
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
from meetings.core.errors import Forbidden, Invalid, NotFound
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


def _not_empty(changes: dict) -> None:
    if not changes:
        raise Invalid("Nothing to change.")


# ------------------------------------------------------------------ loading and permission

def _body(body_id: int) -> Body:
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound("No such body.")
    return body


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only an administrator can change bodies.")


def _require_prepare(meeting: Meeting, user: User) -> None:
    if not permissions.can_prepare(meeting, user):
        raise Forbidden("Only the meeting's secretariat can change this.")


def _visible_item(user: User, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or not permissions.can_view(item.meeting, user):
        raise NotFound("No such agenda item.")
    return item


def _participant(meeting: Meeting, participant_id: int) -> Participant:
    participant = next((p for p in meeting.participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound("No such participant in this meeting.")
    return participant


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
    return [item_dict(top, subs) for top, subs in service.agenda_tree(meeting)]


_ROLE_ORDER = {"chair": 0, "secretary": 1, "delegate": 2, "observer": 3}


def _participants(meeting: Meeting) -> list[Participant]:
    return sorted(meeting.participants, key=lambda p: (_ROLE_ORDER.get(p.role, 9), p.user.full_name, p.id))


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
    return db.session.execute(select(Body).order_by(Body.name)).scalars().all()


@blp.route("/bodies", methods=["POST"])
@blp.arguments(BodyCreate)
@blp.response(201, BodyOut)
@_errors(403, 409)
def create_body(data):
    """Create a body (administrator only)."""
    user = require_user()
    _require_admin(user)
    body = service.create_body(db.session, data, actor_id=user.id)
    db.session.commit()
    return body


@blp.route("/bodies/<int:body_id>")
@blp.response(200, BodyOut)
@_errors(404)
def get_body(body_id: int):
    """One body."""
    require_user()
    return _body(body_id)


@blp.route("/bodies/<int:body_id>", methods=["PATCH"])
@blp.arguments(BodyPatch)
@blp.response(200, BodyOut)
@_errors(403, 404, 409)
def update_body(data, body_id: int):
    """Change a body (administrator only)."""
    user = require_user()
    body = _body(body_id)
    _require_admin(user)
    _not_empty(data)
    service.update_body(db.session, body, data, actor_id=user.id)
    db.session.commit()
    return body


@blp.route("/bodies/<int:body_id>/members")
@blp.response(200, MemberOut(many=True))
@_errors(404)
def list_members(body_id: int):
    """A body's members with their positions and secretariat flag."""
    require_user()
    return sorted(_body(body_id).members, key=lambda m: (m.user.full_name, m.id))


@blp.route("/bodies/<int:body_id>/members", methods=["POST"])
@blp.arguments(MemberIn)
@blp.response(201, MemberOut, description="Member added")
@blp.alt_response(200, schema=MemberOut, description="Existing membership updated")
@_errors(403, 404)
def add_member(data, body_id: int):
    """Add a member to a body, or update an existing member's position and secretariat flag."""
    user = require_user()
    body = _body(body_id)
    _require_admin(user)
    member, created = service.set_body_member(db.session, body, data["user_id"], position=data.get("position"),
                                              is_secretariat=data["is_secretariat"], actor_id=user.id)
    db.session.commit()
    return member, 201 if created else 200


@blp.route("/bodies/<int:body_id>/members/<int:user_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404)
def remove_member(body_id: int, user_id: int):
    """Remove a member from a body."""
    user = require_user()
    body = _body(body_id)
    _require_admin(user)
    service.remove_body_member(db.session, body, user_id, actor_id=user.id)
    db.session.commit()


# ------------------------------------------------------------------ meetings

@blp.route("/meetings")
@blp.arguments(MeetingQuery, location="query")
@blp.response(200, MeetingOut(many=True))
def list_meetings(args):
    """The meetings the caller may see, by start time; filter by status, body and start date."""
    user = require_user()
    query = service.visible_meetings(user)
    if "status" in args:
        query = query.where(Meeting.status == args["status"])
    if "body_id" in args:
        query = query.where(Meeting.body_id == args["body_id"])
    if "from_" in args:
        query = query.where(Meeting.starts_at >= args["from_"])
    if "to" in args:
        query = query.where(Meeting.starts_at < args["to"])
    return db.session.execute(query.order_by(Meeting.starts_at, Meeting.id)).scalars().all()


@blp.route("/meetings", methods=["POST"])
@blp.arguments(MeetingCreate)
@blp.response(201, MeetingOut)
@_errors(403)
def create_meeting(data):
    """Create a draft meeting (administrator, or a secretariat member of that body)."""
    user = require_user()
    body = db.session.get(Body, data["body_id"])
    if body is None:
        raise Invalid("There is no such body.", code="unknown_body")
    if not (user.is_admin or any(m.user_id == user.id and m.is_secretariat for m in body.members)):
        raise Forbidden("Only an administrator or the body's secretariat can create its meetings.")
    meeting = service.create_meeting(db.session, data, actor_id=user.id)
    db.session.commit()
    return meeting


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
        participants=_participants(meeting),
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
    _require_prepare(meeting, user)
    _not_empty(data)
    service.update_meeting(db.session, meeting, data, actor_id=user.id)
    db.session.commit()
    return meeting


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
    preparing = "draft" in (meeting.status, data["status"])
    allowed = permissions.can_prepare if preparing else permissions.can_run
    if not allowed(meeting, user):
        raise Forbidden("You may not change this meeting's status.")
    service.change_status(db.session, meeting, data["status"], actor_id=user.id)
    db.session.commit()
    return meeting


# ------------------------------------------------------------------ participants

@blp.route("/meetings/<int:meeting_id>/participants")
@blp.response(200, ParticipantOut(many=True))
@_errors(404)
def list_participants(meeting_id: int):
    """Who takes part, with roles and voting rights (chair first)."""
    user = require_user()
    return _participants(permissions.visible_meeting(db.session, meeting_id, user))


@blp.route("/meetings/<int:meeting_id>/participants", methods=["POST"])
@blp.arguments(ParticipantCreate)
@blp.response(201, ParticipantOut)
@_errors(403, 404, 409)
def add_participant(data, meeting_id: int):
    """Invite a user with a role (at most one chair; observers never vote)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    _require_prepare(meeting, user)
    participant = service.add_participant(
        db.session, meeting, data["user_id"], role=data["role"], can_vote=data.get("can_vote"),
        vote_weight=data["vote_weight"], actor_id=user.id)
    db.session.commit()
    return participant


@blp.route("/meetings/<int:meeting_id>/participants/<int:participant_id>", methods=["PATCH"])
@blp.arguments(ParticipantPatch)
@blp.response(200, ParticipantOut)
@_errors(403, 404, 409)
def update_participant(data, meeting_id: int, participant_id: int):
    """Change a participant's role, voting right or vote weight."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    _require_prepare(meeting, user)
    participant = _participant(meeting, participant_id)
    _not_empty(data)
    service.update_participant(db.session, participant, data, actor_id=user.id)
    db.session.commit()
    return participant


@blp.route("/meetings/<int:meeting_id>/participants/<int:participant_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def remove_participant(meeting_id: int, participant_id: int):
    """Remove a participant from the meeting."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    _require_prepare(meeting, user)
    service.remove_participant(db.session, _participant(meeting, participant_id), actor_id=user.id)
    db.session.commit()


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
    _require_prepare(meeting, user)
    item = service.create_item(db.session, meeting, data, actor_id=user.id)
    db.session.commit()
    return item_dict(item, [] if item.parent_id is None else None)


@blp.route("/items/<int:item_id>", methods=["PATCH"])
@blp.arguments(ItemPatch)
@blp.response(200, ItemOut)
@_errors(403, 404, 409)
def update_item(data, item_id: int):
    """Change an item. The chair may set only its status and conclusion; the rest is the secretariat's."""
    user = require_user()
    item = _visible_item(user, item_id)
    running_only = set(data) <= service.ITEM_RUN_FIELDS
    allowed = permissions.can_run if running_only else permissions.can_prepare
    if not allowed(item.meeting, user):
        raise Forbidden("You may not change this agenda item.")
    _not_empty(data)
    service.update_item(db.session, item, data, actor_id=user.id)
    db.session.commit()
    subs = service.level(item.meeting, item.id) if item.parent_id is None else None
    return item_dict(item, subs)


@blp.route("/items/<int:item_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_item(item_id: int):
    """Delete an item and its sub-items."""
    user = require_user()
    item = _visible_item(user, item_id)
    _require_prepare(item.meeting, user)
    service.delete_item(db.session, item, actor_id=user.id)
    db.session.commit()


@blp.route("/meetings/<int:meeting_id>/items/order", methods=["POST"])
@blp.arguments(OrderIn)
@blp.response(200, ItemOut(many=True))
@_errors(403, 404, 409)
def reorder_items(data, meeting_id: int):
    """Order one level of the agenda: ``ids`` lists every item of that level (parent_id null = top level)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    _require_prepare(meeting, user)
    ordered = service.reorder_items(db.session, meeting, data["parent_id"], data["ids"], actor_id=user.id)
    db.session.commit()
    return [item_dict(i, service.level(meeting, i.id) if i.parent_id is None else None) for i in ordered]
