"""Schemas shared by every domain's REST views."""
from __future__ import annotations

import marshmallow as ma


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Raw(allow_none=True)


class ErrorSchema(ma.Schema):
    """Every error under /api/v1 has this shape."""

    error = ma.fields.Nested(ErrorBody, required=True)
