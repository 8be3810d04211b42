"""REST: minutes — draft, finalize, sign, publish, correct, verify."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import current_app, request, send_file
from flask_smorest import Blueprint
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_prepare, can_run, can_view
from meetings.core.errors import Forbidden, Invalid, NotFound, TooLarge
from meetings.core.extensions import db
from meetings.minutes import files, service
from meetings.minutes.models import Minutes
from meetings.minutes.schemas import (
    CorrectionRequest,
    MinutesCreate,
    MinutesOut,
    MinutesUpdate,
    SignatureOut,
    SignRequest,
    VerificationReport,
)
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("minutes", __name__, description="Minutes: composition, signatures, verification")
MAX_VERIFY_BYTES = 50 * 1024 * 1024


def _meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting


def can_read_minutes(m: Minutes, meeting: Meeting, user: User) -> bool:
    """The secretariat and chair see every state; participants and archivists see published minutes."""
    if can_run(meeting, user):
        return True
    return m.status == "published" and (user.is_archivist or can_view(meeting, user))


def _load(minutes_id: int, user: User, *, manage: bool = False, signing: bool = False) -> tuple[Minutes, Meeting]:
    m = db.session.get(Minutes, minutes_id)
    if m is None:
        raise NotFound("No such minutes.")
    meeting = db.session.get(Meeting, m.meeting_id)
    # A participant who tries to sign learns why not (403 from the service), not a 404.
    visible = can_view(meeting, user) if signing else can_read_minutes(m, meeting, user)
    if not visible:
        raise NotFound("No such minutes.")  # no hint that unpublished minutes exist
    if manage and not can_prepare(meeting, user):
        raise Forbidden("Only the secretariat prepares the minutes.")
    return m, meeting


@blp.route("/meetings/<int:meeting_id>/minutes", methods=["POST"])
@blp.arguments(MinutesCreate)
@blp.response(201, MinutesOut)
@error_responses(blp, 403, 404, 409)
def create_minutes(body, meeting_id: int):
    """Start the draft minutes of a meeting (the secretariat)."""
    user = require_user()
    meeting = _meeting(meeting_id)
    if not can_view(meeting, user):
        raise NotFound("No such meeting.")
    if not can_prepare(meeting, user):
        raise Forbidden("Only the secretariat prepares the minutes.")
    m = service.create_minutes(db.session, meeting, user, language=body["language"])
    db.session.commit()
    return m


@blp.route("/meetings/<int:meeting_id>/minutes")
@blp.response(200, MinutesOut(many=True))
@error_responses(blp, 404)
def list_minutes(meeting_id: int):
    """Every version of a meeting's minutes the caller may see, newest first."""
    user = require_user()
    meeting = _meeting(meeting_id)
    if not (can_view(meeting, user) or user.is_archivist):
        raise NotFound("No such meeting.")
    rows = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting_id)
                              .order_by(Minutes.version.desc())).scalars()
    return [m for m in rows if can_read_minutes(m, meeting, user)]


@blp.route("/minutes/<int:minutes_id>")
@blp.response(200, MinutesOut)
@error_responses(blp, 404)
def get_minutes(minutes_id: int):
    """One version of the minutes with its signatures."""
    return _load(minutes_id, require_user())[0]


@blp.route("/minutes/<int:minutes_id>", methods=["PATCH"])
@blp.arguments(MinutesUpdate)
@blp.response(200, MinutesOut)
@error_responses(blp, 403, 404, 409)
def update_minutes(body, minutes_id: int):
    """Edit a draft: number, free text, recipients, conclusions per agenda item."""
    user = require_user()
    m, _ = _load(minutes_id, user, manage=True)
    service.update_draft(db.session, m, user, body)
    db.session.commit()
    return m


