"""Tablets of a meeting: REST for the console's panel, and the printable sheet of QR codes.

REST (``blp``, under /api/v1): issue links for the participants, see each one's state, revoke one.
Pages (``pages``): ``/meetings/<id>/tablets`` (the panel on a page of its own) and the sheet,
``POST /meetings/<id>/enrolment-sheet`` (a form post with the page's CSRF token: issuing writes),
whose answer is the A4 page to print: the secrets exist only in that answer.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Blueprint as PageBlueprint
from flask import abort, current_app, render_template, request, url_for
from flask_login import login_required
from flask_smorest import Blueprint

from meetings.bodies import enrolment_sheet, permissions
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("enrolment", __name__, description="Tablet enrolment links of a meeting's participants")
pages = PageBlueprint("enrolment_sheet_pages", __name__)


class IssueIn(ma.Schema):
    user_ids = ma.fields.List(ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 2**31 - 1)),
                              validate=ma.validate.Length(max=5000),
                              metadata={"description": "only these participants (default: all)"})


class LinkOut(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    issued_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    used_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    device = ma.fields.String(allow_none=True, metadata={"description": "the device (session-<n>) it enrolled"})
    status = ma.fields.String(metadata={"description": "pending, used, expired or revoked"})


class IssuedOut(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()
    position = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    url = ma.fields.String(metadata={"description": "the one-time link; shown once, only its hash is kept"})
    link = ma.fields.Nested(LinkOut)


class SkippedOut(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()
    reason = ma.fields.String(metadata={"description": "prepares_meetings, second_factor, global_role, inactive"})


class SheetOut(ma.Schema):
    issued = ma.fields.List(ma.fields.Nested(IssuedOut))
    skipped = ma.fields.List(ma.fields.Nested(SkippedOut))


class ParticipantLinkOut(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()
    position = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    link = ma.fields.Nested(LinkOut, allow_none=True)


class RevokedOut(ma.Schema):
    device_ended = ma.fields.Boolean(metadata={"description": "the link was used: its tablet is signed out"})


def _local(moment) -> str:
    """A time as the hall reads it (setting ``TIMEZONE``)."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")
    return moment.astimezone(zone).strftime("%H:%M %d/%m/%Y")


def _url(secret: str) -> str:
    return url_for("enrolment_pages.enrol_page", secret=secret, _external=True)


@blp.before_request
def _authenticated_first() -> None:
    require_user()  # anonymous callers get 401 before their JSON is parsed


@blp.route("/meetings/<int:meeting_id>/enrolment-links", methods=["POST"])
@blp.arguments(IssueIn)
@blp.response(201, SheetOut)
@error_responses(blp, 403, 404, 409)
def issue_links(body, meeting_id: int):
    """Issue tablet enrolment links for the meeting's participants (all, or ``user_ids``) in one call;
    a participant's earlier unused link is voided. Those preparing the meeting only."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    sheet = enrolment_sheet.issue_for_meeting(db.session, meeting, user, url_for_secret=_url,
                                              user_ids=body.get("user_ids"))
    return {"issued": [vars(i) for i in sheet.issued], "skipped": sheet.skipped}


@blp.route("/meetings/<int:meeting_id>/enrolment-links")
@blp.response(200, ParticipantLinkOut(many=True))
@error_responses(blp, 403, 404)
def list_links(meeting_id: int):
    """Each participant and the state of their latest enrolment link (never its secret)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return enrolment_sheet.links_of_meeting(db.session, meeting, user)


@blp.route("/meetings/<int:meeting_id>/enrolment-links/<int:link_id>", methods=["DELETE"])
@blp.response(200, RevokedOut)
@error_responses(blp, 403, 404)
def revoke_link(meeting_id: int, link_id: int):
    """Revoke a link: unused, it can no longer enrol; used, its tablet is signed out (sockets too)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)
    return {"device_ended": enrolment_sheet.revoke_for_meeting(db.session, meeting, user, link_id)}


# ------------------------------------------------------------------ pages

def _preparable(meeting_id: int):
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)  # 404 for the unknown and invisible
    if not permissions.can_prepare(meeting, user):
        abort(403)
    return meeting, user


@pages.route("/meetings/<int:meeting_id>/tablets")
@login_required
def tablets(meeting_id: int):
    """The "provision tablets" panel on a page of its own (the console can include it too)."""
    meeting, _ = _preparable(meeting_id)
    return render_template("console/tablets.html", meeting=meeting, boot={"meeting": {
        "id": meeting.id, "title": meeting.title, "status": meeting.status}})


@pages.route("/meetings/<int:meeting_id>/enrolment-sheet", methods=["POST"])
@login_required
def sheet(meeting_id: int):
    """Issue the links and answer the A4 sheet to print: one QR code per delegate, name and position."""
    meeting, user = _preparable(meeting_id)
    ids = [int(v) for v in request.form.getlist("user_id") if v.isdigit() and len(v) < 10] or None
    result = enrolment_sheet.issue_for_meeting(db.session, meeting, user, url_for_secret=_url, user_ids=ids)
    response = render_template("console/enrolment_sheet.html", sheet=result, meeting=meeting,
                               expires=_local(enrolment_sheet.expires_for(meeting)))
    return response, 200, {"Cache-Control": "no-store"}
