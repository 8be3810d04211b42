"""REST shapes of the bodies domain (marshmallow; unknown fields are refused)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.bodies.models import CONFIDENTIALITY, ITEM_STATUSES, MEETING_STATUSES, PARTICIPANT_ROLES
from meetings.platform.http.schemas import UtcDateTime

Int = ma.fields.Integer
Str = ma.fields.String


def _id(**kw) -> ma.fields.Integer:
    # strict: "5" or 5.0 is a type error, not an id
    # bounded: a larger id overflows SQLite's driver (a 500 found by tests/fuzz)
    return Int(strict=True, validate=validate.Range(min=1, max=2**31 - 1), **kw)


# ----------------------------------------------------------------- bodies

class BodyPatch(ma.Schema):
    name = Str(validate=validate.Length(min=1, max=300))
    short_name = Str(allow_none=True, validate=validate.Length(max=50))
    parent_name = Str(allow_none=True, validate=validate.Length(max=300))
    description = Str(allow_none=True, validate=validate.Length(max=20000))
    quorum_numerator = Int(strict=True, validate=validate.Range(min=1, max=1000))
    quorum_denominator = Int(strict=True, validate=validate.Range(min=1, max=1000))
    place_name = Str(allow_none=True, validate=validate.Length(max=100),
                     metadata={"description": "Locality on the date line: \"Lâm Đồng, ngày … tháng … năm …\"."})
    minutes_copies = Int(strict=True, validate=validate.Range(min=1, max=100),
                         metadata={"description": "\"Biên bản được lập thành … bản\"."})
    minutes_recipients = ma.fields.List(Str(validate=validate.Length(min=1, max=300)),
                                        validate=validate.Length(max=50),
                                        metadata={"description": "Default \"Nơi nhận\" lines."})
    minutes_undiscussed = Str(validate=validate.OneOf(("mark", "omit")),
                              metadata={"description": "Items never discussed: marked so, or left out."})


class BodyCreate(BodyPatch):
    name = Str(required=True, validate=validate.Length(min=1, max=300))


class BodyOut(ma.Schema):
    id = Int(required=True)
    name = Str(required=True)
    short_name = Str(allow_none=True)
    parent_name = Str(allow_none=True)
    description = Str(allow_none=True)
    quorum_numerator = Int()
    quorum_denominator = Int()
    place_name = Str(allow_none=True)
    minutes_copies = Int()
    minutes_recipients = ma.fields.List(Str())
    minutes_undiscussed = Str()


class MemberIn(ma.Schema):
    user_id = _id(required=True)
    position = Str(allow_none=True, validate=validate.Length(max=200))
    is_secretariat = ma.fields.Boolean(load_default=False)


class MemberOut(ma.Schema):
    user_id = Int(required=True)
    username = Str(attribute="user.username")
    full_name = Str(attribute="user.full_name")
    position = Str(allow_none=True)
    is_secretariat = ma.fields.Boolean()


# ----------------------------------------------------------------- meetings

class MeetingPatch(ma.Schema):
    title = Str(validate=validate.Length(min=1, max=500))
    description = Str(allow_none=True, validate=validate.Length(max=20000))
    place = Str(allow_none=True, validate=validate.Length(max=300))
    starts_at = UtcDateTime()
    ends_at = UtcDateTime(allow_none=True)
    confidentiality = Str(validate=validate.OneOf(CONFIDENTIALITY))
    quorum_numerator = Int(strict=True, allow_none=True, validate=validate.Range(min=1, max=1000))
    quorum_denominator = Int(strict=True, allow_none=True, validate=validate.Range(min=1, max=1000))


class MeetingCreate(MeetingPatch):
    body_id = _id(required=True)
    title = Str(required=True, validate=validate.Length(min=1, max=500))
    starts_at = UtcDateTime(required=True)


class MeetingQuery(ma.Schema):
    """Filters of GET /meetings (query string)."""

    status = Str(validate=validate.OneOf(MEETING_STATUSES))
    body_id = Int(validate=validate.Range(min=1, max=2**31 - 1))  # a larger id overflows PostgreSQL (fuzz)
    from_ = UtcDateTime(data_key="from", metadata={"description": "meetings starting at or after"})
    to = UtcDateTime(metadata={"description": "meetings starting before"})


class MeetingOut(ma.Schema):
    id = Int(required=True)
    body_id = Int(required=True)
    body_name = Str(attribute="body.name")
    title = Str(required=True)
    description = Str(allow_none=True)
    place = Str(allow_none=True)
    starts_at = UtcDateTime()
    ends_at = UtcDateTime(allow_none=True)
    status = Str()
    confidentiality = Str()
    quorum_numerator = Int(allow_none=True)
    quorum_denominator = Int(allow_none=True)
    last_seq = Int()


class StatusIn(ma.Schema):
    status = Str(required=True, validate=validate.OneOf(MEETING_STATUSES))


# ----------------------------------------------------------------- participants

class ParticipantPatch(ma.Schema):
    role = Str(validate=validate.OneOf(PARTICIPANT_ROLES))
    can_vote = ma.fields.Boolean()
    vote_weight = Int(strict=True, validate=validate.Range(min=1, max=1000))


class ParticipantCreate(ParticipantPatch):
    user_id = _id(required=True)
    role = Str(load_default="delegate", validate=validate.OneOf(PARTICIPANT_ROLES))
    vote_weight = Int(strict=True, load_default=1, validate=validate.Range(min=1, max=1000))


class ParticipantOut(ma.Schema):
    id = Int(required=True)
    user_id = Int(required=True)
    full_name = Str(attribute="user.full_name")
    role = Str()
    can_vote = ma.fields.Boolean()
    vote_weight = Int()


# ----------------------------------------------------------------- agenda items

class ItemPatch(ma.Schema):
    title = Str(validate=validate.Length(min=1, max=500))
    description = Str(allow_none=True, validate=validate.Length(max=20000))
    parent_id = _id(allow_none=True)
    presenter_id = _id(allow_none=True, metadata={"description": "user id of a participant"})
    planned_minutes = Int(strict=True, allow_none=True, validate=validate.Range(min=0, max=24 * 60))
    status = Str(validate=validate.OneOf(ITEM_STATUSES))
    conclusion = Str(allow_none=True, validate=validate.Length(max=50000))


class ItemCreate(ItemPatch):
    title = Str(required=True, validate=validate.Length(min=1, max=500))


class SubItemOut(ma.Schema):
    id = Int(required=True)
    meeting_id = Int()
    parent_id = Int(allow_none=True)
    position = Int()
    title = Str()
    description = Str(allow_none=True)
    presenter_id = Int(allow_none=True)
    presenter_name = Str(allow_none=True)
    planned_minutes = Int(allow_none=True)
    status = Str()
    conclusion = Str(allow_none=True)


class ItemOut(SubItemOut):
    sub_items = ma.fields.List(ma.fields.Nested(SubItemOut), metadata={"description": "top-level items only"})


class OrderIn(ma.Schema):
    parent_id = _id(allow_none=True, load_default=None)
    ids = ma.fields.List(_id(), required=True, validate=validate.Length(max=1000))


class MeetingDetail(MeetingOut):
    participants = ma.fields.List(ma.fields.Nested(ParticipantOut))
    agenda = ma.fields.List(ma.fields.Nested(ItemOut))
    my_role = Str(allow_none=True, metadata={"description": "the caller's role in the meeting, if any"})
    can_prepare = ma.fields.Boolean()
    can_run = ma.fields.Boolean()


class UnitMemberOut(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    username = Str(attribute="user.username")
    full_name = Str(attribute="user.full_name")
    is_head = ma.fields.Boolean()


class UnitOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    body_id = ma.fields.Integer(required=True)
    name = Str(required=True)
    short_name = Str(allow_none=True)
    email = Str(allow_none=True)
    active = ma.fields.Boolean()
    created_at = UtcDateTime()
    members = ma.fields.Nested(UnitMemberOut, many=True, attribute="members_in_order",
                               metadata={"description": "heads first, then by name"})
