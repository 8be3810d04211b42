"""REST: the server's Web Push key and a browser's subscription (``/push/…``).

Each view parses, calls one service of ``subscriptions.py``, shapes the answer.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from meetings.core.extensions import db
from meetings.notifications import subscriptions
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("push", __name__, description="Web Push: the server's key, the browsers' subscriptions")


class PushKeyOut(ma.Schema):
    public_key = ma.fields.String(allow_none=True, required=True,
                                  metadata={"description": "VAPID applicationServerKey (base64url); "
                                                           "null when push is not set up"})


class SubscriptionKeys(ma.Schema):
    p256dh = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    auth = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))


class SubscriptionIn(ma.Schema):
    """A browser's ``PushSubscription.toJSON()``."""

    class Meta:
        unknown = ma.EXCLUDE  # expirationTime and whatever a browser adds

    endpoint = ma.fields.Url(required=True, validate=validate.Length(max=1000), require_tld=False)
    keys = ma.fields.Nested(SubscriptionKeys, required=True)


class EndpointIn(ma.Schema):
    endpoint = ma.fields.String(required=True, validate=validate.Length(min=1, max=1000))


class SubscriptionOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    endpoint = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


@blp.route("/push/key")
@blp.response(200, PushKeyOut)
def push_key():
    """The key a browser subscribes with; null when the server has no VAPID key."""
    require_user()
    return {"public_key": subscriptions.server_key()}


@blp.route("/push/subscriptions", methods=["POST"])
@blp.arguments(SubscriptionIn)
@blp.response(201, SubscriptionOut)
@error_responses(blp, 503, descriptions={503: "Web Push is not set up on this server (flask push keys)"})
def subscribe(body):
    """Store this browser's subscription for the caller (taken over from another account)."""
    return subscriptions.subscribe(db.session, require_user(), endpoint=body["endpoint"],
                                   p256dh=body["keys"]["p256dh"], auth=body["keys"]["auth"])


@blp.route("/push/subscriptions", methods=["DELETE"])
@blp.arguments(EndpointIn)
@blp.response(204)
def unsubscribe(body):
    """Forget the caller's subscription of this browser (at logout)."""
    subscriptions.unsubscribe(db.session, require_user(), endpoint=body["endpoint"])
