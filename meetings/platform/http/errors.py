"""JSON error bodies: every error under /api/v1 is ``{"error": {"code", "message", "details"?}}``."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

API_PREFIX = "/api/v1"


def is_api_request() -> bool:
    """True for a request under the REST prefix (those answer JSON, pages answer HTML)."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The one shape of a REST error, with its status and any extra headers."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    resp = jsonify({"error": body})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp
