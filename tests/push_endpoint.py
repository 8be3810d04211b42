"""A real Web Push endpoint: it receives the server's POSTs and decrypts them like a browser would.

``browser = push_endpoint.subscribe()`` makes a subscription as a browser does: a P-256 key
pair (its public key is ``p256dh``), a 16-byte auth secret, and an endpoint URL on this
server. Each POST is checked (VAPID ``Authorization: vapid t=<JWT>, k=<key>``: the JWT's
ES256 signature, its ``aud`` and ``exp``) and decrypted with ``http_ece`` (aes128gcm) using
the browser's private key: ``push_endpoint.received`` holds (subscription name, payload dict, headers in lower case).
``gone(name)`` makes that endpoint answer 410 (the browser unsubscribed).
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                                 serialization.PublicFormat.UncompressedPoint))

    def as_json(self) -> dict:
        """What ``PushSubscription.toJSON()`` gives the page."""
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}


def check_vapid(header: str, audience: str) -> dict:
    """Verify ``vapid t=…, k=…`` as a push service does; returns the JWT's claims."""
    scheme, _, rest = header.partition(" ")
    assert scheme.lower() == "vapid", header
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    token, key = fields["t"], fields["k"]
    head, claims, signature = token.split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    body = json.loads(unb64url(claims))
    assert body["aud"] == audience and body["exp"] > time.time() and body["sub"], body
    body["k"] = key
    return body


class PushEndpoint:
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.received: list[tuple[str, dict, dict]] = []
        self.refused: list[tuple[str, str]] = []
        self.status: dict[str, int] = {}
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                name = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = endpoint.status.get(name, 201)
                if status < 300:
                    try:
                        endpoint.accept(name, body, {k.lower(): v for k, v in self.headers.items()})
                    except (AssertionError, InvalidSignature, KeyError, ValueError) as exc:
                        endpoint.refused.append((name, repr(exc)))
                        status = 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def subscribe(self, name: str | None = None) -> Browser:
        name = name or f"b{len(self.browsers) + 1}"
        browser = Browser(name, f"{self.url}/push/{name}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.browsers[name] = browser
        return browser

    def gone(self, name: str) -> None:
        self.status[name] = 410

    def accept(self, name: str, body: bytes, headers: dict) -> None:
        browser = self.browsers[name]
        assert headers.get("content-encoding") == "aes128gcm", headers
        assert int(headers.get("ttl", "-1")) >= 0, headers
        claims = check_vapid(headers["authorization"], self.url)
        plain = http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm")
        self.received.append((name, json.loads(plain), {**headers, "vapid": claims}))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def push_endpoint():
    endpoint = PushEndpoint()
    yield endpoint
    endpoint.close()
