"""REST wiring: the flask-smorest Api, JSON errors and the OpenAPI document.

Each domain owns its Blueprint in its ``views.py``; this module mounts them
under /api/v1 and makes every error there JSON of one shape.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from meetings.api.schemas import ErrorSchema
from meetings.errors import DomainError

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def error_response(status: int, code: str, message: str, details=None, headers=None):
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    resp = jsonify({"error": body})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}


class MeetingsApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        if not is_api_request():
            return error  # HTML pages keep Flask's own error pages
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        message = data.get("message") or error.description or error.name
        details = data.get("errors") or data.get("messages")
        headers = data.get("headers") or {}
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers = {**headers, "Allow": ", ".join(error.valid_methods)}
        if status == 422 and details is not None:
            message = "The request's data is not valid."
        return error_response(status, _HTTP_CODES.get(status, "error"), message, details, headers)


api = MeetingsApi(
    spec_kwargs={
        "info": {"description": "Paperless meeting-room server: REST API v1."},
    }
)


def init_api(app: Flask) -> None:
    """Mount every domain's blueprint and the JSON error handlers."""
    app.config.setdefault("API_TITLE", "Meetings")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    api.spec.components.security_scheme(
        "sessionCookie", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]

    from meetings.accounts.views import blp as accounts_blp
    from meetings.agenda.views import blp as agenda_blp
    from meetings.annotations.views import blp as annotations_blp
    from meetings.archive.views import blp as archive_blp
    from meetings.documents.views import blp as documents_blp
    from meetings.extensions import csrf
    from meetings.live.views import blp as live_blp
    from meetings.minutes.views import blp as minutes_blp
    from meetings.voting.views import blp as voting_blp

    domains = (accounts_blp, agenda_blp, documents_blp, live_blp, voting_blp,
               annotations_blp, minutes_blp, archive_blp)
    for blp in domains:
        api.register_blueprint(blp, url_prefix=API_PREFIX)
        # CSRF for the API is checked in accounts.auth: only cookie sessions need it.
        csrf.exempt(blp)

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        if is_api_request():
            return error_response(err.status, err.code, err.message, err.details)
        return err.message, err.status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return api.handle_http_exception(err)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_request():
            return error_response(500, "internal_error", "The server failed; the error was logged.")
        return "Internal server error", 500
