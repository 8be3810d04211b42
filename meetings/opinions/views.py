"""REST: written opinion forms, their questions, attachments, answers, tally and report.

Thin views: find the caller, parse, call one service (which checks the caller through
``policy``), shape the answer; the request's commit point commits. Whoever may not see a form
gets 404; whoever sees it but may not act, 403; a late answer 409 ``deadline_passed``.
"""
from __future__ import annotations

from flask import current_app, request, send_file
from flask_smorest import Blueprint

from meetings.bodies.models import Body
from meetings.core.errors import Invalid, NotFound
from meetings.core.extensions import db
from meetings.documents.storage import blob_path
from meetings.opinions import answering, files, policy, reading, report, service
from meetings.opinions.schemas import (
    AnswerIn,
    AnswerOut,
    FormCreate,
    FormOut,
    FormPatch,
    ListArgs,
    QuestionIn,
    QuestionOut,
    SignIn,
    TallyOut,
)
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("opinions", __name__, description="Written opinion forms (phiếu lấy ý kiến)")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "You see the form but may not do this (not_office, not_recipient, not_a_signer)",
        409: "The form's state does not allow it (deadline_passed, not_draft, not_open, answer_final, ...)"})


def _form(form_id: int):
    user = require_user()
    return service.find_form(db.session, form_id, user), user


def _out(form, user) -> dict:
    return reading.form_out(db.session, form, user)


def _pdf(path, name: str):
    return send_file(path, mimetype="application/pdf", as_attachment=False, download_name=name, max_age=0)


@blp.route("/opinion-forms")
@blp.arguments(ListArgs, location="query")
@blp.response(200, FormOut(many=True))
def list_forms(args):
    """The forms the caller may see (drafts only for the secretariat), newest first."""
    user = require_user()
    return [_out(f, user) for f in service.list_forms(db.session, user, args.get("body_id"))]


@blp.route("/bodies/<int:body_id>/opinion-forms", methods=["POST"])
@blp.arguments(FormCreate)
@blp.response(201, FormOut)
@_errors(403, 404)
def create_form(data, body_id: int):
    """Draft a form for the body's members or a chosen list (the body's secretariat)."""
    user = require_user()
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound("No such body.")
    return _out(service.create_form(db.session, body, user, data), user)


@blp.route("/opinion-forms/<int:form_id>")
@blp.response(200, FormOut)
@_errors(404)
def get_form(form_id: int):
    """One form as the caller sees it, with their own answer."""
    form, user = _form(form_id)
    return _out(form, user)


@blp.route("/opinion-forms/<int:form_id>", methods=["PATCH"])
@blp.arguments(FormPatch)
@blp.response(200, FormOut)
@_errors(403, 404, 409)
def patch_form(data, form_id: int):
    """Change a draft; a sent form only moves its deadline later."""
    form, user = _form(form_id)
    return _out(service.update_form(db.session, form, user, data), user)


@blp.route("/opinion-forms/<int:form_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_form(form_id: int):
    """Throw away a draft."""
    form, user = _form(form_id)
    service.delete_form(db.session, form, user)


@blp.route("/opinion-forms/<int:form_id>/questions", methods=["POST"])
@blp.arguments(QuestionIn)
@blp.response(201, QuestionOut)
@_errors(403, 404, 409)
def add_question(data, form_id: int):
    """Add a question to a draft: kind agree (đồng ý / không đồng ý / ý kiến khác) or choice."""
    form, user = _form(form_id)
    return service.add_question(db.session, form, user, data)


@blp.route("/opinion-forms/<int:form_id>/questions/<int:question_id>", methods=["DELETE"])
@blp.response(204)
@_errors(403, 404, 409)
def delete_question(form_id: int, question_id: int):
    """Remove a question of a draft."""
    form, user = _form(form_id)
    service.delete_question(db.session, form, user, question_id)


@blp.route("/opinion-forms/<int:form_id>/attachments", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}})
@blp.response(201, FormOut)
@_errors(403, 404, 409, 413, 422)
def add_attachment(form_id: int):
    """Attach a PDF to a draft (checked and disarmed by the document intake). Multipart field ``file``."""
    form, user = _form(form_id)
    policy.require_office(db.session, form, user)  # before the body is read
    upload = request.files.get("file")
    if upload is None or len(request.files) != 1:
        raise Invalid("Send exactly one PDF in the multipart field `file`.", details={"files": ["file"]})
    service.add_attachment(db.session, form, user, upload.stream, upload.filename or "", current_app.config)
    return _out(form, user)


