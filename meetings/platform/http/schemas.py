"""Schemas shared by every domain's REST views."""
from __future__ import annotations

from datetime import UTC

import marshmallow as ma


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Raw(allow_none=True)


class ErrorSchema(ma.Schema):
    """Every error under /api/v1 has this shape."""

    error = ma.fields.Nested(ErrorBody, required=True)


class UtcDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with its offset. A naive input time is read as UTC, so services compare
    aware times only (stored times read back aware: meetings.core.db.UtcDateTime)."""

    def __init__(self, **kw):
        super().__init__(default_timezone=UTC, **kw)


ERROR_DESCRIPTIONS = {
    403: "Your role does not allow it",
    404: "No such object, or you may not see it",
    409: "The object's state does not allow it now",
    413: "The upload is too large",
    415: "Not the expected kind of file",
    416: "The requested byte range is outside the file",
    422: "The request's data is not valid",
    503: "A worker process failed or timed out; try again",
}


def error_responses(blp, *codes: int, descriptions: dict[int, str] | None = None):
    """Document the error answers a view can give (``{"error": {...}}``) in the OpenAPI document.

    ``descriptions`` lets a domain say more precisely what a status means for it."""
    texts = {**ERROR_DESCRIPTIONS, **(descriptions or {})}

    def decorate(view):
        for code in codes:
            view = blp.alt_response(code, schema=ErrorSchema, description=texts[code])(view)
        return view

    return decorate
