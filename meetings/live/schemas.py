"""Payload shapes of the live room's socket events and REST answers (marshmallow)."""
from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from meetings.live.models import ATTENDANCE_STATUSES, SPEECH_KINDS, SPEECH_POSITIONS

_ID = validate.Range(min=1, max=2**31 - 1)


class StrictInt(ma.fields.Integer):
    """An integer that must arrive as a JSON number: no "5", no 5.5, no true."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class MeetingRef(ma.Schema):
    meeting_id = StrictInt(required=True, validate=_ID)


class Join(MeetingRef):
    last_seq = StrictInt(allow_none=True, validate=validate.Range(min=0))


class PresenterSet(MeetingRef):
    agenda_item_id = StrictInt(allow_none=True, validate=_ID)
    document_id = StrictInt(allow_none=True, validate=_ID)
    page = StrictInt(validate=validate.Range(min=1, max=100_000))
    zoom = ma.fields.Float(allow_nan=False, validate=validate.Range(min=0.1, max=10))
    presenter_id = StrictInt(allow_none=True, validate=_ID)

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if len(data) < 2:
            raise ma.ValidationError("Say what changes.")


class ItemRef(MeetingRef):
    agenda_item_id = StrictInt(required=True, validate=_ID)


class ItemClose(ItemRef):
    status = ma.fields.String(load_default="done", validate=validate.OneOf(("done", "deferred")))


class AttendanceMark(ma.Schema):
    status = ma.fields.String(required=True, validate=validate.OneOf(ATTENDANCE_STATUSES))
    reason = ma.fields.String(allow_none=True, validate=validate.Length(max=500))
    arrived_at = ma.fields.AwareDateTime(allow_none=True, default_timezone=UTC)
    left_at = ma.fields.AwareDateTime(allow_none=True, default_timezone=UTC)


class AttendanceMarkEvent(AttendanceMark, MeetingRef):
    user_id = StrictInt(required=True, validate=_ID)


class SpeakerAsk(MeetingRef):
    kind = ma.fields.String(load_default="speech", validate=validate.OneOf(SPEECH_KINDS))
    position = ma.fields.String(allow_none=True, validate=validate.OneOf(SPEECH_POSITIONS))


class SpeakerRef(MeetingRef):
    request_id = StrictInt(required=True, validate=_ID)


class SpeakerCall(SpeakerRef):
    limit_seconds = StrictInt(allow_none=True, validate=validate.Range(min=10, max=7200))


class SpeakerReorder(MeetingRef):
    order = ma.fields.List(StrictInt(validate=_ID), required=True, validate=validate.Length(max=1000))


# ----------------------------------------------------------------------------- REST answers

class AttendanceOut(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()
    role = ma.fields.String()
    can_vote = ma.fields.Boolean()
    status = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    arrived_at = ma.fields.DateTime(allow_none=True)
    left_at = ma.fields.DateTime(allow_none=True)


class QuorumOut(ma.Schema):
    members = ma.fields.Integer()
    present = ma.fields.Integer()
    required = ma.fields.Integer()
    met = ma.fields.Boolean()
    rule = ma.fields.List(ma.fields.Integer())


class AttendanceListOut(ma.Schema):
    attendance = ma.fields.List(ma.fields.Nested(AttendanceOut))
    quorum = ma.fields.Nested(QuorumOut)


class EventOut(ma.Schema):
    meeting_id = ma.fields.Integer()
    seq = ma.fields.Integer()
    type = ma.fields.String()
    data = ma.fields.Dict()
    actor_id = ma.fields.Integer(allow_none=True)
    at = ma.fields.String()


class EventsOut(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(EventOut))
    seq = ma.fields.Integer()


class EventsQuery(ma.Schema):
    after = ma.fields.Integer(load_default=0, validate=validate.Range(min=0))


class SpeakersOut(ma.Schema):
    current = ma.fields.Dict(allow_none=True)
    waiting = ma.fields.List(ma.fields.Dict())
    history = ma.fields.List(ma.fields.Dict())
