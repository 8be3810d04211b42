"""A browser's Web Push subscription: the tablet subscribes after login, unsubscribes at logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.db import utcnow
from meetings.core.errors import Invalid, Unavailable
from meetings.notifications.channels import push
from meetings.notifications.models import PushSubscription
from meetings.platform.audit.service import record


def server_key() -> str | None:
    """The VAPID public key browsers subscribe with; None when push is not set up."""
    return push.public_key(current_app.config)


def _check_endpoint(endpoint: str) -> None:
    # The server will POST to this URL: only a push service's https address (http only when the
    # settings allow it, for a push service on the same machine in tests).
    parts = urlsplit(endpoint)
    allowed = ("https", "http") if current_app.config.get("PUSH_ALLOW_HTTP_ENDPOINTS") else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise Invalid("The push endpoint must be an https address of a push service.")


def subscribe(session: Session, actor: User, *, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Store (or take over) the browser's subscription for ``actor``.

    One endpoint is one browser: when another account logs in on the same tablet, the
    subscription moves to it, so the previous user's notifications stop reaching this device.
    """
    if server_key() is None:
        raise Unavailable("Web Push is not set up on this server (flask push keys).")
    _check_endpoint(endpoint)
    sub = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(user_id=actor.id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        session.add(sub)
    else:
        sub.user_id, sub.p256dh, sub.auth, sub.created_at = actor.id, p256dh, auth, utcnow()
    session.flush()
    record(session, "push.subscribed", actor_id=actor.id, object_type="push_subscription", object_id=sub.id)
    return sub


def unsubscribe(session: Session, actor: User, *, endpoint: str) -> None:
    """Forget the actor's subscription of this browser (nothing happens for another's or an unknown one)."""
    sub = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint,
                                                        PushSubscription.user_id == actor.id))
    if sub is None:
        return
    record(session, "push.unsubscribed", actor_id=actor.id, object_type="push_subscription", object_id=sub.id)
    session.delete(sub)
