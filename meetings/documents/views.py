"""REST: document intake, listing, editing, versions and delivery.

Thin views: find the caller, load the object, check permission with
meetings.bodies.permissions, call the service, commit, shape the answer. A
caller who may not see a document (another meeting's, or unpublished) gets
404 so ids do not leak; one who sees it but may not change it gets 403.
"""
from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Blueprint
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from meetings.accounts.models import User
from meetings.annotations import carryover, receipts
from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.errors import Forbidden, Invalid, NotFound
from meetings.core.extensions import db
from meetings.documents import delivery, service
from meetings.documents.models import Document
from meetings.documents.schemas import DocumentOut, DocumentPatch, ListQuery, UploadForm, VersionForm
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("documents", __name__, description="Agenda documents: intake, versions, delivery")


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    # Raised by Werkzeug while reading a body over MAX_CONTENT_LENGTH (from MAX_UPLOAD_MB).
    from meetings.platform.http.errors import error_response

    return error_response(413, "too_large", service._too_large_message(current_app.config["MAX_CONTENT_LENGTH"]))


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "You may see this but not change it", 409: "Conflicts with the document's state",
        413: "The upload is over the size limit", 415: "Not a PDF",
        422: "Refused: empty, encrypted, unreadable, too many pages, too complex, timeout"})


def _document(document_id: int, user: User) -> tuple[Document, Meeting]:
    doc = db.session.get(Document, document_id)
    meeting = db.session.get(Meeting, doc.meeting_id) if doc is not None else None
    if doc is None or meeting is None or not permissions.can_view_document(meeting, user, doc.published):
        raise NotFound("No such document.")
    return doc, meeting


def _require_prepare(meeting: Meeting, user: User) -> None:
    if not permissions.can_prepare(meeting, user):
        raise Forbidden("Only the meeting's secretariat manages its documents.")


def _multipart(form: type[ma.Schema]) -> dict:
    """The OpenAPI requestBody of an upload: the form's fields plus the binary ``file``."""
    props = {name: {"type": "string"} for name in form().fields}
    props["file"] = {"type": "string", "format": "binary"}
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": props}}}}


def _read_upload(form_schema: type[ma.Schema]) -> tuple[FileStorage, dict]:
    """The uploaded ``file`` and the validated form fields, or a 422."""
    try:
        fields = form_schema().load(request.form.to_dict())
    except ma.ValidationError as err:
        raise Invalid("The request's data is not valid.", details={"form": err.messages}) from None
    upload = request.files.get("file")
    if upload is None or len(request.files) != 1:
        raise Invalid("Send exactly one PDF in the multipart field `file`.", details={"files": ["file"]})
    return upload, fields


def _limits():
    return service.default_limits()


@blp.route("/meetings/<int:meeting_id>/documents", methods=["POST"])
@blp.doc(requestBody=_multipart(UploadForm))
@blp.response(201, DocumentOut)
@_errors(403, 404, 413, 415, 422)
def upload(meeting_id: int):
    """Upload a PDF to a meeting (secretariat). Multipart: ``file``; optional ``title``,
    ``agenda_item_id``, ``confidentiality`` (or ``confidential=true``), ``published``."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    _require_prepare(meeting, user)
    # The body is read only now, after the caller was authenticated and authorized.
    upload, form = _read_upload(UploadForm)
    doc = service.add_document(
        db.session, meeting, upload.stream, title=form.get("title"), filename=upload.filename or "",
        uploaded_by_id=user.id, agenda_item_id=form.get("agenda_item_id"),
        confidentiality=form["confidentiality"], published=form.get("published", False),
        storage_path=current_app.config["STORAGE_PATH"], limits=_limits(),
    )
    db.session.commit()
    return doc


@blp.route("/meetings/<int:meeting_id>/documents", methods=["GET"])
@blp.arguments(ListQuery, location="query")
@blp.response(200, DocumentOut(many=True))
@_errors(403, 404)
def list_documents(query, meeting_id: int):
    """The meeting's documents the caller may see (current versions; ``all_versions=1``
    for the secretariat)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return service.visible_documents(db.session, meeting, user, all_versions=query["all_versions"])


@blp.route("/documents/<int:document_id>", methods=["GET"])
@blp.response(200, DocumentOut)
@_errors(404)
def get_document(document_id: int):
    """One version of a document."""
    user = require_user()
    doc, _ = _document(document_id, user)
    return doc


@blp.route("/documents/<int:document_id>", methods=["PATCH"])
@blp.arguments(DocumentPatch)
@blp.response(200, DocumentOut)
@_errors(403, 404, 409)
def patch_document(changes, document_id: int):
    """Change title, agenda item, published or confidentiality (secretariat)."""
    user = require_user()
    doc, meeting = _document(document_id, user)
    _require_prepare(meeting, user)
    if not changes:
        raise Invalid("Nothing to change.")
    service.update_document(db.session, doc, changes, actor_id=user.id,
                            storage_path=current_app.config["STORAGE_PATH"])
    db.session.commit()
    return doc


@blp.route("/documents/<int:document_id>/versions", methods=["GET"])
@blp.response(200, DocumentOut(many=True))
@_errors(404)
def list_versions(document_id: int):
    """Every version of the document the caller may see, oldest first."""
    user = require_user()
    doc, _ = _document(document_id, user)
    return service.versions_of(db.session, doc, user)


@blp.route("/documents/<int:document_id>/versions", methods=["POST"])
@blp.doc(requestBody=_multipart(VersionForm))
@blp.response(201, DocumentOut)
@_errors(403, 404, 409, 413, 415, 422)
def replace(document_id: int):
    """Replace the document with a new PDF (secretariat); the old version is kept."""
    user = require_user()
    doc, meeting = _document(document_id, user)
    _require_prepare(meeting, user)
    upload, form = _read_upload(VersionForm)
    new = service.replace_document(
        db.session, doc, upload.stream, filename=upload.filename or "", uploaded_by_id=user.id,
        title=form.get("title"), storage_path=current_app.config["STORAGE_PATH"], limits=_limits(),
    )
    carryover.carry_over_files(db.session, doc, new, current_app.config, actor_id=user.id)
    db.session.commit()
    return new


@blp.route("/documents/<int:document_id>/file", methods=["GET"])
@blp.response(200, description="The PDF (watermarked for the viewer when confidential)",
              content_type="application/pdf")
@_errors(404, 416)
def file(document_id: int):
    """The PDF itself, with Range, ETag and private caching."""
    user = require_user()
    doc, _ = _document(document_id, user)
    receipts.record_document_view(db.session, doc, user)
    limits = _limits()
    from meetings.core.fonts import font_path

    return delivery.send(doc, user, root=current_app.config["STORAGE_PATH"], font_path=font_path(),
                         seconds=limits.seconds, memory_mb=limits.memory_mb)
