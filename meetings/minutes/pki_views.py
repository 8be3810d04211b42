"""The organization CA's public revocation services: ``GET /pki/ca.crl`` and OCSP at ``/pki/ocsp``.

Public by nature (no login): validators anywhere ask them about the certificates
they find in signed minutes. Read-only; rate-limited per client address. The
URLs are the ones issued certificates name (``PKI_BASE_URL``).
"""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, abort, current_app, request

from meetings.core.extensions import db, limiter
from meetings.minutes import keys, revocation

bp = Blueprint("pki", __name__, url_prefix="/pki")
MAX_OCSP_REQUEST = 16 * 1024  # an OCSP request for one certificate is a few hundred bytes


def _limit() -> str:
    return current_app.config.get("PKI_RATE_LIMIT") or "600 per minute"


@bp.get("/ca.crl")
@limiter.limit(_limit)
def crl():
    """The CA's latest CRL (DER), as written by `flask ca crl`."""
    path = revocation.crl_path(current_app.instance_path)
    if not path.exists():
        abort(404)
    resp = Response(path.read_bytes(), mimetype="application/pkix-crl")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/ca.pem")
@limiter.limit(_limit)
def ca_certificate():
    """The CA certificate itself (PEM), for validators that have not got it yet."""
    cert = keys.ca_dir(current_app.instance_path) / keys.CA_CERT
    if not cert.exists():
        abort(404)
    return Response(cert.read_bytes(), mimetype="application/x-pem-file")


def _answer(der: bytes) -> Response:
    body = revocation.answer_ocsp(db.session, current_app.config, der)
    resp = Response(body, mimetype="application/ocsp-response")
    resp.headers["Cache-Control"] = "no-cache"  # a revocation must show at once
    return resp


@bp.post("/ocsp")
@limiter.limit(_limit)
def ocsp_post():
    """RFC 6960 OCSP over POST: a DER request in the body."""
    der = request.get_data(cache=False)
    if len(der) > MAX_OCSP_REQUEST:
        abort(413)
    return _answer(der)


@bp.get("/ocsp/<path:encoded>")
@limiter.limit(_limit)
def ocsp_get(encoded: str):
    """RFC 6960 OCSP over GET: the DER request base64-encoded (then URL-encoded) in the path."""
    if len(encoded) > MAX_OCSP_REQUEST:
        abort(413)
    try:
        der = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        der = b""
    return _answer(der)
