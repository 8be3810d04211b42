"""Settings read from the environment.

Every setting has a documented default in docs/configuration.md; the
embedded default (SQLite and files under ``instance/``) needs none of them.
"""
from __future__ import annotations

import os
from pathlib import Path

from meetings.core.outbound import outbound_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_settings(overrides: dict | None = None) -> dict:
    """Return the application's settings: environment first, then defaults.

    ``overrides`` (used by tests and the CLI) win over both.
    """
    instance = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))
    settings = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'meetings.sqlite3'}"
        ),
        "DATABASE_POOL_SIZE": _int("DATABASE_POOL_SIZE", 10),
        "DATABASE_MAX_OVERFLOW": _int("DATABASE_MAX_OVERFLOW", 20),
        "STORAGE_PATH": os.environ.get("STORAGE_PATH", str(instance / "storage")),
        "FONT_DIR": os.environ.get(
            "FONT_DIR", str(PROJECT_ROOT / "node_modules" / "dejavu-fonts-ttf" / "ttf")
        ),
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", 100),
        "MAX_PDF_PAGES": _int("MAX_PDF_PAGES", 2000),
        "PDF_CHECK_SECONDS": _int("PDF_CHECK_SECONDS", 60),
        "PDF_CHECK_MEMORY_MB": _int("PDF_CHECK_MEMORY_MB", 1024),
        "PDF_CHECK_DECODED_MB": _int("PDF_CHECK_DECODED_MB", 4096),
        # OCR of scanned PDFs in the job queue (meetings/documents/ocr.py).
        "OCR_ENABLED": _bool("OCR_ENABLED", True),
        "OCR_LANGUAGES": os.environ.get("OCR_LANGUAGES") or "vie+eng",
        "OCR_SECONDS": _int("OCR_SECONDS", 900),
        "OCR_MEMORY_MB": _int("OCR_MEMORY_MB", 2048),
        "OCR_SCAN_SHARE": _int("OCR_SCAN_SHARE", 50),
        "OCR_PAGE_MIN_CHARS": _int("OCR_PAGE_MIN_CHARS", 10),
        "OCR_ATTEMPTS": _int("OCR_ATTEMPTS", 3),
        "OCR_JOBS": _int("OCR_JOBS", 1),
        # Office uploads converted by LibreOffice in a sandboxed child (meetings/documents/convert.py).
        "OFFICE_CONVERT_SECONDS": _int("OFFICE_CONVERT_SECONDS", 120),
        "OFFICE_CONVERT_MEMORY_MB": _int("OFFICE_CONVERT_MEMORY_MB", 2048),
        "OFFICE_MAX_UNCOMPRESSED_MB": _int("OFFICE_MAX_UNCOMPRESSED_MB", 512),
        "SOFFICE_PATH": os.environ.get("SOFFICE_PATH") or "soffice",
        "TOKEN_TTL_HOURS": _int("TOKEN_TTL_HOURS", 24 * 7),
        # Per address: high enough for a hall of 200 tablets behind one NAT address; guessing one
        # account's password is stopped by the per-account lockout (meetings/accounts/lockout.py).
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "300 per minute"),
        "LOGIN_LOCKOUT_THRESHOLD": _int("LOGIN_LOCKOUT_THRESHOLD", 5),
        "LOGIN_LOCKOUT_SECONDS": _int("LOGIN_LOCKOUT_SECONDS", 30),
        "LOGIN_LOCKOUT_MAX_SECONDS": _int("LOGIN_LOCKOUT_MAX_SECONDS", 900),
        # Tablet enrolment links (meetings/accounts/enrolment.py): how long an unused link is good, and
        # opening/confirming links per client address (a hall of tablets behind one NAT address).
        "ENROLMENT_LINK_DAYS": _int("ENROLMENT_LINK_DAYS", 7),
        "ENROLMENT_RATE_LIMIT": os.environ.get("ENROLMENT_RATE_LIMIT", "300 per minute"),
        # Server-side sessions and tokens (meetings/accounts/sessions.py): idle and absolute timeouts.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 480),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 168),
        "PASSWORD_MIN_LENGTH": _int("PASSWORD_MIN_LENGTH", 10),
        # argon2id costs and the OS threads that run it off the event loop (meetings/accounts/hashing.py).
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 19456),
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 2),
        "PASSWORD_HASH_PARALLELISM": _int("PASSWORD_HASH_PARALLELISM", 1),
        "PASSWORD_HASH_THREADS": _int("PASSWORD_HASH_THREADS", 2),
        # Seconds a bearer token's lookup is remembered in a process (meetings/accounts/sessions.py).
        "TOKEN_CACHE_SECONDS": _int("TOKEN_CACHE_SECONDS", 5),
        # Behind nginx: files are sent by nginx from this internal location (meetings/documents/delivery.py).
        "X_ACCEL_REDIRECT_PREFIX": os.environ.get("X_ACCEL_REDIRECT_PREFIX") or None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "SOCKETIO_MESSAGE_QUEUE": os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        # The Redis pub/sub channel: installations (or test runs) sharing one Redis keep apart.
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL") or "flask-socketio",
        "EVENT_CATCHUP_LIMIT": _int("EVENT_CATCHUP_LIMIT", 500),
        # Without a message queue, how often the web process sends what the job consumer's broadcasts
        # left in socket_relay (meetings/platform/realtime/relay.py). Decimals allowed; 0: off.
        "SOCKET_RELAY_POLL_SECONDS": float(os.environ.get("SOCKET_RELAY_POLL_SECONDS") or 0.5),
        # Ballots arriving within this many milliseconds are written in one transaction
        # (meetings/voting/group_commit.py). Decimals allowed; 0: whatever queued while the last batch was written.
        "BALLOT_GROUP_WINDOW_MS": float(os.environ.get("BALLOT_GROUP_WINDOW_MS") or 5),
        # Per-socket flood limit (meetings/platform/realtime/ratelimit.py): events a second sustained, and burst.
        "SOCKET_EVENT_RATE": float(os.environ.get("SOCKET_EVENT_RATE") or 20),
        "SOCKET_EVENT_BURST": _int("SOCKET_EVENT_BURST", 100),
        # The same per user, across all of the user's sockets (meetings/platform/realtime/ratelimit.py).
        "SOCKET_USER_EVENT_RATE": float(os.environ.get("SOCKET_USER_EVENT_RATE") or 40),
        "SOCKET_USER_EVENT_BURST": _int("SOCKET_USER_EVENT_BURST", 200),
        # The socket transport (meetings/platform/realtime/transport.py): origins allowed to open a
        # socket (comma-separated; empty: the server's own), the largest event payload the app
        # answers, the largest frame Engine.IO reads (above the payload, so too_large can be
        # answered), how deep a payload may nest, and one log line per this many seconds about
        # malformed packets.
        "SOCKET_ALLOWED_ORIGINS": os.environ.get("SOCKET_ALLOWED_ORIGINS", ""),
        "SOCKET_MAX_PAYLOAD_BYTES": _int("SOCKET_MAX_PAYLOAD_BYTES", 64 * 1024),
        "SOCKET_MAX_FRAME_BYTES": _int("SOCKET_MAX_FRAME_BYTES", 2 * 1024 * 1024),
        "SOCKET_MAX_DEPTH": _int("SOCKET_MAX_DEPTH", 20),
        "SOCKET_MALFORMED_LOG_SECONDS": _int("SOCKET_MALFORMED_LOG_SECONDS", 60),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        # How many reverse proxies (nginx) stand in front; their X-Forwarded-* headers are trusted.
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "TSA_URL": os.environ.get("TSA_URL") or None,
        # Where the organization CA's CRL and OCSP are served (named in issued certificates); else SERVER_NAME.
        "PKI_BASE_URL": os.environ.get("PKI_BASE_URL") or None,
        "PKI_RATE_LIMIT": os.environ.get("PKI_RATE_LIMIT", "600 per minute"),
        # Validity of signing certificates the CA issues, in days (default: 3 years).
        "SIGNER_CERT_DAYS": _int("SIGNER_CERT_DAYS", 0) or None,
        # The hall's time zone: minutes, stamps and pages show local time (stored times are UTC).
        "TIMEZONE": os.environ.get("TIMEZONE", "Asia/Ho_Chi_Minh"),
        "MINUTES_JOB_SECONDS": _int("MINUTES_JOB_SECONDS", 120),
        "MINUTES_FONT_CACHE": os.environ.get("MINUTES_FONT_CACHE") or None,
        "MINUTES_TRUST_ROOTS": os.environ.get("MINUTES_TRUST_ROOTS") or None,
        # Confidential documents in an archival bundle: "watermark" (stamped for the exporter) or "omit".
        "BUNDLE_CONFIDENTIAL": os.environ.get("BUNDLE_CONFIDENTIAL") or "watermark",
        "DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "vi"),
        # Second factor (meetings/accounts/second_factor.py): the roles that must have one (admin,
        # secretariat, signer; empty: none), failed codes allowed per account, the login step's lifetime.
        "MFA_REQUIRED_ROLES": os.environ.get("MFA_REQUIRED_ROLES", "admin,secretariat,signer"),
        "MFA_ATTEMPT_LIMIT": os.environ.get("MFA_ATTEMPT_LIMIT", "5 per 5 minutes"),
        "MFA_CHALLENGE_SECONDS": _int("MFA_CHALLENGE_SECONDS", 300),
        "MFA_ISSUER": os.environ.get("MFA_ISSUER", "Meetings"),
        # WebAuthn relying party: its id (a host name) and origin; default: the host the browser asked.
        "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID") or None,
        "WEBAUTHN_ORIGIN": os.environ.get("WEBAUTHN_ORIGIN") or None,
        # Reminders and alerts (meetings/notifications/reminders.py): minutes before a meeting (a body's
        # own setting wins), how late a missed reminder may still go out, how long read in-app
        # notifications are kept, and SMS without Vietnamese diacritics (160 characters, any gateway).
        "NOTIFY_REMINDER_OFFSETS": os.environ.get("NOTIFY_REMINDER_OFFSETS", "1440,60"),
        "NOTIFY_REMINDER_LATE_MINUTES": _int("NOTIFY_REMINDER_LATE_MINUTES", 120),
        "NOTIFY_INBOX_DAYS": _int("NOTIFY_INBOX_DAYS", 90),
        "NOTIFY_SMS_UNACCENTED": _bool("NOTIFY_SMS_UNACCENTED", False),
    }
    settings.update(outbound_settings())  # the job queue, the outbox and the channels (meetings/core/outbound.py)
    if overrides:
        settings.update(overrides)
    return settings
