"""REST shapes of the documents domain."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.bodies.models import CONFIDENTIALITY
from meetings.platform.http.schemas import UtcDateTime

# Ids are PostgreSQL INTEGERs: a larger number is refused (422), not looked up (a 500, found by tests/fuzz).
_ID_RANGE = validate.Range(min=1, max=2**31 - 1)


class DocumentOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    meeting_id = ma.fields.Integer(required=True)
    agenda_item_id = ma.fields.Integer(allow_none=True)
    title = ma.fields.String(required=True)
    filename = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True, metadata={
        "description": "of the file delivered: the upload without its scripts, actions and embedded files"})
    size = ma.fields.Integer(required=True, metadata={"description": "bytes of the file delivered"})
    original_sha256 = ma.fields.String(metadata={
        "description": "of the upload as received (equal to sha256 when nothing was removed)"})
    disarmed = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "what was removed from the upload, kind → count (javascript, open_action, "
                       "additional_actions, launch, submit_form, import_data, remote_goto, embedded_goto, "
                       "uri, media, rich_media, 3d, thread, other_action, embedded_file, file_attachment, "
                       "xfa, portfolio); empty when nothing was"})
    signed_original = ma.fields.Boolean(metadata={
        "description": "the upload carries digital signatures; if anything was removed, only the "
                       "original (original_url) still validates"})
    original_url = ma.fields.Method("_original_url", metadata={
        "description": "the upload as received, for the secretariat"})
    pages = ma.fields.Integer(required=True, attribute="page_count")
    version = ma.fields.Integer(required=True)
    series_id = ma.fields.Integer(allow_none=True, metadata={"description": "id of the first version"})
    previous_id = ma.fields.Integer(allow_none=True)
    is_current = ma.fields.Boolean(required=True)
    published = ma.fields.Boolean(required=True)
    confidentiality = ma.fields.String(required=True)
    watermarked = ma.fields.Boolean(attribute="needs_watermark",
                                    metadata={"description": "delivered with a per-viewer watermark"})
    uploaded_by_id = ma.fields.Integer(allow_none=True)
    uploaded_at = UtcDateTime(required=True)
    file_url = ma.fields.Method("_file_url")
    text_layer = ma.fields.String(metadata={
        "description": "text (the PDF carries text), queued / running (a scan being OCR'd), ready (file_url "
                       "serves the OCR rendition with a text layer), failed (ocr_error says why; the scan is "
                       "still served)"})
    ocr_error = ma.fields.String(allow_none=True, metadata={"description": "why the last OCR attempt failed"})
    source_filename = ma.fields.String(allow_none=True, metadata={
        "description": "an Office upload's own name (.docx, .xlsx …); null for a PDF upload"})
    source_format = ma.fields.String(allow_none=True, metadata={
        "description": "the Office format the PDF was converted from (docx, xlsx, pptx, odt …)"})
    source_url = ma.fields.Method("_source_url", allow_none=True, metadata={
        "description": "the Office file as uploaded, for the secretariat; null for a PDF upload"})

    def _file_url(self, doc) -> str:
        return f"/api/v1/documents/{doc.id}/file"

    def _original_url(self, doc) -> str:
        return f"/api/v1/documents/{doc.id}/original"

    def _source_url(self, doc) -> str | None:
        return f"/api/v1/documents/{doc.id}/source" if doc.source_sha256 else None


class UploadForm(ma.Schema):
    """The form fields sent with the file (multipart/form-data)."""

    title = ma.fields.String(validate=validate.Length(min=1, max=500))
    agenda_item_id = ma.fields.Integer(allow_none=True, strict=False, validate=_ID_RANGE)
    confidentiality = ma.fields.String(validate=validate.OneOf(CONFIDENTIALITY))
    confidential = ma.fields.Boolean(metadata={"description": "shortcut for confidentiality=confidential"})
    published = ma.fields.Boolean()

    @ma.post_load
    def _level(self, data: dict, **_kw) -> dict:
        flag = data.pop("confidential", None)
        if "confidentiality" not in data:
            data["confidentiality"] = "confidential" if flag else "normal"
        return data


class VersionForm(ma.Schema):
    title = ma.fields.String(validate=validate.Length(min=1, max=500))


class DocumentPatch(ma.Schema):
    title = ma.fields.String(validate=validate.Length(min=1, max=500))
    agenda_item_id = ma.fields.Integer(allow_none=True, strict=True, validate=_ID_RANGE)
    published = ma.fields.Boolean()
    confidentiality = ma.fields.String(validate=validate.OneOf(CONFIDENTIALITY))


class ListQuery(ma.Schema):
    all_versions = ma.fields.Boolean(load_default=False)
