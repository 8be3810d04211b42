from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.accounts.models import GLOBAL_ROLES


class TokenRequest(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    label = ma.fields.String(validate=validate.Length(max=100))


class TokenResponse(ma.Schema):
    token = ma.fields.String(required=True)
    expires_at = ma.fields.DateTime(required=True)
    user_id = ma.fields.Integer(required=True)


class UserOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    global_role = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()


class UserCreate(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = ma.fields.String(required=True, validate=validate.Length(min=4, max=200))
    full_name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(allow_none=True)
    global_role = ma.fields.String(allow_none=True, validate=validate.OneOf(GLOBAL_ROLES))


class UserUpdate(ma.Schema):
    full_name = ma.fields.String(validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(allow_none=True)
    locale = ma.fields.String(allow_none=True, validate=validate.OneOf(("vi", "en")))
    password = ma.fields.String(validate=validate.Length(min=4, max=200))
    global_role = ma.fields.String(allow_none=True, validate=validate.OneOf(GLOBAL_ROLES))
    active = ma.fields.Boolean()
