"""REST shapes of minutes, signatures and verification reports."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.minutes.models import MINUTES_STATUSES
from meetings.platform.http.schemas import UtcDateTime


class MinutesCreate(ma.Schema):
    language = ma.fields.String(load_default="vi", validate=validate.OneOf(("vi", "en")))


class MinutesUpdate(ma.Schema):
    number = ma.fields.String(allow_none=True, validate=validate.Length(max=60))
    opening_text = ma.fields.String(allow_none=True, validate=validate.Length(max=20000))
    closing_text = ma.fields.String(allow_none=True, validate=validate.Length(max=20000))
    recipients = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=300)),
                                validate=validate.Length(max=50))
    # agenda item id (as text) → conclusion; null or "" removes the draft's own text
    conclusions = ma.fields.Dict(keys=ma.fields.String(validate=validate.Regexp(r"^\d{1,12}$")),
                                 values=ma.fields.String(allow_none=True, validate=validate.Length(max=20000)),
                                 validate=validate.Length(max=500))
    language = ma.fields.String(validate=validate.OneOf(("vi", "en")))


class SignRequest(ma.Schema):
    # The passphrase of the signer's PKCS#12 or the PIN of their token; never stored or logged.
    secret = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    key_id = ma.fields.Integer(allow_none=True, strict=True)


class CorrectionRequest(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class SignatureOut(ma.Schema):
    id = ma.fields.Integer()
    role = ma.fields.String()
    signer_id = ma.fields.Integer(allow_none=True)
    signer_name = ma.fields.String()
    certificate_subject = ma.fields.String(allow_none=True)
    signed_at = UtcDateTime()
    sha256 = ma.fields.String()


class MinutesOut(ma.Schema):
    id = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    version = ma.fields.Integer()
    previous_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(validate=validate.OneOf(MINUTES_STATUSES))
    language = ma.fields.String()
    number = ma.fields.String(allow_none=True)
    opening_text = ma.fields.String(allow_none=True)
    closing_text = ma.fields.String(allow_none=True)
    correction_reason = ma.fields.String(allow_none=True)
    recipients = ma.fields.List(ma.fields.String())
    conclusions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(allow_none=True))
    sha256 = ma.fields.String(allow_none=True)
    final_sha256 = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    page_count = ma.fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    finalized_at = UtcDateTime(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    signatures = ma.fields.List(ma.fields.Nested(SignatureOut))


class SignatureReport(ma.Schema):
    field = ma.fields.String(allow_none=True)
    role = ma.fields.String(allow_none=True)
    signer = ma.fields.String()
    signer_dn = ma.fields.String()
    issuer = ma.fields.String()
    signed_at = ma.fields.String(allow_none=True)
    timestamp = ma.fields.String(allow_none=True)
    intact = ma.fields.Boolean()
    valid = ma.fields.Boolean()
    trusted = ma.fields.Boolean()
    certifying = ma.fields.Boolean()
    docmdp = ma.fields.String(allow_none=True)
    coverage = ma.fields.String(allow_none=True)
    covers_revision = ma.fields.Integer()
    revisions = ma.fields.Integer()
    modified_after = ma.fields.Boolean()
    modification_level = ma.fields.String(allow_none=True)
    changes_allowed = ma.fields.Boolean()
    summary = ma.fields.String()
    error = ma.fields.String()
    level = ma.fields.String(allow_none=True, metadata={"description": "PAdES baseline: B-B, B-T, B-LT, B-LTA"})
    revocation_embedded = ma.fields.Boolean()
    document_timestamp_after = ma.fields.Boolean()
    at = ma.fields.Dict(allow_none=True)


class VerificationAt(ma.Schema):
    at = UtcDateTime(load_default=None, metadata={
        "description": "Also validate as of this moment (ISO 8601), from the data embedded in the file only: "
                       "e.g. years after the signers' certificates expired."})


class VerificationReport(ma.Schema):
    signed = ma.fields.Boolean()
    intact = ma.fields.Boolean()
    valid = ma.fields.Boolean()
    trusted = ma.fields.Boolean()
    tampered = ma.fields.Boolean()
    error = ma.fields.String(allow_none=True)
    signatures = ma.fields.List(ma.fields.Nested(SignatureReport))
    level = ma.fields.String(allow_none=True, metadata={"description": "the lowest level of its signatures"})
    document_timestamps = ma.fields.List(ma.fields.Dict())
    validation_time = ma.fields.String(allow_none=True)
    valid_at = ma.fields.Boolean(allow_none=True)


class VerifyUpload(ma.Schema):
    file = ma.fields.Raw(metadata={"type": "string", "format": "binary"})
