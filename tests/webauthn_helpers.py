"""A software WebAuthn authenticator: an EC P-256 key made here, answers built per the WebAuthn spec.

Registration: ``attestationObject`` is CBOR ``{"fmt": "none", "attStmt": {}, "authData": …}`` where
authData = sha256(rp id) ‖ flags ‖ sign count ‖ AAGUID ‖ credential id length ‖ credential id ‖ COSE key.
Authentication: authData = sha256(rp id) ‖ flags ‖ sign count, and the signature is ECDSA-SHA256 over
authData ‖ sha256(clientDataJSON). Nothing here trusts the server's library: the bytes are made by hand.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One credential on one software key, for one relying party."""

    def __init__(self, rp_id: str = "localhost", origin: str = "http://localhost", *, counts: bool = True):
        self.rp_id, self.origin = rp_id, origin
        self.counts = counts  # synced passkeys report a sign count of 0 forever: no replay check from it
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        # COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def register(self, options: dict, *, origin: str | None = None) -> dict:
        """The answer of ``navigator.credentials.create()`` to the server's options (``none`` attestation)."""
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([FLAG_UP | FLAG_UV | FLAG_AT])
                     + struct.pack(">I", self.sign_count) + bytes(16)
                     + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        cid = b64url(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation)}}

    def assert_(self, options: dict, *, origin: str | None = None) -> dict:
        """The answer of ``navigator.credentials.get()``: signed authenticator data and client data."""
        self.sign_count += 1 if self.counts else 0
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([FLAG_UP | FLAG_UV])
                     + struct.pack(">I", self.sign_count))
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        cid = b64url(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature)}}
