"""REST: bulk import of participants (a meeting) and members (a body), and a body's members into a meeting.

Thin views: the services (``imports``, ``body_roster``) check who asks, plan and write; the request's
commit point commits (an apply refused with row errors rolls back: nothing is written).

An upload is multipart: the list in ``file`` (CSV or XLSX), ``mode`` = ``dry_run`` (the default:
what would happen, with an error per bad row) or ``apply``; ``file_sha256`` (the dry run's) makes
the apply refuse another file. ``?dry_run=1``/``?dry_run=0`` in the query does the same as ``mode``.
"""
from __future__ import annotations

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint
from marshmallow import validate

from meetings.bodies import body_roster, imports, service
from meetings.bodies.permissions import visible_meeting
from meetings.core.errors import Invalid
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("imports", __name__, description="Bulk import of participants and body members")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "Only those preparing the meeting (a body: an administrator) import",
        409: "The meeting is closed",
        422: "Unreadable file, rows in error (apply), or the file is not the one previewed"})


@blp.before_request
def _authenticated_first() -> None:
    require_user()


class ImportForm(ma.Schema):
    mode = ma.fields.String(load_default="dry_run", validate=validate.OneOf(("dry_run", "apply")))
    file_sha256 = ma.fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class ImportQuery(ma.Schema):
    dry_run = ma.fields.Boolean()


class FromBodyIn(ma.Schema):
    unit_id = ma.fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "Only the members of this unit of the body"})


class FromBodyOut(ma.Schema):
    added = ma.fields.Integer()
    already = ma.fields.Integer()
    participants = ma.fields.Integer()


_MULTIPART = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "mode": {"type": "string", "enum": ["dry_run", "apply"]},
        "file_sha256": {"type": "string"}}}}}}


def _upload(query: dict) -> tuple[bytes, str, bool, str | None]:
    """(the file's bytes, its name, apply?, the previewed sha256) from the multipart request, or a 422."""
    try:
        form = ImportForm().load(request.form.to_dict())
    except ma.ValidationError as err:
        raise Invalid("The request's data is not valid.", details={"form": err.messages}) from None
    upload = request.files.get("file")
    if upload is None or len(request.files) != 1:
        raise Invalid("Send the list (CSV or XLSX) in the multipart field `file`.", details={"files": ["file"]})
    by_form = form["mode"] == "apply" if "mode" in request.form else None
    by_query = not query["dry_run"] if "dry_run" in query else None
    if None not in (by_form, by_query) and by_form != by_query:
        raise Invalid("`dry_run` and `mode` disagree.")
    apply = bool(by_form if by_form is not None else by_query)
    return upload.read(), upload.filename or "", apply, form.get("file_sha256")


@blp.route("/meetings/<int:meeting_id>/participants/import", methods=["POST"])
@blp.arguments(ImportQuery, location="query")
@blp.doc(requestBody=_MULTIPART)
@blp.response(200, description="The preview (dry run) or what was imported: counts, rows, errors")
@_errors(403, 404, 409, 422)
def import_participants(query, meeting_id: int):
    """Import users and participants from a CSV or XLSX list (those preparing the meeting)."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    data, name, apply, sha = _upload(query)
    if apply:
        return imports.import_meeting(db.session, meeting, user, data, name, expect_sha256=sha)
    return imports.preview_meeting(db.session, meeting, user, data, name)


@blp.route("/bodies/<int:body_id>/members/import", methods=["POST"])
@blp.arguments(ImportQuery, location="query")
@blp.doc(requestBody=_MULTIPART)
@blp.response(200, description="The preview (dry run) or what was imported")
@_errors(403, 404, 422)
def import_members(query, body_id: int):
    """Import users and members of a body from a CSV or XLSX list (administrators)."""
    user = require_user()
    body = service.get_body(db.session, body_id)
    data, name, apply, sha = _upload(query)
    if apply:
        return imports.import_body(db.session, body, user, data, name, expect_sha256=sha)
    return imports.preview_body(db.session, body, user, data, name)


@blp.route("/meetings/<int:meeting_id>/participants/from-body", methods=["POST"])
@blp.arguments(FromBodyIn)
@blp.response(200, FromBodyOut)
@_errors(403, 404, 409, 422)
def from_body(data, meeting_id: int):
    """Add every member of the meeting's body (or of one of its units) as a participant, in one step."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    return body_roster.add_body_members(db.session, meeting, user, unit_id=data.get("unit_id"))
