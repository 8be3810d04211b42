"""REST: document intake, listing, editing, versions and delivery.

Thin views: find the caller and the visible target (``visible_meeting``,
``policy.visible_document``: 404 for what the caller may not see, so ids do
not leak), call one service (which answers 403 to one who sees but may not
change), shape the answer. The request's commit point commits.
"""
from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Blueprint
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from meetings.bodies.permissions import visible_meeting
from meetings.core.errors import Invalid
from meetings.core.extensions import db
from meetings.core.fonts import font_path
from meetings.documents import delivery, office, service
from meetings.documents.policy import visible_document
from meetings.documents.schemas import DocumentOut, DocumentPatch, ListQuery, UploadForm, VersionForm
from meetings.platform.http.caller import require_user
from meetings.platform.http.errors import error_response
from meetings.platform.http.schemas import error_responses

blp = Blueprint("documents", __name__, description="Agenda documents: intake, versions, delivery")


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    # Raised by Werkzeug while reading a body over MAX_CONTENT_LENGTH (from MAX_UPLOAD_MB).
    return error_response(413, "too_large", service.too_large_message(current_app.config["MAX_CONTENT_LENGTH"]))


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "You may see this but not change it", 409: "Conflicts with the document's state",
        413: "The upload is over the size limit", 415: "Not a PDF nor an accepted Office type (unsupported_type)",
        422: "Refused: empty, encrypted, unreadable, too many pages, too complex, timeout; for an Office "
             "document macro_refused, zip_bomb, corrupt_office_file, conversion_failed, conversion_timeout"})


def _multipart(form: type[ma.Schema]) -> dict:
    """The OpenAPI requestBody of an upload: the form's fields plus the binary ``file``."""
    props = {name: {"type": "string"} for name in form().fields}
    props["file"] = {"type": "string", "format": "binary"}
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": props}}}}


def _receiver(form_schema: type[ma.Schema]) -> Callable[[], service.Received]:
    """Reads the uploaded ``file`` and the validated form fields (or a 422) when the service
    asks: only after it authorized the caller is the body read."""
    def receive() -> service.Received:
        try:
            fields = form_schema().load(request.form.to_dict())
        except ma.ValidationError as err:
            raise Invalid("The request's data is not valid.", details={"form": err.messages}) from None
        upload: FileStorage | None = request.files.get("file")
        if upload is None or len(request.files) != 1:
            raise Invalid("Send exactly one PDF or Office document in the multipart field `file`.",
                          details={"files": ["file"]})
        return service.Received(upload.stream, upload.filename or "", fields)
    return receive


def _limits():
    return service.default_limits()


@blp.route("/meetings/<int:meeting_id>/documents", methods=["POST"])
@blp.doc(requestBody=_multipart(UploadForm))
@blp.response(201, DocumentOut)
@_errors(403, 404, 413, 415, 422)
def upload(meeting_id: int):
    """Upload a PDF, or an Office document converted to PDF (.docx .doc .odt .rtf .xlsx .xls .ods
    .pptx .ppt .odp), to a meeting (secretariat). Multipart: ``file``; optional ``title``,
    ``agenda_item_id``, ``confidentiality`` (or ``confidential=true``), ``published``."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    return service.upload_document(db.session, meeting, user, _receiver(UploadForm),
                                   storage_path=current_app.config["STORAGE_PATH"], limits=_limits())


@blp.route("/meetings/<int:meeting_id>/documents", methods=["GET"])
@blp.arguments(ListQuery, location="query")
@blp.response(200, DocumentOut(many=True))
@_errors(403, 404)
def list_documents(query, meeting_id: int):
    """The meeting's documents the caller may see (current versions; ``all_versions=1``
    for the secretariat)."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    return service.visible_documents(db.session, meeting, user, all_versions=query["all_versions"])


@blp.route("/documents/<int:document_id>", methods=["GET"])
@blp.response(200, DocumentOut)
@_errors(404)
def get_document(document_id: int):
    """One version of a document."""
    return visible_document(db.session, document_id, require_user())


@blp.route("/documents/<int:document_id>", methods=["PATCH"])
@blp.arguments(DocumentPatch)
@blp.response(200, DocumentOut)
@_errors(403, 404, 409)
def patch_document(changes, document_id: int):
    """Change title, agenda item, published or confidentiality (secretariat)."""
    user = require_user()
    doc = visible_document(db.session, document_id, user)
    return service.update_document(db.session, doc, user, changes, storage_path=current_app.config["STORAGE_PATH"])


@blp.route("/documents/<int:document_id>/versions", methods=["GET"])
@blp.response(200, DocumentOut(many=True))
@_errors(404)
def list_versions(document_id: int):
    """Every version of the document the caller may see, oldest first."""
    user = require_user()
    return service.versions_of(db.session, visible_document(db.session, document_id, user), user)


@blp.route("/documents/<int:document_id>/versions", methods=["POST"])
@blp.doc(requestBody=_multipart(VersionForm))
@blp.response(201, DocumentOut)
@_errors(403, 404, 409, 413, 415, 422)
def replace(document_id: int):
    """Replace the document with a new PDF (secretariat); the old version is kept."""
    user = require_user()
    doc = visible_document(db.session, document_id, user)
    return service.upload_version(db.session, doc, user, _receiver(VersionForm),
                                  storage_path=current_app.config["STORAGE_PATH"], limits=_limits())


@blp.route("/documents/<int:document_id>/file", methods=["GET"])
@blp.response(200, description="The PDF (watermarked for the viewer when confidential)",
              content_type="application/pdf")
@_errors(404, 416)
def file(document_id: int):
    """The PDF itself, with Range, ETag and private caching (behind nginx: an X-Accel-Redirect)."""
    user = require_user()
    doc = service.open_file(db.session, document_id, user)  # authorized (404 otherwise), receipt queued
    root = current_app.config["STORAGE_PATH"]
    # A tablet revalidating its copy: answered here, before any file is opened or stamped.
    unchanged = delivery.not_modified(doc, user, root=root)
    if unchanged is not None:
        return unchanged
    accel = current_app.config.get("X_ACCEL_REDIRECT_PREFIX")
    if not doc.needs_watermark:
        return delivery.send(doc, user, root=root, accel_prefix=accel)
    limits = _limits()
    return delivery.send(doc, user, root=root, font_path=font_path(), seconds=limits.seconds,
                         memory_mb=limits.memory_mb, accel_prefix=accel)


@blp.route("/documents/<int:document_id>/original", methods=["GET"])
@blp.response(200, description="The upload as received, scripts and embedded files included "
                               "(an attachment)", content_type="application/pdf")
@_errors(403, 404)
def original(document_id: int):
    """The original upload before the disarm (secretariat): for the archive and for checking
    a signature it carries. Delegates get the disarmed copy from …/file only."""
    doc = service.open_original(db.session, document_id, require_user())
    return delivery.send_original(doc, root=current_app.config["STORAGE_PATH"])


@blp.route("/documents/<int:document_id>/source", methods=["GET"])
@blp.response(200, description="The Office file the PDF was converted from (an attachment)",
              content_type="application/octet-stream")
@_errors(403, 404)
def source(document_id: int):
    """The Office document (.docx, .xlsx …) a converted document was made from (secretariat),
    to edit and upload again; 404 ``no_source`` for a document uploaded as a PDF."""
    doc = office.open_source(db.session, document_id, require_user())
    return office.send_source(doc, root=current_app.config["STORAGE_PATH"])
