"""The conclusion notice page of a meeting: the secretariat's editor, the signer's form, everyone's reading.

Thin, like every page: whoever sees the meeting gets the page (404 otherwise);
what it shows and offers is what the REST API answers them
(``static/js/conclusions/editor.js`` fetches everything over /api/v1 and each
write there checks the caller through ``meetings.conclusions.policy``).
Linked from the meeting console (``templates/console/*``: the lead or H5 adds the link).
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import login_required

from meetings.bodies import units
from meetings.bodies.models import Meeting
from meetings.bodies.permissions import can_prepare, can_view
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user

bp = Blueprint("conclusion_pages", __name__)


@bp.route("/meetings/<int:meeting_id>/conclusions")
@login_required
def notice_page(meeting_id: int):
    """The meeting's Thông báo kết luận: compose and edit (secretariat), sign (the signer), read (participants)."""
    user = require_user()
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not can_view(meeting, user):
        abort(404)
    boot = {"me": {"id": user.id, "name": user.full_name}, "locale": str(get_locale() or "vi"),
            "meeting": {"id": meeting.id, "title": meeting.title, "status": meeting.status,
                        "body_id": meeting.body_id},
            "prepare": can_prepare(meeting, user),
            # Who may assign follow-up tasks from the conclusions: meetings.tasks.policy.is_office is exactly
            # units.is_body_office (tasks sit above conclusions, so the page asks the function it delegates to).
            "task_office": units.is_body_office(db.session, meeting.body_id, user)}
    return render_template("conclusions/notice.html", meeting=meeting, boot=boot)
