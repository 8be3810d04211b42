"""REST: annotations, their exports, and read receipts.

Thin: find the caller and the document, call the service (which checks who may), shape
the answer. The request's commit point commits.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify
from flask_smorest import Blueprint

from meetings.annotations import export, receipts, service
from meetings.annotations.changes import serialize
from meetings.annotations.schemas import (
    AnnotationCreate,
    AnnotationList,
    AnnotationOut,
    AnnotationPatch,
    DeleteArgs,
    DocumentReceipts,
    ExportArgs,
    ListArgs,
)
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("annotations", __name__, description="Annotations on documents; read receipts")


@blp.route("/documents/<int:document_id>/annotations")
@blp.arguments(ListArgs, location="query")
@blp.response(200, AnnotationList)
@error_responses(blp, 403, 404)
def list_annotations(args, document_id: int):
    """The caller's view of a document's annotations: their own, and what others shared with them.

    With ``?since=`` (the ``cursor`` of an earlier answer, or an ISO time) only later changes,
    deletions included as tombstones (``deleted: true``)."""
    user = require_user()
    doc, _ = service.document_for(db.session, document_id, user)
    return service.list_annotations(db.session, doc, user, args.get("since"))


@blp.route("/documents/<int:document_id>/annotations", methods=["POST"])
@blp.arguments(AnnotationCreate)
@blp.response(201, AnnotationOut)
@blp.alt_response(200, schema=AnnotationOut, description="Replay of a create already done (same id)")
@error_responses(blp, 403, 404, 409)
def create_annotation(body, document_id: int):
    """Create an annotation (private unless ``visibility`` says otherwise)."""
    user = require_user()
    doc, meeting = service.document_for(db.session, document_id, user)
    ann, created = service.create_annotation(db.session, doc, meeting, user, body)
    return serialize(ann), 201 if created else 200


@blp.route("/annotations/<string:annotation_id>", methods=["PATCH"])
@blp.arguments(AnnotationPatch)
@blp.response(200, AnnotationOut)
@blp.alt_response(409, description="Stale version: details.current holds the current state")
@error_responses(blp, 403, 404)
def update_annotation(body, annotation_id: str):
    """Change an annotation you wrote; ``version`` must be the one you last saw."""
    user = require_user()
    ann, doc, meeting = service.annotation_for(db.session, annotation_id, user)
    version = body.pop("version")
    ann = service.update_annotation(db.session, ann, doc, meeting, user, body, version)
    return serialize(ann)


@blp.route("/annotations/<string:annotation_id>", methods=["DELETE"])
@blp.arguments(DeleteArgs, location="query")
@blp.response(200, AnnotationOut)
@error_responses(blp, 403, 404, 409)
def delete_annotation(args, annotation_id: str):
    """Delete (tombstone) an annotation; answers the tombstone. Deleting twice is harmless."""
    user = require_user()
    ann, _, meeting = service.annotation_for(db.session, annotation_id, user)
    ann = service.delete_annotation(db.session, ann, meeting, user, args.get("version"))
    return serialize(ann)


@blp.route("/documents/<int:document_id>/annotations/presenter", methods=["DELETE"])
@blp.response(200)
@error_responses(blp, 403, 404)
def clear_presenter(document_id: int):
    """Clear the presenter's drawing on a document (chair or secretariat)."""
    user = require_user()
    doc, meeting = service.document_for(db.session, document_id, user)
    count = service.clear_presenter(db.session, doc, meeting, user)
    return {"cleared": count}


@blp.route("/documents/<int:document_id>/annotated")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="application/pdf")
@error_responses(blp, 403, 404, 503)
def annotated_pdf(args, document_id: int):
    """The PDF with the caller's annotations (``?include=shared``: and those shared with them)
    as native PDF annotations that Acrobat, Okular and PDF.js show and can edit."""
    data, filename = export.annotated_pdf_for(db.session, document_id, require_user(), current_app.config,
                                              include_shared=args["include"] == "shared")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"annotated.pdf\"; filename*=UTF-8''{filename}",
        "Cache-Control": "private, no-store",
    })


@blp.route("/documents/<int:document_id>/annotations.jsonld")
@blp.response(200, content_type="application/ld+json")
@error_responses(blp, 403, 404)
def annotations_jsonld(document_id: int):
    """The caller's own annotations as a W3C Web Annotation collection (JSON-LD)."""
    resp = jsonify(export.web_annotations_for(db.session, document_id, require_user(), base_url=_base_url()))
    resp.mimetype = "application/ld+json"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@blp.route("/meetings/<int:meeting_id>/read-receipts")
@blp.response(200, DocumentReceipts(many=True))
@error_responses(blp, 403, 404)
def read_receipts(meeting_id: int):
    """Which participants opened each document, first and last time (chair and secretariat).

    An opening shows here once written: at most a few seconds after the file was served."""
    return receipts.read_receipts(db.session, meeting_id, require_user())


def _base_url() -> str:
    from flask import request

    return request.host_url.rstrip("/") + "/api/v1"
