"""REST schemas of the opinion forms."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.platform.http.schemas import UtcDateTime

ID = validate.Range(min=1, max=2**31 - 1)


class QuestionIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(["agree", "choice"]))
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    options = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=300)),
                             validate=validate.Length(max=20), metadata={"description": "labels (choice)"})
    min_choices = ma.fields.Integer(validate=validate.Range(min=1, max=20))
    max_choices = ma.fields.Integer(validate=validate.Range(min=1, max=20))


class FormPatch(ma.Schema):
    title = ma.fields.String(validate=validate.Length(min=1, max=500))
    explanation = ma.fields.String(allow_none=True, validate=validate.Length(max=20000))
    meeting_id = ma.fields.Integer(allow_none=True, validate=ID)
    closes_at = UtcDateTime(allow_none=True)
    allow_change = ma.fields.Boolean()
    require_signature = ma.fields.Boolean()
    majority_base = ma.fields.String(validate=validate.OneOf(["cast", "present", "entitled"]))
    threshold_numerator = ma.fields.Integer(validate=validate.Range(min=1, max=100))
    threshold_denominator = ma.fields.Integer(validate=validate.Range(min=1, max=100))
    threshold_strict = ma.fields.Boolean()
    tie_rule = ma.fields.String(validate=validate.OneOf(["chair", "reject"]))
    chair_id = ma.fields.Integer(allow_none=True, validate=ID)
    signer_id = ma.fields.Integer(allow_none=True, validate=ID)
    signer_title = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    number = ma.fields.String(allow_none=True, validate=validate.Length(max=50))
    questions = ma.fields.List(ma.fields.Nested(QuestionIn), validate=validate.Length(max=50))
    recipient_ids = ma.fields.List(ma.fields.Integer(validate=ID), validate=validate.Length(max=5000),
                                   metadata={"description": "body members; default every member"})


class FormCreate(FormPatch):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class QuestionOut(ma.Schema):
    id = ma.fields.Integer()
    position = ma.fields.Integer()
    kind = ma.fields.String()
    text = ma.fields.String()
    options = ma.fields.List(ma.fields.Dict())
    min_choices = ma.fields.Integer()
    max_choices = ma.fields.Integer()


class AnswerEntry(ma.Schema):
    question_id = ma.fields.Integer(required=True, validate=ID)
    choice = ma.fields.String(validate=validate.OneOf(["agree", "disagree", "other"]))
    options = ma.fields.List(ma.fields.String(validate=validate.Length(max=20)), validate=validate.Length(max=20))
    comment = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))


class AnswerIn(ma.Schema):
    answers = ma.fields.List(ma.fields.Nested(AnswerEntry), required=True, validate=validate.Length(max=50))
    secret = ma.fields.String(load_only=True, validate=validate.Length(max=500),
                              metadata={"description": "passphrase or PIN, when the form must be signed"})


class AnswerOut(ma.Schema):
    id = ma.fields.Integer()
    form_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    full_name = ma.fields.String(allow_none=True)
    answers = ma.fields.List(ma.fields.Dict())
    revision = ma.fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    signed = ma.fields.Boolean()
    paper_sha256 = ma.fields.String(allow_none=True)
    signed_at = UtcDateTime(allow_none=True)
    certificate_subject = ma.fields.String(allow_none=True)


class AttachmentOut(ma.Schema):
    id = ma.fields.Integer()
    filename = ma.fields.String()
    size = ma.fields.Integer()
    page_count = ma.fields.Integer()
    url = ma.fields.String()


class FormOut(FormPatch):
    id = ma.fields.Integer()
    body_id = ma.fields.Integer()
    status = ma.fields.String()
    opened_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    reported_at = UtcDateTime(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    report_state = ma.fields.String()
    questions = ma.fields.List(ma.fields.Nested(QuestionOut))
    attachments = ma.fields.List(ma.fields.Nested(AttachmentOut))
    recipient_ids = ma.fields.List(ma.fields.Integer(), allow_none=True)
    my_answer = ma.fields.Nested(AnswerOut, allow_none=True)
    accepting_answers = ma.fields.Boolean()
    can_answer = ma.fields.Boolean()
    can_manage = ma.fields.Boolean()
    can_sign_report = ma.fields.Boolean()


class ListArgs(ma.Schema):
    body_id = ma.fields.Integer(validate=ID)


class SignIn(ma.Schema):
    secret = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=500))
    key_id = ma.fields.Integer(validate=ID)


class TallyOut(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    form_id = ma.fields.Integer()
    status = ma.fields.String()
    recipients = ma.fields.Integer()
    answered = ma.fields.Integer()
    not_answered = ma.fields.List(ma.fields.Integer())
    answered_ids = ma.fields.List(ma.fields.Integer())
    signed = ma.fields.List(ma.fields.Integer())
    majority_base = ma.fields.String()
    threshold = ma.fields.String()
    tie_rule = ma.fields.String()
    questions = ma.fields.List(ma.fields.Dict(), metadata={"description": "per question: every figure of "
                                                                          "meetings.voting.rules.decide"})
