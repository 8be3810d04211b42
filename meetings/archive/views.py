"""REST: the archive — search published minutes, export a meeting's BagIt package.

Thin: parse, call one service function (which checks the caller's permission), shape.
"""
from __future__ import annotations

import tempfile

import marshmallow as ma
from flask import current_app, send_file
from flask_smorest import Blueprint
from marshmallow import validate

from meetings.archive import service
from meetings.archive.search import MAX_PER_PAGE, ArchiveQuery
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import UtcDateTime, error_responses

blp = Blueprint("archive", __name__, description="Archive: search minutes, archival packages")


class ArchiveArgs(ma.Schema):
    body_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))  # past it: a 500 on PostgreSQL
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    title = ma.fields.String(validate=validate.Length(min=1, max=200))
    q = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "full text"})
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ArchiveHit(ma.Schema):
    minutes_id = ma.fields.Integer()
    version = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    meeting_title = ma.fields.String()
    body_id = ma.fields.Integer()
    body_name = ma.fields.String()
    starts_at = UtcDateTime()
    place = ma.fields.String(allow_none=True)
    number = ma.fields.String(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    sha256 = ma.fields.String()
    page_count = ma.fields.Integer(allow_none=True)
    signers = ma.fields.List(ma.fields.String())
    file_url = ma.fields.String()
    bundle_url = ma.fields.String()
    snippet = ma.fields.String(allow_none=True)


class ArchivePage(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(ArchiveHit))


@blp.route("/archive")
@blp.arguments(ArchiveArgs, location="query")
@blp.response(200, ArchivePage)
def search_archive(args):
    """Published minutes by body, date range, title and full text (words match with or without diacritics)."""
    return service.search_archive(db.session, require_user(), ArchiveQuery(
        body_id=args.get("body_id"), date_from=args.get("date_from"), date_to=args.get("date_to"),
        title=args.get("title"), text=args.get("q"), page=args["page"], per_page=args["per_page"]))


@blp.route("/meetings/<int:meeting_id>/bundle")
@blp.response(200, description="A zipped BagIt bag (application/zip)")
@error_responses(blp, 403, 404, 409)
def meeting_bundle(meeting_id: int):
    """The meeting's archival package: signed minutes, agenda PDFs, attendance, votes, audit log, checksums."""
    user = require_user()
    out = tempfile.TemporaryFile()  # unnamed: gone when send_file closes it
    try:
        service.export_bundle(db.session, meeting_id, user, current_app.config, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return send_file(out, mimetype="application/zip", as_attachment=True,
                     download_name=f"meeting-{meeting_id}-bag.zip", max_age=0)
