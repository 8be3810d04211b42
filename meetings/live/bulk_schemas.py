"""REST shapes of the roll call for a group (``PUT /meetings/<id>/attendance``) and of the single mark's answer."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.live.models import ATTENDANCE_STATUSES
from meetings.live.schemas import AttendanceListOut, StrictInt

_ID = validate.Range(min=1, max=2**31 - 1)


class GroupMark(ma.Schema):
    status = ma.fields.String(required=True, validate=validate.OneOf(ATTENDANCE_STATUSES))
    reason = ma.fields.String(allow_none=True, validate=validate.Length(max=500))
    user_ids = ma.fields.List(StrictInt(validate=_ID), validate=validate.Length(min=1, max=10_000),
                              metadata={"description": "These participants"})
    all = ma.fields.Boolean(metadata={"description": "true: every participant"})
    unit_id = StrictInt(validate=_ID, metadata={"description": "The participants who are members of this unit"})


class GroupMarkOut(AttendanceListOut):
    marked = ma.fields.List(ma.fields.Integer(), metadata={"description": "Whose status or reason changed"})


class MarkQuery(ma.Schema):
    roll = ma.fields.Boolean(load_default=True, metadata={
        "description": "false: answer only the marked participant's row and the quorum, not the whole roll"})
