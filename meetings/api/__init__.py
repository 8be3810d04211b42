"""REST wiring: the flask-smorest Api, JSON errors and the OpenAPI document.

Each domain owns its Blueprint in its ``views.py``; this module mounts them
under /api/v1 and makes every error there JSON of one shape.
"""
from __future__ import annotations

import errno
import logging

from apispec import BasePlugin
from flask import Flask, request
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, NotFound, default_exceptions
from werkzeug.routing import IntegerConverter

from meetings.core.errors import DomainError
from meetings.platform.http.errors import API_PREFIX, error_response, is_api_request
from meetings.platform.http.schemas import ErrorSchema

log = logging.getLogger(__name__)

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


MAX_ID = 2**31 - 1  # ids are PostgreSQL INTEGERs


class IdConverter(IntegerConverter):
    """``<int:...>`` past MAX_ID is 404: a larger id would overflow the database driver (found by tests/fuzz:
    GET /api/v1/polls/9223372036854775808 answered 500 on SQLite, /api/v1/meetings/5481874836 on PostgreSQL).
    NotFound, not ValidationError: werkzeug would answer 405 for a route that has other methods."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


def idconverter2paramschema(converter: IdConverter) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": MAX_ID}


class CommonResponses(BasePlugin):
    """Documents the answers every operation can give, whatever its view does.

    401: every route needs a user (global security); 400: a request body that is not
    JSON at all (werkzeug refuses it before the schema sees it); 404: a path with an id
    that matches no object; 422: text with NUL characters (any field, query included). Found by the fuzz suite
    (tests/fuzz/test_openapi_schemathesis.py): they were only covered by "default".
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", "DEFAULT_ERROR")
            responses.setdefault("422", "DEFAULT_ERROR")  # at least: text with NUL characters
            if "<" in (path or "") or "{" in (path or ""):
                responses.setdefault("404", "DEFAULT_ERROR")
            if "requestBody" in operation:
                responses.setdefault("400", "DEFAULT_ERROR")


api = MeetingsApi(
    spec_kwargs={
        "info": {"description": "Paperless meeting-room server: REST API v1."},
        "extra_plugins": [CommonResponses()],
    }
)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if hasattr(value, "lists"):  # werkzeug MultiDict
        return any(_has_nul(k) or any(_has_nul(v) for v in vs) for k, vs in value.lists())
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def init_api(app: Flask) -> None:
    """Mount every domain's blueprint and the JSON error handlers."""
    # Before any route is added (pages too): rules bind their converters when added.
    app.url_map.converters["int"] = IdConverter
    app.config.setdefault("API_TITLE", "Meetings")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    api.register_converter(IdConverter, idconverter2paramschema)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    api.spec.components.security_scheme(
        "sessionCookie", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]

    from meetings.accounts.factor_views import blp as factors_blp
    from meetings.accounts.views import blp as accounts_blp
    from meetings.annotations.views import blp as annotations_blp
    from meetings.archive.views import blp as archive_blp
    from meetings.bodies.template_views import blp as templates_blp
    from meetings.bodies.unit_views import blp as units_blp
    from meetings.bodies.views import blp as agenda_blp
    from meetings.core.extensions import csrf
    from meetings.documents.views import blp as documents_blp
    from meetings.live.views import blp as live_blp
    from meetings.minutes.views import blp as minutes_blp
    from meetings.notifications.inbox_views import blp as notifications_blp
    from meetings.notifications.push_views import blp as push_blp
    from meetings.notifications.views import blp as invitations_blp
    from meetings.tasks.views import blp as tasks_blp
    from meetings.voting.committee_views import blp as committee_blp
    from meetings.voting.views import blp as voting_blp

    domains = (accounts_blp, factors_blp, agenda_blp, documents_blp, live_blp, voting_blp, committee_blp,
               annotations_blp, minutes_blp, archive_blp, push_blp, invitations_blp,
               notifications_blp)
    domains += (units_blp, tasks_blp)
    from meetings.accounts.enrolment_views import blp as enrolment_links_blp
    from meetings.bodies.enrolment_views import blp as enrolment_blp

    domains += (enrolment_links_blp, enrolment_blp)
    from meetings.archive.opinion_views import blp as opinion_bundles_blp
    from meetings.opinions.views import blp as opinions_blp

    domains += (opinions_blp, opinion_bundles_blp)
    domains += (templates_blp,)
    from meetings.bodies.import_views import blp as imports_blp

    domains += (imports_blp,)
    from meetings.conclusions.views import blp as conclusions_blp

    domains += (conclusions_blp,)
    for blp in domains:
        api.register_blueprint(blp, url_prefix=API_PREFIX)
        # CSRF for the API is checked in accounts.auth: only cookie sessions need it.
        csrf.exempt(blp)

    @app.before_request
    def _refuse_nul_characters():
        """PostgreSQL text cannot hold NUL (U+0000): refuse it in any field instead of failing with a 500
        (found by tests/fuzz: POST /api/v1/bodies {"name": "a\\u0000b"} on PostgreSQL)."""
        if not is_api_request():
            return None
        fields = [request.args, request.form]
        if request.is_json:
            fields.append(request.get_json(silent=True))
        if any(_has_nul(f) for f in fields):
            return error_response(422, "invalid", "Text must not contain NUL characters (U+0000).")
        return None

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        if is_api_request():
            return error_response(err.status, err.code, err.message, err.details)
        page = default_exceptions.get(err.status)  # pages get Flask's own error page for the status
        return page(description=err.message) if page is not None else (err.message, err.status)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return api.handle_http_exception(err)
        log.exception("unhandled error on %s %s", request.method, request.path)
        outage = _outage(err)  # a lost database or a full/unwritable disk: say so (docs/operations.md)
        if outage is not None:
            status, code, message = outage
            return error_response(status, code, message) if is_api_request() else (message, status)
        if is_api_request():
            return error_response(500, "internal_error", "The server failed; the error was logged.")
        return "Internal server error", 500


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DISK_REFUSED = {errno.EROFS, errno.EACCES, errno.EPERM}


def _outage(err: Exception) -> tuple[int, str, str] | None:
    """(status, code, message) for failures of the infrastructure rather than of the code."""
    if isinstance(err, DBAPIError) and (err.connection_invalidated or isinstance(err, OperationalError)):
        return 503, "unavailable", "The database is unavailable right now; nothing was saved. Try again."
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        return 507, "insufficient_storage", "The server's storage is full; nothing was saved."
    if isinstance(err, OSError) and err.errno in _DISK_REFUSED:
        return 503, "unavailable", "The server cannot write to its storage; nothing was saved."
    return None
