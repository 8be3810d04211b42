"""REST and socket shapes of annotations (geometry itself is checked in rules.py)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.annotations.models import KINDS, VISIBILITIES

_KIND = validate.OneOf(KINDS)
_VIS = validate.OneOf(VISIBILITIES)


class _Fields(ma.Schema):
    page = ma.fields.Integer(strict=True)
    visibility = ma.fields.String(validate=_VIS)
    shared_with = ma.fields.List(ma.fields.Integer(strict=True))
    color = ma.fields.String()
    geometry = ma.fields.Dict()
    anchor = ma.fields.Dict(allow_none=True)
    text = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)


class AnnotationCreate(_Fields):
    """A new annotation; ``id`` is the client's UUID (a replay returns the same annotation)."""

    id = ma.fields.String()
    kind = ma.fields.String(required=True, validate=_KIND)
    page = ma.fields.Integer(strict=True, required=True)
    geometry = ma.fields.Dict(required=True)


class AnnotationPatch(_Fields):
    """Changed fields plus the version they were based on (a stale version gets 409)."""

    version = ma.fields.Integer(strict=True, required=True)


class SocketCreate(AnnotationCreate):
    document_id = ma.fields.Integer(strict=True, required=True)


class SocketUpdate(AnnotationPatch):
    id = ma.fields.String(required=True)


class SocketDelete(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.Integer(strict=True)


class StrokeProgress(ma.Schema):
    """A shared stroke while it is drawn: the points since the last message (in_flight.py)."""

    meeting_id = ma.fields.Integer(strict=True, required=True)
    document_id = ma.fields.Integer(strict=True, required=True)
    page = ma.fields.Integer(strict=True, required=True)
    stroke_id = ma.fields.String(required=True, validate=validate.Length(max=36))
    points = ma.fields.List(ma.fields.Raw(), required=True)  # checked point by point in rules.py
    color = ma.fields.String(load_default="#d32f2f")
    width = ma.fields.Float(load_default=2.0, allow_nan=False)
    visibility = ma.fields.String(load_default="meeting", validate=_VIS)


class DeleteArgs(ma.Schema):
    version = ma.fields.Integer()


class ListArgs(ma.Schema):
    since = ma.fields.String(metadata={"description": "a rev cursor (integer) or an ISO 8601 time"})


class ExportArgs(ma.Schema):
    include = ma.fields.String(validate=validate.OneOf(["own", "shared"]), load_default="own")


class AnnotationOut(ma.Schema):
    id = ma.fields.String()
    document_id = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    author_id = ma.fields.Integer()
    kind = ma.fields.String()
    page = ma.fields.Integer()
    visibility = ma.fields.String()
    shared_with = ma.fields.List(ma.fields.Integer())
    color = ma.fields.String()
    geometry = ma.fields.Dict()
    anchor = ma.fields.Dict(allow_none=True)
    text = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    rev = ma.fields.Integer()
    orphaned = ma.fields.Boolean()
    deleted = ma.fields.Boolean()
    created_at = ma.fields.String()
    updated_at = ma.fields.String()


class AnnotationList(ma.Schema):
    annotations = ma.fields.List(ma.fields.Nested(AnnotationOut))
    cursor = ma.fields.Integer(metadata={"description": "pass as ?since= to get only later changes"})


class ReceiptRow(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()
    role = ma.fields.String()
    opened = ma.fields.Boolean()
    first_opened_at = ma.fields.String(allow_none=True)
    last_opened_at = ma.fields.String(allow_none=True)
    open_count = ma.fields.Integer()


class DocumentReceipts(ma.Schema):
    document_id = ma.fields.Integer()
    title = ma.fields.String()
    version = ma.fields.Integer()
    is_current = ma.fields.Boolean()
    opened_count = ma.fields.Integer()
    participants = ma.fields.List(ma.fields.Nested(ReceiptRow))
