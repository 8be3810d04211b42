"""REST: tablet enrolment links of one account (administrators), and revoking a link.

The secretariat issues links for a meeting's participants through
``/meetings/<id>/enrolment-links`` (``bodies.enrolment_views``); these routes
know only users. The tablet itself uses the page ``/enrol/<secret>``.
"""
from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint

from meetings.accounts import enrolment, service
from meetings.core.errors import NotFound
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("enrolment_links", __name__, description="Tablet enrolment links (one-time QR codes)")


class EnrolmentLinkOut(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    url = ma.fields.String(metadata={"description": "the one-time link; shown once, only its hash is kept"})
    qr_svg = ma.fields.String(metadata={"description": "the link as a QR code (SVG data URI)"})
    expires_at = ma.fields.DateTime()


class LinkRevoked(ma.Schema):
    device_ended = ma.fields.Boolean(metadata={"description": "the link was used: its tablet is signed out"})


@blp.before_request
def _authenticated_first() -> None:
    require_user()


@blp.route("/users/<int:user_id>/enrolment-links", methods=["POST"])
@blp.response(201, EnrolmentLinkOut)
@error_responses(blp, 403, 404)
def issue_link(user_id: int):
    """A one-time link that signs one tablet in as this account (administrators). Accounts that
    need a second factor, administrators and the secretariat are refused (``not_enrollable``)."""
    import segno  # only here: the QR code of one link

    actor = require_user()
    if not service.visible_to(db.session, actor, user_id):
        raise NotFound("No such user.")  # an account the caller may not see: as if it did not exist
    clear, row = enrolment.issue_for_user(db.session, actor, service.get_user(db.session, user_id))
    url = url_for("enrolment_pages.enrol_page", secret=clear, _external=True)
    return {"id": row.id, "user_id": row.user_id, "url": url, "expires_at": row.expires_at,
            "qr_svg": segno.make(url, error="m").svg_data_uri(scale=4, border=2)}


@blp.route("/enrolment-links/<int:link_id>", methods=["DELETE"])
@blp.response(200, LinkRevoked)
@error_responses(blp, 404)
def revoke_link(link_id: int):
    """Revoke a link (administrators, and whoever issued it): unused, it can no longer enrol; used,
    the tablet it enrolled is signed out and its sockets disconnected."""
    return {"device_ended": enrolment.revoke(db.session, require_user(), link_id)}
