"""REST: my notification list (the bell), my notification settings, a body's.

Thin views: each parses, calls one service of ``inbox.py`` or ``settings.py``, shapes the answer.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from meetings.bodies.models import Body
from meetings.core.errors import NotFound
from meetings.core.extensions import db
from meetings.notifications import inbox, settings
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("notifications", __name__, description="In-app notifications and notification settings")

_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
_OFFSET = ma.fields.Integer(validate=validate.Range(min=1, max=settings.MAX_OFFSET))
_OFFSETS = validate.Length(max=settings.MAX_OFFSETS)
_CHANNEL = ma.fields.String(validate=validate.OneOf(settings.CHANNELS))


class ListArgs(ma.Schema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only the unread ones"})
    before = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                               metadata={"description": "Older than this id (the next page)"})
    limit = ma.fields.Integer(load_default=inbox.PAGE, validate=validate.Range(min=1, max=inbox.PAGE))


class NotificationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    url = ma.fields.String(allow_none=True)
    meeting_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.String(required=True)
    read_at = ma.fields.String(allow_none=True)


class NotificationListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationOut), required=True)
    unread = ma.fields.Integer(required=True)


class UnreadOut(ma.Schema):
    unread = ma.fields.Integer(required=True)
    marked = ma.fields.Integer()


class UserSettingsSchema(ma.Schema):
    email = ma.fields.Boolean()
    sms = ma.fields.Boolean()
    push = ma.fields.Boolean()
    inapp = ma.fields.Boolean()
    quiet_from = ma.fields.String(allow_none=True, validate=validate.Regexp(_HHMM),
                                  metadata={"description": "Quiet hours start (HH:MM, the hall's time): SMS and "
                                                           "push wait until they end"})
    quiet_until = ma.fields.String(allow_none=True, validate=validate.Regexp(_HHMM))


class BodySettingsSchema(ma.Schema):
    reminder_offsets = ma.fields.List(_OFFSET, allow_none=True, validate=_OFFSETS,
                                      metadata={"description": "Minutes before a meeting (null: the default)"})
    deadline_offsets = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(max=40)),
                                      values=ma.fields.List(_OFFSET, validate=_OFFSETS),
                                      metadata={"description": "Per deadline source (poll, …), minutes before"})
    channels = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(max=40)),
                              values=ma.fields.List(_CHANNEL, validate=validate.Length(max=len(settings.CHANNELS))),
                              metadata={"description": "Per kind (reminder, document, minutes, poll, deadline.poll)"})


@blp.route("/me/notifications")
@blp.arguments(ListArgs, location="query")
@blp.response(200, NotificationListOut)
def my_notifications(args):
    """My notifications, newest first, with the unread count."""
    user = require_user()
    return inbox.list_for(db.session, user.id, unread_only=args["unread"], before=args.get("before"),
                          limit=args["limit"])


@blp.route("/me/notifications/unread")
@blp.response(200, UnreadOut)
def my_unread():
    """How many of my notifications are unread (the bell's badge)."""
    return {"unread": inbox.unread_count(db.session, require_user().id)}


@blp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationOut)
@error_responses(blp, 404)
def mark_read(notification_id: int):
    """Mark one of my notifications read."""
    return inbox.mark_read(db.session, require_user().id, notification_id)


@blp.route("/me/notifications/read-all", methods=["POST"])
@blp.response(200, UnreadOut)
def mark_all_read():
    """Mark all my notifications read."""
    marked = inbox.mark_all_read(db.session, require_user().id)
    return {"unread": 0, "marked": marked}


@blp.route("/me/notification-settings")
@blp.response(200, UserSettingsSchema)
def my_settings():
    """Which channels reach me, and my quiet hours."""
    return settings.user_settings(db.session, require_user().id)


@blp.route("/me/notification-settings", methods=["PUT"])
@blp.arguments(UserSettingsSchema)
@blp.response(200, UserSettingsSchema)
@error_responses(blp, 422)
def change_my_settings(body):
    """Turn channels on or off for myself, set or clear quiet hours."""
    return settings.update_user_settings(db.session, require_user(), body)


def _body(body_id: int) -> Body:
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound("No such body.")
    return body


@blp.route("/bodies/<int:body_id>/notification-settings")
@blp.response(200, BodySettingsSchema)
@error_responses(blp, 403, 404)
def body_settings(body_id: int):
    """The body's reminder times and channels per kind of notice (its secretariat, administrators)."""
    user = require_user()
    body = _body(body_id)
    settings.require_body_manager(body, user)
    return settings.body_settings(db.session, body.id)


@blp.route("/bodies/<int:body_id>/notification-settings", methods=["PUT"])
@blp.arguments(BodySettingsSchema)
@blp.response(200, BodySettingsSchema)
@error_responses(blp, 403, 404, 422)
def change_body_settings(body, body_id: int):
    """Change the body's reminder times or channels (what is not sent stays as it was)."""
    user = require_user()
    return settings.update_body_settings(db.session, _body(body_id), user, body)
