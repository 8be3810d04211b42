from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.accounts.models import CLEARANCES, GLOBAL_ROLES


class TokenRequest(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    label = ma.fields.String(validate=validate.Length(max=100))


# Digits with an optional leading + and the usual separators; the SMS gateway gets it as stored.
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]{5,28}$"


class TokenResponse(ma.Schema):
    token = ma.fields.String(required=True)
    expires_at = ma.fields.DateTime(required=True)
    user_id = ma.fields.Integer(required=True)


class UserOut(ma.Schema):
    """An account. Administrators (and the account's owner) get every field; everyone else gets only
    ``id`` and ``full_name``, and only of the people in their own meetings (accounts.service.directory)."""

    id = ma.fields.Integer(required=True)
    username = ma.fields.String(metadata={"description": "administrators and the owner only"})
    full_name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True, metadata={"description": "administrators and the owner only"})
    phone = ma.fields.String(allow_none=True, metadata={"description": "for SMS; administrators and the owner only"})
    global_role = ma.fields.String(allow_none=True, metadata={"description": "administrators and the owner only"})
    locale = ma.fields.String(allow_none=True, metadata={"description": "administrators and the owner only"})
    active = ma.fields.Boolean(metadata={"description": "administrators and the owner only"})
    clearance = ma.fields.String(metadata={"description": "the highest meeting confidentiality an archivist "
                                                          "may read; administrators and the owner only"})


class UserCreate(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    # The password policy (accounts/passwords.py) says what is long or uncommon enough, with a clear reason.
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    full_name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(allow_none=True)
    phone = ma.fields.String(allow_none=True, validate=validate.Regexp(PHONE_PATTERN, error="Not a phone number."),
                             metadata={"description": "for SMS reminders, e.g. +84912345678"})
    global_role = ma.fields.String(allow_none=True, validate=validate.OneOf(GLOBAL_ROLES))
    clearance = ma.fields.String(validate=validate.OneOf(CLEARANCES))


class UserUpdate(ma.Schema):
    full_name = ma.fields.String(validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(allow_none=True)
    phone = ma.fields.String(allow_none=True, validate=validate.Regexp(PHONE_PATTERN, error="Not a phone number."),
                             metadata={"description": "for SMS reminders, e.g. +84912345678"})
    locale = ma.fields.String(allow_none=True, validate=validate.OneOf(("vi", "en")))
    password = ma.fields.String(validate=validate.Length(min=1, max=200),
                                metadata={"description": "an administrator's reset of another account"})
    global_role = ma.fields.String(allow_none=True, validate=validate.OneOf(GLOBAL_ROLES))
    active = ma.fields.Boolean()
    clearance = ma.fields.String(validate=validate.OneOf(CLEARANCES),
                                 metadata={"description": "administrators only"})


class PasswordChange(ma.Schema):
    current = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    new = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class DeviceOut(ma.Schema):
    """A live browser session or bearer token of the caller's account."""

    id = ma.fields.String(required=True, metadata={"description": "session-<n> or token-<n>"})
    kind = ma.fields.String(required=True, metadata={"description": "session (a browser) or token"})
    label = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    last_seen_at = ma.fields.DateTime(required=True)
    user_agent = ma.fields.String(allow_none=True)
    ip_address = ma.fields.String(allow_none=True)
    current = ma.fields.Boolean(required=True, metadata={"description": "the credential of this request"})


class SignedOut(ma.Schema):
    ended = ma.fields.Integer(required=True, metadata={"description": "sessions and tokens ended"})
