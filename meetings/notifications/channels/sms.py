"""SMS through an HTTP gateway (Vietnamese brandname-SMS providers take one HTTP request).

Settings (docs/configuration.md): SMS_GATEWAY_URL (unset: SMS wait in the outbox),
SMS_GATEWAY_METHOD (POST), SMS_GATEWAY_HEADERS (a JSON object), SMS_GATEWAY_BODY (a JSON
template), SMS_GATEWAY_FORMAT (json | form), SMS_GATEWAY_TIMEOUT. The placeholders
``{phone}``, ``{text}`` and ``{message_id}`` are replaced in the URL (URL-encoded), in the
header values and in every string of the body template (so JSON escaping is the encoder's,
never the template's). ``{message_id}`` is ``outbox-<id>``, stable across retries: a gateway
that deduplicates by the client's reference will not send a retried SMS twice.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from meetings.notifications.channels.errors import PermanentError, TransientError

DEFAULT_BODY = '{"to": "{phone}", "text": "{text}", "reference": "{message_id}"}'


def configured(config: Mapping[str, Any]) -> bool:
    """SMS can go out once a gateway URL is set."""
    return bool(config.get("SMS_GATEWAY_URL"))


def _fill(template: str, values: Mapping[str, str], encode=lambda v: v) -> str:
    # One pass per placeholder with plain replace: braces in the message text are never re-read.
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", encode(value))
    return out


def _fill_tree(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _fill(node, values)
    if isinstance(node, list):
        return [_fill_tree(n, values) for n in node]
    if isinstance(node, dict):
        return {k: _fill_tree(v, values) for k, v in node.items()}
    return node


def request_for(message: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``requests.request`` for this message (method, url, headers, body)."""
    values = {"phone": message.address, "text": message.text, "message_id": f"outbox-{message.id}"}
    headers = {k: _fill(str(v), values) for k, v in json.loads(config.get("SMS_GATEWAY_HEADERS") or "{}").items()}
    body = _fill_tree(json.loads(config.get("SMS_GATEWAY_BODY") or DEFAULT_BODY), values)
    args: dict[str, Any] = {
        "method": (config.get("SMS_GATEWAY_METHOD") or "POST").upper(),
        "url": _fill(config["SMS_GATEWAY_URL"], values, lambda v: quote(v, safe="")),
        "headers": headers,
        "timeout": float(config.get("SMS_GATEWAY_TIMEOUT") or 10),
    }
    if args["method"] != "GET":
        if (config.get("SMS_GATEWAY_FORMAT") or "json").lower() == "form":
            args["data"] = body
        else:
            args["json"] = body
    return args


def send(message: Any, config: Mapping[str, Any], accepted: Callable[[], None] = lambda: None) -> None:
    """Send the SMS; returns when the gateway answered 2xx."""
    try:
        response = requests.request(**request_for(message, config))
    except requests.RequestException as exc:
        raise TransientError(f"SMS gateway unreachable: {exc}") from exc
    if 200 <= response.status_code < 300:
        accepted()
        return
    detail = f"SMS gateway answered {response.status_code}: {response.text[:200]}"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise TransientError(detail)
    raise PermanentError(detail)
