"""REST shapes of meeting templates, regular sittings, document slots and agenda moves."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.bodies.recurrence import DATE_RULES
from meetings.platform.http.schemas import UtcDateTime

Int = ma.fields.Integer
Str = ma.fields.String


def _id(**kw) -> ma.fields.Integer:
    # As bodies.schemas: strict (no "5"), and within PostgreSQL's INTEGER.
    return Int(strict=True, validate=validate.Range(min=1, max=2**31 - 1), **kw)


class CopyIn(ma.Schema):
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(allow_none=True, metadata={"description": "default: the source's length kept"})
    title = Str(validate=validate.Length(min=1, max=500), metadata={"description": "default: the source's title"})


class TemplateSave(ma.Schema):
    name = Str(required=True, validate=validate.Length(min=1, max=200))
    regular = ma.fields.Boolean(load_default=False, metadata={
        "description": "make it the body's regular template (\"Phiên họp thường kỳ tháng …\")"})


class TemplatePatch(ma.Schema):
    name = Str(validate=validate.Length(min=1, max=200))
    regular = ma.fields.Boolean()
    title_pattern = Str(validate=validate.Length(min=1, max=300),
                        metadata={"description": "with {month} and {year}: \"… tháng {month}/{year}\""})
    date_rule = Str(validate=validate.OneOf(DATE_RULES))
    day = Int(strict=True, validate=validate.Range(min=1, max=31), metadata={"description": "day_of_month"})
    weekday = Int(strict=True, validate=validate.Range(min=0, max=6), metadata={"description": "Monday 0 … Sunday 6"})
    week = Int(strict=True, validate=validate.Range(min=1, max=5), metadata={"description": "week of month, 5 = last"})
    start_time = Str(validate=validate.Regexp(r"^\d{2}:\d{2}$"), metadata={"description": "local time HH:MM"})
    duration_minutes = Int(strict=True, allow_none=True, validate=validate.Range(min=1, max=1440))


class TemplateOut(ma.Schema):
    id = Int(required=True)
    body_id = Int(required=True)
    name = Str(required=True)
    regular = ma.fields.Boolean(required=True)
    title_pattern = Str(required=True)
    date_rule = Str(required=True)
    day = Int()
    weekday = Int()
    week = Int()
    start_time = Str()
    duration_minutes = Int(allow_none=True)
    source_meeting_id = Int(allow_none=True)
    items = ma.fields.Method("_items", metadata={"description": "the agenda skeleton's top-level item count"})
    participants = ma.fields.Method("_participants")
    content = ma.fields.Dict(metadata={"description": "settings, participants, items with sub_items and slots"})
    updated_at = UtcDateTime()

    def _items(self, template) -> int:
        return len((template.content or {}).get("items") or [])

    def _participants(self, template) -> int:
        return len((template.content or {}).get("participants") or [])


class FromTemplateIn(CopyIn):
    title = Str(validate=validate.Length(min=1, max=500), metadata={"description": "default: the template's name"})


class RegularIn(ma.Schema):
    year = Int(strict=True, validate=validate.Range(min=2000, max=2200))
    month = Int(strict=True, validate=validate.Range(min=1, max=12))


class MonthOut(ma.Schema):
    year = Int()
    month = Int()


class RegularPlanOut(ma.Schema):
    year = Int(required=True)
    month = Int(required=True)
    title = Str(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(allow_none=True)
    date_rule = Str()
    template_id = Int(allow_none=True)
    source_meeting_id = Int(allow_none=True)
    last = ma.fields.Nested(MonthOut, allow_none=True)


class SlotIn(ma.Schema):
    title = Str(required=True, validate=validate.Length(min=1, max=500))


class SlotPatch(ma.Schema):
    title = Str(validate=validate.Length(min=1, max=500))


class SlotOut(ma.Schema):
    id = Int(required=True)
    agenda_item_id = Int(required=True)
    position = Int(required=True)
    title = Str(required=True)


class MoveIn(ma.Schema):
    parent_id = _id(allow_none=True, load_default=None, metadata={"description": "null: the top level"})
    position = Int(strict=True, required=True, validate=validate.Range(min=0, max=1000),
                   metadata={"description": "0-based place in that level"})
