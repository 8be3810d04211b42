"""REST: conclusion notices (thông báo kết luận) — compose, edit, ready, sign, publish, file; body settings.

Thin: parse, call one service function (which checks the caller's permission),
shape the answer. The HTTP commit point commits.
"""
from __future__ import annotations

import io

from flask import current_app, send_file
from flask_smorest import Blueprint

from meetings.bodies.models import Body
from meetings.bodies.permissions import visible_meeting
from meetings.conclusions import policy, service, settings, workflow
from meetings.conclusions.schemas import NoticeOut, NoticeSignRequest, NoticeUpdate, SettingsOut, SettingsUpdate
from meetings.core.errors import NotFound
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("conclusions", __name__, description="Conclusion notices (thông báo kết luận)")


def _notice(notice_id: int):
    return service.find_notice(db.session, notice_id)


@blp.route("/meetings/<int:meeting_id>/conclusion-notice", methods=["POST"])
@blp.response(201, NoticeOut)
@error_responses(blp, 403, 404, 409)
def create_notice(meeting_id: int):
    """Compose the draft notice of a closed sitting from its conclusions per agenda item (the secretariat)."""
    user = require_user()
    return service.create_notice(db.session, visible_meeting(db.session, meeting_id, user), user)


@blp.route("/meetings/<int:meeting_id>/conclusion-notice")
@blp.response(200, NoticeOut)
@error_responses(blp, 404)
def meeting_notice(meeting_id: int):
    """The meeting's notice, for whoever may read it (participants once it is published)."""
    return service.notice_of_meeting(db.session, meeting_id, require_user())


@blp.route("/conclusion-notices/<int:notice_id>")
@blp.response(200, NoticeOut)
@error_responses(blp, 404)
def get_notice(notice_id: int):
    """One notice with its numbered conclusions."""
    return service.readable_notice(db.session, _notice(notice_id), require_user())


@blp.route("/conclusion-notices/<int:notice_id>", methods=["PATCH"])
@blp.arguments(NoticeUpdate)
@blp.response(200, NoticeOut)
@error_responses(blp, 403, 404, 409)
def update_notice(body, notice_id: int):
    """Edit a draft: subject, opening text, number, the numbered conclusions, Nơi nhận, who it is sent to."""
    return service.update_notice(db.session, _notice(notice_id), require_user(), **body)


@blp.route("/conclusion-notices/<int:notice_id>/ready", methods=["POST"])
@blp.response(200, NoticeOut)
@error_responses(blp, 403, 404, 409)
def ready_notice(notice_id: int):
    """Lock the content for signing: number, date, signer, the PDF with its empty signature field."""
    return workflow.make_ready(db.session, _notice(notice_id), require_user(), current_app.config)


@blp.route("/conclusion-notices/<int:notice_id>/reopen", methods=["POST"])
@blp.response(200, NoticeOut)
@error_responses(blp, 403, 404, 409)
def reopen_notice(notice_id: int):
    """Back to draft before it is signed (the number stays)."""
    return workflow.reopen(db.session, _notice(notice_id), require_user())


@blp.route("/conclusion-notices/<int:notice_id>/signature", methods=["POST"])
@blp.arguments(NoticeSignRequest)
@blp.response(200, NoticeOut)
@error_responses(blp, 403, 404, 409, 503)
def sign_notice(body, notice_id: int):
    """Sign as the designated signer (the chair, or the Chánh Văn phòng); re-enter the passphrase or PIN."""
    return workflow.sign(db.session, _notice(notice_id), require_user(), current_app.config,
                         secret=body["secret"], key_id=body.get("key_id"))


@blp.route("/conclusion-notices/<int:notice_id>/publish", methods=["POST"])
@blp.response(200, NoticeOut)
@error_responses(blp, 403, 404, 409)
def publish_notice(notice_id: int):
    """Publish the signed notice: visible to the participants, e-mailed with the PDF to the recipients."""
    return workflow.publish(db.session, _notice(notice_id), require_user(), current_app.config)


@blp.route("/conclusion-notices/<int:notice_id>/file")
@blp.response(200, description="The PDF: a freshly rendered DỰ THẢO for drafts, else the stored file")
@error_responses(blp, 404)
def notice_file(notice_id: int):
    """Download the notice PDF."""
    pdf = workflow.notice_pdf(db.session, _notice(notice_id), require_user(), current_app.config)
    if pdf.data is not None:
        resp = send_file(io.BytesIO(pdf.data), mimetype="application/pdf", download_name=pdf.download_name,
                         max_age=0)
        resp.headers["Cache-Control"] = "no-store"
        return resp
    resp = send_file(pdf.path, mimetype="application/pdf", download_name=pdf.download_name, etag=pdf.sha256,
                     conditional=True)
    resp.headers["Cache-Control"] = "private, max-age=0"
    return resp


def _body(body_id: int) -> Body:
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound("No such body.")
    return body


@blp.route("/bodies/<int:body_id>/conclusion-settings")
@blp.response(200, SettingsOut)
@error_responses(blp, 403, 404)
def get_settings(body_id: int):
    """How the body's notices are signed and addressed (its secretariat, administrators)."""
    body = _body(body_id)
    policy.require_settings(body, require_user())
    return settings.settings_of(db.session, body)


@blp.route("/bodies/<int:body_id>/conclusion-settings", methods=["PATCH"])
@blp.arguments(SettingsUpdate)
@blp.response(200, SettingsOut)
@error_responses(blp, 403, 404)
def update_settings(data, body_id: int):
    """Change who signs (chair, or TL. Chủ tịch / Chánh Văn phòng), the chair's title, the default Nơi nhận."""
    return settings.update_settings(db.session, _body(body_id), require_user(), **data)
