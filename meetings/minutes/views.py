"""REST: minutes — draft, finalize, sign, publish, correct, verify.

Thin: parse, call one service function (which checks the caller's permission),
shape the answer. The HTTP commit point commits.
"""
from __future__ import annotations

import io

from flask import Response, current_app, request, send_file
from flask_smorest import Blueprint

from meetings.bodies.permissions import visible_meeting
from meetings.core.extensions import db
from meetings.minutes import report, service, signatures, trust, verification
from meetings.minutes.schemas import (
    CorrectionRequest,
    MinutesCreate,
    MinutesOut,
    MinutesUpdate,
    SignatureOut,
    SignRequest,
    VerificationAt,
    VerificationReport,
)
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("minutes", __name__, description="Minutes: composition, signatures, verification")


@blp.route("/meetings/<int:meeting_id>/minutes", methods=["POST"])
@blp.arguments(MinutesCreate)
@blp.response(201, MinutesOut)
@error_responses(blp, 403, 404, 409)
def create_minutes(body, meeting_id: int):
    """Start the draft minutes of a meeting (the secretariat)."""
    user = require_user()
    meeting = visible_meeting(db.session, meeting_id, user)
    return service.create_minutes(db.session, meeting, user, language=body["language"])


@blp.route("/meetings/<int:meeting_id>/minutes")
@blp.response(200, MinutesOut(many=True))
@error_responses(blp, 404)
def list_minutes(meeting_id: int):
    """Every version of a meeting's minutes the caller may see, newest first."""
    return service.list_minutes(db.session, meeting_id, require_user())


@blp.route("/minutes/<int:minutes_id>")
@blp.response(200, MinutesOut)
@error_responses(blp, 404)
def get_minutes(minutes_id: int):
    """One version of the minutes with its signatures."""
    user = require_user()
    return service.readable_minutes(db.session, service.find_minutes(db.session, minutes_id), user)


@blp.route("/minutes/<int:minutes_id>", methods=["PATCH"])
@blp.arguments(MinutesUpdate)
@blp.response(200, MinutesOut)
@error_responses(blp, 403, 404, 409)
def update_minutes(body, minutes_id: int):
    """Edit a draft: number, free text, recipients, conclusions per agenda item."""
    user = require_user()
    return service.update_draft(db.session, service.find_minutes(db.session, minutes_id), user, **body)


@blp.route("/minutes/<int:minutes_id>/file")
@blp.response(200, description="The PDF: a freshly rendered DỰ THẢO for drafts, else the stored file")
@error_responses(blp, 404, 503)
def minutes_file(minutes_id: int):
    """Download the minutes PDF."""
    user = require_user()
    pdf = service.minutes_pdf(db.session, service.find_minutes(db.session, minutes_id), user, current_app.config)
    if pdf.data is not None:
        resp = send_file(io.BytesIO(pdf.data), mimetype="application/pdf", download_name=pdf.download_name,
                         max_age=0)
        resp.headers["Cache-Control"] = "no-store"
        return resp
    resp = send_file(pdf.path, mimetype="application/pdf", download_name=pdf.download_name, etag=pdf.sha256,
                     conditional=True)
    resp.headers["Cache-Control"] = "private, max-age=0"
    return resp


@blp.route("/minutes/<int:minutes_id>/finalize", methods=["POST"])
@blp.response(200, MinutesOut)
@error_responses(blp, 403, 404, 409, 503)
def finalize_minutes(minutes_id: int):
    """Lock the content and store the PDF with its sha256."""
    user = require_user()
    return service.finalize(db.session, service.find_minutes(db.session, minutes_id), user, current_app.config)


@blp.route("/minutes/<int:minutes_id>/signatures", methods=["POST"])
@blp.arguments(SignRequest)
@blp.response(201, SignatureOut)
@error_responses(blp, 403, 404, 409, 503)
def sign_minutes(body, minutes_id: int):
    """Sign as the meeting's secretary (first, certifying) or chair (second); re-enter the passphrase or PIN."""
    user = require_user()
    return signatures.sign(db.session, service.find_minutes(db.session, minutes_id), user, current_app.config,
                           secret=body["secret"], key_id=body.get("key_id"))


@blp.route("/minutes/<int:minutes_id>/publish", methods=["POST"])
@blp.response(200, MinutesOut)
@error_responses(blp, 403, 404, 409)
def publish_minutes(minutes_id: int):
    """Send signed minutes to the archive."""
    user = require_user()
    return service.publish(db.session, service.find_minutes(db.session, minutes_id), user, current_app.config)


@blp.route("/minutes/<int:minutes_id>/corrections", methods=["POST"])
@blp.arguments(CorrectionRequest)
@blp.response(201, MinutesOut)
@error_responses(blp, 403, 404, 409)
def correct_minutes(body, minutes_id: int):
    """Start a corrected version of signed minutes (a new draft referring to this one)."""
    user = require_user()
    return service.correct(db.session, service.find_minutes(db.session, minutes_id), user, reason=body["reason"])


@blp.route("/minutes/<int:minutes_id>/verification")
@blp.arguments(VerificationAt, location="query")
@blp.response(200, VerificationReport)
@error_responses(blp, 404, 409, 503)
def verify_minutes(query, minutes_id: int):
    """Each signature of the stored file: signer, role, time, intact / valid / trusted, level, changes after it."""
    user = require_user()
    return verification.verify_minutes(db.session, service.find_minutes(db.session, minutes_id), user,
                                       current_app.config, validation_time=query["at"])


@blp.route("/verification", methods=["POST"])
@blp.arguments(VerificationAt, location="query")
@blp.response(200, VerificationReport)
@error_responses(blp, 413, 422, 503)
def verify_any(query):
    """Verify the signatures of any uploaded PDF against the organization's trusted roots (``?at=`` as of then)."""
    require_user()
    return verification.verify_upload(verification.read_upload(request), current_app.config,
                                      validation_time=query["at"])


@blp.route("/minutes/<int:minutes_id>/validation-report")
@blp.response(200, description="The validation report stored at publishing: JSON, or ?format=html")
@error_responses(blp, 404, 409)
def validation_report(minutes_id: int):
    """What the verifier found in the published file: every signature, the trust roots, when (JSON or HTML)."""
    user = require_user()
    kind = "html" if request.args.get("format") == "html" else "json"
    path = report.validation_report(db.session, service.find_minutes(db.session, minutes_id), user,
                                    current_app.config, kind)
    resp = send_file(path, mimetype=report.MEDIA_TYPES[kind], download_name=f"validation-report-{minutes_id}.{kind}",
                     etag=path.stem, conditional=True)
    resp.headers["Cache-Control"] = "private, max-age=0"
    return resp


@blp.route("/ca/chain")
@blp.response(200, description="The trust anchors: PEM (application/pem-certificate-chain), or ?format=der (PKCS#7)")
@error_responses(blp, 404)
def ca_chain():
    """The organization CA and the other trusted roots, to verify signatures without this server."""
    require_user()
    if request.args.get("format") == "der":
        return Response(trust.chain_der(current_app.config), mimetype="application/pkcs7-mime",
                        headers={"Content-Disposition": f'attachment; filename="{trust.DER_NAME}"'})
    return Response(trust.chain_pem(current_app.config), mimetype="application/pem-certificate-chain",
                    headers={"Content-Disposition": f'attachment; filename="{trust.PEM_NAME}"'})