@blp.route("/minutes/<int:minutes_id>/file")
@blp.response(200, description="The PDF: a freshly rendered DỰ THẢO for drafts, else the stored file")
@error_responses(blp, 404, 503)
def minutes_file(minutes_id: int):
    """Download the minutes PDF."""
    user = require_user()
    m, meeting = _load(minutes_id, user)
    name = f"bien-ban-{meeting.id}-v{m.version}.pdf"
    if m.status == "draft":
        pdf = service.render_draft(db.session, m, current_app.config, user.id)
        resp = send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=name, max_age=0)
        resp.headers["Cache-Control"] = "no-store"
        return resp
    path = files.minutes_file(current_app.config["STORAGE_PATH"], m.sha256)
    resp = send_file(path, mimetype="application/pdf", download_name=name, etag=m.sha256, conditional=True)
    resp.headers["Cache-Control"] = "private, max-age=0"
    return resp


@blp.route("/minutes/<int:minutes_id>/finalize", methods=["POST"])
@blp.response(200, MinutesOut)
@error_responses(blp, 403, 404, 409, 503)
def finalize_minutes(minutes_id: int):
    """Lock the content and store the PDF with its sha256."""
    user = require_user()
    m, _ = _load(minutes_id, user, manage=True)
    service.finalize(db.session, m, user, current_app.config)
    db.session.commit()
    return m


@blp.route("/minutes/<int:minutes_id>/signatures", methods=["POST"])
@blp.arguments(SignRequest)
@blp.response(201, SignatureOut)
@error_responses(blp, 403, 404, 409, 503)
def sign_minutes(body, minutes_id: int):
    """Sign as the meeting's secretary (first, certifying) or chair (second); re-enter the passphrase or PIN."""
    user = require_user()
    m, _ = _load(minutes_id, user, signing=True)
    sig = service.sign(db.session, m, user, body["secret"], current_app.config, key_id=body.get("key_id"))
    db.session.commit()
    return sig


@blp.route("/minutes/<int:minutes_id>/publish", methods=["POST"])
@blp.response(200, MinutesOut)
@error_responses(blp, 403, 404, 409)
def publish_minutes(minutes_id: int):
    """Send signed minutes to the archive."""
    user = require_user()
    m, _ = _load(minutes_id, user, manage=True)
    service.publish(db.session, m, user)
    db.session.commit()
    return m


@blp.route("/minutes/<int:minutes_id>/corrections", methods=["POST"])
@blp.arguments(CorrectionRequest)
@blp.response(201, MinutesOut)
@error_responses(blp, 403, 404, 409)
def correct_minutes(body, minutes_id: int):
    """Start a corrected version of signed minutes (a new draft referring to this one)."""
    user = require_user()
    m, _ = _load(minutes_id, user, manage=True)
    new = service.correct(db.session, m, user, body["reason"])
    db.session.commit()
    return new


@blp.route("/minutes/<int:minutes_id>/verification")
@blp.response(200, VerificationReport)
@error_responses(blp, 404, 409, 503)
def verify_minutes(minutes_id: int):
    """Each signature of the stored file: signer, role, time, intact / valid / trusted, changes after it."""
    m, _ = _load(minutes_id, require_user())
    return service.verify_minutes(m, current_app.config)


def read_upload() -> bytes:
    """The uploaded PDF (form field ``file``, or the raw body as application/pdf), size-capped."""
    upload = request.files.get("file")
    if upload is not None:
        data = upload.stream.read(MAX_VERIFY_BYTES + 1)
    elif request.mimetype == "application/pdf":
        data = request.get_data(cache=False)
    else:
        raise Invalid("Send the PDF as the form field 'file' or as an application/pdf body.", code="no_file")
    if len(data) > MAX_VERIFY_BYTES:
        raise TooLarge("The file is too large to verify here.")
    if not data.startswith(b"%PDF-"):
        raise Invalid("This is not a PDF file.", code="not_pdf")
    return data


def verify_upload(data: bytes) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.pdf"
        path.write_bytes(data)
        return service.verify_file(path, current_app.config)


@blp.route("/verification", methods=["POST"])
@blp.response(200, VerificationReport)
@error_responses(blp, 413, 422, 503)
def verify_any():
    """Verify the signatures of any uploaded PDF against the organization's trusted roots."""
    require_user()
    return verify_upload(read_upload())
