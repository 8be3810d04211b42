"""REST shapes of conclusion notices, their conclusions and a body's notice settings."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.conclusions.models import NOTICE_STATUSES, SIGN_HEADS, SIGNING_MODES
from meetings.platform.http.schemas import UtcDateTime


class ConclusionIn(ma.Schema):
    id = ma.fields.Integer(allow_none=True, strict=True)
    agenda_item_id = ma.fields.Integer(allow_none=True, strict=True)
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=20000))


class NoticeUpdate(ma.Schema):
    number = ma.fields.String(allow_none=True, validate=validate.Length(max=60))
    subject = ma.fields.String(validate=validate.Length(min=1, max=1000))
    opening_text = ma.fields.String(allow_none=True, validate=validate.Length(max=20000))
    recipients = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=300)),
                                validate=validate.Length(max=50))
    recipient_unit_ids = ma.fields.List(ma.fields.Integer(strict=True), validate=validate.Length(max=200))
    extra_emails = ma.fields.List(ma.fields.String(validate=validate.Length(min=3, max=320)),
                                  validate=validate.Length(max=200))
    send_to_participants = ma.fields.Boolean()
    # The whole numbered list in order: kept ids keep their row, items without an id are new.
    items = ma.fields.List(ma.fields.Nested(ConclusionIn), validate=validate.Length(min=1, max=200))


class NoticeSignRequest(ma.Schema):
    # The signer's passphrase or PIN; never stored or logged.
    secret = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    key_id = ma.fields.Integer(allow_none=True, strict=True)


class ConclusionOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    agenda_item_id = ma.fields.Integer(allow_none=True)
    text = ma.fields.String()


class NoticeOut(ma.Schema):
    id = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    body_id = ma.fields.Integer()
    status = ma.fields.String(validate=validate.OneOf(NOTICE_STATUSES))
    number = ma.fields.String(allow_none=True)
    subject = ma.fields.String()
    opening_text = ma.fields.String(allow_none=True)
    recipients = ma.fields.List(ma.fields.String())
    recipient_unit_ids = ma.fields.List(ma.fields.Integer())
    extra_emails = ma.fields.List(ma.fields.String())
    send_to_participants = ma.fields.Boolean()
    signing_mode = ma.fields.String()
    signer_id = ma.fields.Integer(allow_none=True)
    signer_title = ma.fields.String(allow_none=True)
    edited = ma.fields.Boolean()
    sha256 = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    page_count = ma.fields.Integer(allow_none=True)
    signed_by_id = ma.fields.Integer(allow_none=True)
    signer_name = ma.fields.String(allow_none=True)
    certificate_subject = ma.fields.String(allow_none=True)
    issued_at = UtcDateTime(allow_none=True)
    signed_at = UtcDateTime(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    sent_count = ma.fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    items = ma.fields.List(ma.fields.Nested(ConclusionOut))


class SettingsUpdate(ma.Schema):
    signing_mode = ma.fields.String(validate=validate.OneOf(SIGNING_MODES))
    sign_head = ma.fields.String(validate=validate.OneOf(SIGN_HEADS))
    chair_title = ma.fields.String(validate=validate.Length(min=1, max=200))
    office_chief_id = ma.fields.Integer(allow_none=True, strict=True)
    office_chief_title = ma.fields.String(validate=validate.Length(min=1, max=200))
    recipients = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=300)),
                                validate=validate.Length(max=50))


class SettingsOut(ma.Schema):
    body_id = ma.fields.Integer()
    signing_mode = ma.fields.String()
    sign_head = ma.fields.String()
    chair_title = ma.fields.String()
    office_chief_id = ma.fields.Integer(allow_none=True)
    office_chief_title = ma.fields.String()
    recipients = ma.fields.List(ma.fields.String())
