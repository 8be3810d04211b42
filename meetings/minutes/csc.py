"""Keys held at a remote signing service, over the Cloud Signature Consortium (CSC) API.

The way remote-signing services for public servants work: the private key
stays at the service; ``credentials/info`` gives the certificate chain,
``credentials/authorize`` turns the signer's PIN (or OTP) into signature
activation data (SAD) bound to the one hash being signed, and
``signatures/signHash`` signs that hash. pyHanko's CSC client does the
protocol (it speaks CSC 1.0.4, URLs ``<service>/csc/v1/…``). The PIN is typed
at each signature and goes no further than that one ``credentials/authorize``
call: it is neither stored nor logged, and no error message carries it.

pyHanko's client is asynchronous (aiohttp). Each HTTP session is opened on the
loop that uses it: one short ``asyncio.run`` to read the credential, then the
signing loop that ``PdfSigner.sign_pdf`` runs (``signing.sign`` is kept off
threads with a running loop).
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography import x509
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo,
    CSCAuthorizationManager,
    CSCCredentialInfo,
    CSCServiceSessionInfo,
    CSCSigner,
    fetch_certs_in_csc_credential,
)

from meetings.core.errors import DomainError, Invalid, Unavailable
from meetings.minutes.keys import fingerprint
from meetings.minutes.loopsafe import outside_running_loop

TIMEOUT = 30  # seconds for each call to the service
WRONG_SECRET = {"invalid_pin", "invalid_otp"}  # the CSC error codes of credentials/authorize for a bad PIN/OTP


@dataclass
class Credential:
    """A credential at the service: its certificate and the CA certificates sent with it."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]


def session_info(url: str, credential_id: str, access_token: str | None = None) -> CSCServiceSessionInfo:
    """Where the key is; ``access_token`` (if any) goes as ``Authorization: Bearer`` on every call."""
    return CSCServiceSessionInfo(url.rstrip("/"), credential_id, oauth_token=access_token or None)


def _unreachable() -> Unavailable:
    return Unavailable("The remote signing service cannot be reached; try again later.", code="csc_unavailable")


def _refusal(status: int, answer: dict[str, Any]) -> DomainError:
    """The error for an HTTP error answer of the service (CSC: ``{"error", "error_description"}``)."""
    error = str(answer.get("error") or "")
    if error in WRONG_SECRET:
        return Invalid("Wrong PIN or OTP for the remote signing key.", code="wrong_pin")
    if status in (401, 403):
        return Invalid("The remote signing service refused the access token (CSC_ACCESS_TOKEN).",
                       code="csc_unauthorized")
    if status >= 500:
        return _unreachable()
    why = str(answer.get("error_description") or error or f"HTTP {status}")[:200]
    return Invalid(f"The remote signing service refused: {why}", code="csc_refused")


def _secret_field(answer: dict[str, Any]) -> str:
    # One secret is typed in the console: the PIN, unless the credential asks for an OTP and no PIN.
    def presence(name: str) -> str:
        return str((answer.get(name) or {}).get("presence", "false")).lower()

    return "OTP" if presence("OTP") == "true" and presence("PIN") != "true" else "PIN"


async def _fetch(info: CSCServiceSessionInfo) -> CSCCredentialInfo:
    try:
        async with aiohttp.ClientSession() as http:
            cred = await fetch_certs_in_csc_credential(http, info, timeout=TIMEOUT)
    except SigningError as err:
        cause = err.__cause__
        if isinstance(cause, aiohttp.ClientResponseError):
            if cause.status in (400, 404):
                raise Invalid("The remote signing service has no such credential.", code="csc_no_credential") from err
            raise _refusal(cause.status, {}) from err
        if isinstance(cause, aiohttp.ClientError | TimeoutError):
            raise _unreachable() from err
        raise Invalid("The remote signing service sent no usable certificate for this credential.",
                      code="csc_bad_credential") from err
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise _unreachable() from err
    if cred.response_data.get("authMode") == "oauth2code":
        raise Invalid("This credential is authorized through an OAuth2 page, not a PIN; it cannot sign here.",
                      code="csc_unsupported")
    return cred


def _to_pyca(cert) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


@outside_running_loop
def read_credential(url: str, credential_id: str, access_token: str | None = None) -> Credential:
    """The credential's certificate chain, from ``credentials/info`` (no PIN needed)."""
    cred = read_credential_info(session_info(url, credential_id, access_token))
    return Credential(_to_pyca(cred.signing_cert), [_to_pyca(c) for c in cred.chain])


class PinAuthorization(CSCAuthorizationManager):
    """Calls ``credentials/authorize`` with the signer's PIN (or OTP) for exactly the hashes being signed."""

    def __init__(self, info: CSCServiceSessionInfo, credential: CSCCredentialInfo, secret: str):
        super().__init__(info, credential)
        self._secret = secret
        self._field = _secret_field(credential.response_data)

    async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
        """SAD for ``hash_b64s``: a wrong PIN/OTP is ``wrong_pin``; no answer is ``csc_unavailable``."""
        body = self.format_csc_auth_request(hash_b64s=hash_b64s, **{self._field.lower(): self._secret})
        try:
            async with aiohttp.ClientSession() as http, http.post(
                    self.csc_session_info.endpoint_url("credentials/authorize"), headers=self.auth_headers,
                    json=body, timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as response:
                status, text = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise _unreachable() from err
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        if status >= 400 or not isinstance(answer, dict):
            raise _refusal(status, answer if isinstance(answer, dict) else {})
        return self.parse_csc_auth_response(answer)


class RemoteSigner(CSCSigner):
    """pyHanko's CSC signer with its HTTP session opened on the signing loop itself, for the one signature."""

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:  # a size estimate: no call to the service
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        async with aiohttp.ClientSession() as http:
            self.session = http
            try:
                return await super().async_sign_raw(data, digest_algorithm)
            except SigningError as err:  # signHash failed (pyHanko logged why); a refused PIN raised before
                raise Unavailable("The remote signing service did not return a signature.",
                                  code="csc_unavailable") from err
            finally:
                self.session = None


def open_signer(spec, secret: str) -> RemoteSigner:
    """A pyHanko signer for the key ``spec`` names at a CSC service, authorized by ``secret`` when it signs.

    The certificate the service holds now must be the one registered (``spec.fingerprint``): the
    signature record names the registered subject.
    """
    info = session_info(spec.service_url, spec.credential_id, spec.access_token)
    cred = read_credential_info(info)
    if spec.fingerprint and fingerprint(_to_pyca(cred.signing_cert)) != spec.fingerprint:
        raise Invalid("The remote signing service now holds another certificate for this credential; "
                      "register the key again.", code="csc_certificate_changed")
    return RemoteSigner(None, PinAuthorization(info, cred, secret))


@outside_running_loop
def read_credential_info(info: CSCServiceSessionInfo) -> CSCCredentialInfo:
    """pyHanko's view of the credential (certificates, mechanisms, whether SAD is bound to hashes)."""
    return asyncio.run(_fetch(info))
