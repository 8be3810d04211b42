"""Settings of the job queue and of the channels messages leave by (docs/configuration.md).

Read from the environment by ``config.load_settings``; kept apart so the list stays readable.
Unset channels are not an error: their messages wait in the outbox until the setting exists.
"""
from __future__ import annotations

import os


def _text(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def outbound_settings() -> dict:
    """The job queue's, the outbox's and the channels' settings, with their defaults."""
    return {
        # Links in e-mails (the room, the reply page, the calendar feed); unset: the request's host.
        "PUBLIC_URL": _text("PUBLIC_URL"),
        # The queue (meetings/platform/jobs): Redis beyond one machine, else SQLite in the instance folder.
        "JOBS_REDIS_URL": _text("JOBS_REDIS_URL"),
        "JOBS_SQLITE_PATH": _text("JOBS_SQLITE_PATH"),
        "JOBS_NAME": _text("JOBS_NAME", "meetings"),
        "JOBS_IMMEDIATE": _flag("JOBS_IMMEDIATE", False),
        "JOBS_WORKERS": int(_number("JOBS_WORKERS", 4)),
        # The SQLite queue is polled: at most this many seconds between two looks when idle.
        "JOBS_POLL_SECONDS": _number("JOBS_POLL_SECONDS", 1.0),
        # gunicorn.conf.py starts `flask jobs worker` beside the server unless this is off.
        "JOBS_CONSUMER": _flag("JOBS_CONSUMER", True),
        # The outbox (meetings/notifications/delivery.py).
        "OUTBOX_LEASE_SECONDS": int(_number("OUTBOX_LEASE_SECONDS", 120)),
        "OUTBOX_HOLD_HOURS": _number("OUTBOX_HOLD_HOURS", 72),
        "OUTBOX_SWEEP_GRACE_SECONDS": int(_number("OUTBOX_SWEEP_GRACE_SECONDS", 60)),
        # E-mail.
        "SMTP_HOST": _text("SMTP_HOST"),
        "SMTP_PORT": int(_number("SMTP_PORT", 0)) or None,
        "SMTP_TLS": _text("SMTP_TLS", "starttls"),
        "SMTP_USER": _text("SMTP_USER"),
        "SMTP_PASSWORD": _text("SMTP_PASSWORD"),
        "SMTP_SENDER": _text("SMTP_SENDER"),
        "SMTP_TIMEOUT": _number("SMTP_TIMEOUT", 30),
        # SMS through an HTTP gateway.
        "SMS_GATEWAY_URL": _text("SMS_GATEWAY_URL"),
        "SMS_GATEWAY_METHOD": _text("SMS_GATEWAY_METHOD", "POST"),
        "SMS_GATEWAY_HEADERS": _text("SMS_GATEWAY_HEADERS", "{}"),
        "SMS_GATEWAY_BODY": _text("SMS_GATEWAY_BODY"),
        "SMS_GATEWAY_FORMAT": _text("SMS_GATEWAY_FORMAT", "json"),
        "SMS_GATEWAY_TIMEOUT": _number("SMS_GATEWAY_TIMEOUT", 10),
        # Web Push.
        "VAPID_PRIVATE_KEY": _text("VAPID_PRIVATE_KEY"),
        "VAPID_SUBJECT": _text("VAPID_SUBJECT"),
        "PUSH_TTL": int(_number("PUSH_TTL", 86400)),
        "PUSH_TIMEOUT": _number("PUSH_TIMEOUT", 10),
        # Subscriptions with an http (not https) endpoint: only for a push service on the same machine (tests).
        "PUSH_ALLOW_HTTP_ENDPOINTS": _flag("PUSH_ALLOW_HTTP_ENDPOINTS", False),
    }