@blp.route("/opinion-forms/<int:form_id>/attachments/<int:attachment_id>")
@blp.response(200, description="The attached PDF (disarmed copy)")
@_errors(404)
def get_attachment(form_id: int, attachment_id: int):
    """An attached document, for whoever sees the form."""
    form, _user = _form(form_id)
    att = next((a for a in form.attachments if a.id == attachment_id), None)
    if att is None:
        raise NotFound("No such attachment.")
    return _pdf(blob_path(current_app.config["STORAGE_PATH"], att.sha256), att.filename)


@blp.route("/opinion-forms/<int:form_id>/open", methods=["POST"])
@blp.response(200, FormOut)
@_errors(403, 404, 409, 422)
def open_form(form_id: int):
    """Send the form: recipients are told (e-mail, in-app, push per their settings)."""
    form, user = _form(form_id)
    return _out(service.open_form(db.session, form, user), user)


@blp.route("/opinion-forms/<int:form_id>/close", methods=["POST"])
@blp.response(200, FormOut)
@_errors(403, 404, 409)
def close_form(form_id: int):
    """Close the form before its deadline; the tally is stored."""
    form, user = _form(form_id)
    return _out(service.close_form(db.session, form, user), user)


@blp.route("/opinion-forms/<int:form_id>/answer", methods=["PUT"])
@blp.arguments(AnswerIn)
@blp.response(200, AnswerOut)
@_errors(403, 404, 409, 422)
def put_answer(data, form_id: int):
    """Answer (or change the answer, if allowed) before the deadline; signed when the form requires it."""
    form, user = _form(form_id)
    answer = answering.submit_answer(db.session, form, user, data["answers"], current_app.config,
                                     secret=data.get("secret"))
    return reading.answer_out(answer, {user.id: user.full_name})


@blp.route("/opinion-forms/<int:form_id>/answers")
@blp.response(200, AnswerOut(many=True))
@_errors(403, 404)
def list_answers(form_id: int):
    """Who answered what (the secretariat and the signer; recipients once the report is published)."""
    form, user = _form(form_id)
    return reading.answers_of(db.session, form, user)


@blp.route("/opinion-forms/<int:form_id>/answers/<int:user_id>/paper")
@blp.response(200, description="The signed answer (PDF)")
@_errors(403, 404)
def answer_paper(form_id: int, user_id: int):
    """A member's signed answer: the member themself, or who may see the answers."""
    form, user = _form(form_id)
    if user.id != user_id:
        policy.require_see_answers(db.session, form, user)
    row = next((a for a in reading.answers_of_unchecked(db.session, form) if a.user_id == user_id), None)
    if row is None or not row.paper_sha256:
        raise NotFound("No signed answer.")
    return _pdf(files.paper_file(current_app.config["STORAGE_PATH"], row.paper_sha256),
                f"tra-loi-{form.id}-{user_id}.pdf")


@blp.route("/opinion-forms/<int:form_id>/tally")
@blp.response(200, TallyOut)
@_errors(403, 404)
def get_tally(form_id: int):
    """The tally by the rules of polls (base, threshold, tie rule), with every figure used; live while open."""
    form, user = _form(form_id)
    return reading.live_tally(db.session, form, user)


@blp.route("/opinion-forms/<int:form_id>/report", methods=["POST"])
@blp.response(200, FormOut)
@_errors(403, 404, 409)
def compose_report(form_id: int):
    """Compose the "Báo cáo tổng hợp ý kiến" of a closed form (the secretariat)."""
    form, user = _form(form_id)
    return _out(report.compose_report(db.session, form, user, current_app.config), user)


@blp.route("/opinion-forms/<int:form_id>/report")
@blp.response(200, description="The report PDF")
@_errors(403, 404)
def get_report(form_id: int):
    """The report PDF (the secretariat and the signer; recipients once published)."""
    form, user = _form(form_id)
    return _pdf(report.report_file(db.session, form, user, current_app.config), f"bao-cao-y-kien-{form.id}.pdf")


@blp.route("/opinion-forms/<int:form_id>/report/sign", methods=["POST"])
@blp.arguments(SignIn)
@blp.response(200, FormOut)
@_errors(403, 404, 409, 422)
def sign_report(data, form_id: int):
    """The signer signs the report with their key (passphrase or PIN, never stored)."""
    form, user = _form(form_id)
    return _out(report.sign_report(db.session, form, user, current_app.config, secret=data["secret"],
                                   key_id=data.get("key_id")), user)


@blp.route("/opinion-forms/<int:form_id>/report/publish", methods=["POST"])
@blp.response(200, FormOut)
@_errors(403, 404, 409)
def publish_report(form_id: int):
    """Publish the signed report to the recipients (the secretariat)."""
    form, user = _form(form_id)
    return _out(report.publish_report(db.session, form, user), user)
