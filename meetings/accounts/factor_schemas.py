"""Shapes of the second-factor endpoints (meetings/accounts/factor_views.py)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate


class SecondStepRequest(ma.Schema):
    challenge = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))
    code = ma.fields.String(validate=validate.Length(min=1, max=40))
    assertion = ma.fields.Dict()
    label = ma.fields.String(validate=validate.Length(max=100))


class ChallengeQuery(ma.Schema):
    challenge = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class FactorOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    label = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    last_used_at = ma.fields.DateTime(allow_none=True)


class FactorsOut(ma.Schema):
    required = ma.fields.Boolean(required=True)
    factors = ma.fields.List(ma.fields.Nested(FactorOut), required=True)
    recovery_codes_left = ma.fields.Integer(required=True)


class TotpStart(ma.Schema):
    label = ma.fields.String(validate=validate.Length(max=100))


class TotpStarted(ma.Schema):
    id = ma.fields.Integer(required=True)
    secret = ma.fields.String(required=True)
    otpauth_uri = ma.fields.String(required=True)
    qr_svg = ma.fields.String(required=True, metadata={"description": "the QR code, an SVG data: URI"})


class CodeIn(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))


class RecoveryCodesOut(ma.Schema):
    id = ma.fields.Integer()
    recovery_codes = ma.fields.List(ma.fields.String(), required=True,
                                    metadata={"description": "shown once; empty when the user already had codes"})


class WebauthnOptions(ma.Schema):
    options = ma.fields.Dict(required=True)
    state = ma.fields.String(required=True)


class WebauthnRegister(ma.Schema):
    state = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    credential = ma.fields.Dict(required=True)
    label = ma.fields.String(validate=validate.Length(max=100))


class Reauthenticate(ma.Schema):
    password = ma.fields.String(validate=validate.Length(min=1, max=200))
    code = ma.fields.String(validate=validate.Length(min=1, max=40))
