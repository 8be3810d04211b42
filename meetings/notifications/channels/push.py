"""Web Push to the tablets' browsers: pywebpush, VAPID-signed, payload encrypted (aes128gcm).

Settings (docs/configuration.md): VAPID_PRIVATE_KEY (a PEM, or the base64url key; default: the
file ``instance/vapid_private.pem`` written by ``flask --app wsgi push keys``), VAPID_SUBJECT
(a mailto: or https: contact the push services may use), PUSH_TTL (seconds a push service keeps
an undelivered notification), PUSH_TIMEOUT.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from meetings.notifications.channels.errors import Gone, PermanentError, TransientError

KEY_FILE = "vapid_private.pem"


def _key_text(config: Mapping[str, Any]) -> str | None:
    text = config.get("VAPID_PRIVATE_KEY")
    if text:
        return text
    path = Path(config["INSTANCE_PATH"]) / KEY_FILE
    return path.read_text() if path.is_file() else None


def vapid(config: Mapping[str, Any]) -> Vapid | None:
    """The server's VAPID key pair, or None when no key is set up."""
    text = _key_text(config)
    if not text:
        return None
    if "-----BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(private_key=text.strip())


def public_key(config: Mapping[str, Any]) -> str | None:
    """The applicationServerKey browsers subscribe with (base64url, uncompressed P-256 point)."""
    pair = vapid(config)
    if pair is None:
        return None
    raw = pair.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def generate_keys(instance_path: str, *, force: bool = False) -> tuple[Path, bool]:
    """Write a new VAPID private key to the instance folder (mode 0600) unless one is there.

    Returns the file and whether it was written now. Replacing a key (``force``) makes every
    existing browser subscription useless: the tablets subscribe again at their next login.
    """
    path = Path(instance_path) / KEY_FILE
    if path.exists() and not force:
        return path, False
    pair = Vapid()
    pair.generate_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pair.private_pem())
    path.chmod(0o600)
    return path, True


def configured(config: Mapping[str, Any]) -> bool:
    """Push can go out once the server has a VAPID key."""
    return _key_text(config) is not None


def payload(message: Any) -> str:
    """What the service worker receives (static/sw.js): title, body, url, and a tag per message."""
    return json.dumps({"title": message.subject or "", "body": message.text, "url": (message.meta or {}).get("url"),
                       "tag": f"outbox-{message.id}", "kind": message.kind}, ensure_ascii=False)


def send(message: Any, config: Mapping[str, Any], accepted: Callable[[], None] = lambda: None) -> None:
    """Send one notification to one subscription (``message.meta['keys']`` holds p256dh and auth)."""
    keys = (message.meta or {}).get("keys") or {}
    info = {"endpoint": message.address, "keys": {"p256dh": keys.get("p256dh"), "auth": keys.get("auth")}}
    subject = config.get("VAPID_SUBJECT") or "mailto:admin@meetings.invalid"
    try:
        webpush(info, data=payload(message), vapid_private_key=vapid(config), vapid_claims={"sub": subject},
                ttl=int(config.get("PUSH_TTL") or 86400), timeout=float(config.get("PUSH_TIMEOUT") or 10))
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise Gone(f"subscription gone ({status})") from exc
        if status is None or status in (408, 425, 429) or status >= 500:
            raise TransientError(f"push service: {exc.message}") from exc
        raise PermanentError(f"push service refused: {exc.message}") from exc
    except requests.RequestException as exc:
        raise TransientError(f"push service unreachable: {exc}") from exc
    accepted()
