"""Pages without a login: answering an invitation from its e-mail link, and the calendar feed.

``/invitations/<token>``: the token authorizes only the answer to this one invitation, on a
phone with no account session. The GET shows the meeting and a form; only the POST (with
the page's CSRF token) answers, so a mail scanner that follows links answers nothing.
``/calendar/<token>.ics``: the user's meetings for calendar programs; a wrong or replaced
token is a 404.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template, request

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.errors import DomainError
from meetings.core.extensions import db
from meetings.notifications import calendar, replies
from meetings.notifications.texts import local_time, words

bp = Blueprint("invitation_pages", __name__)


def _page(invitation, *, status: int = 200, error: str | None = None, done: bool = False):
    meeting = db.session.get(Meeting, invitation.meeting_id)
    user = db.session.get(User, invitation.user_id)
    w = words(user.locale)
    g.lang = user.locale or "vi"  # the invitee's language, whoever's browser this is
    open_ = invitation.cancelled_at is None and meeting.status in replies.OPEN_FOR_REPLIES
    chosen = request.values.get("answer") or invitation.reply
    return render_template(
        "notifications/reply.html", w=w, meeting=meeting, user=user, invitation=invitation, open=open_,
        when=local_time(meeting.starts_at, user.locale, current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"),
        chosen=chosen if chosen in ("attend", "decline", "proxy") else None,
        choices=replies.proxy_choices(meeting, user), error=error, done=done,
        reply_label=w["replies"][invitation.reply]), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def reply_page(token: str):
    """The invitation and its answer form; POST records the answer."""
    try:
        invitation = replies.by_token(db.session, token)
    except DomainError:
        abort(404)
    if request.method == "GET":
        return _page(invitation)
    user = db.session.get(User, invitation.user_id)
    holder = request.form.get("proxy_holder_id", "")
    holder_id = int(holder) if holder.isdigit() and len(holder) < 10 else None  # ids are 32-bit
    try:
        replies.answer(db.session, invitation, user, reply=request.form.get("reply", ""),
                       reason=request.form.get("reason"), proxy_holder_id=holder_id, via="link")
    except DomainError as err:
        return _page(invitation, status=err.status if err.status < 500 else 422, error=err.message)
    return _page(invitation, done=True)


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The user's meetings as an iCalendar feed (calendar programs poll it)."""
    user = calendar.feed_user(db.session, token)
    if user is None:
        abort(404)
    response = Response(calendar.feed_ics(db.session, user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="meetings.ics"'
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
