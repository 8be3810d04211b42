"""REST shapes of the counting committee and its key ceremony (marshmallow; also the OpenAPI document).

Points and scalars are strings here: their encoding (64 lowercase hex digits, a valid
point, a canonical scalar) is checked by the service with ``elgamal``'s parsers, which
answer 400 invalid_message, as for a proof that does not verify.
"""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.platform.http.schemas import UtcDateTime
from meetings.voting.committee import MAX_SIZE, MIN_SIZE
from meetings.voting.committee_models import COMMITTEE_STATUSES

_HEX = ma.fields.String
_LEN = validate.Length(max=128)  # bounds the input; the exact form is the parser's to judge


def _int(**kw) -> ma.fields.Integer:
    kw.setdefault("validate", validate.Range(min=-(2**31), max=2**31 - 1))
    return ma.fields.Integer(strict=True, **kw)


class CommitteeIn(ma.Schema):
    member_ids = ma.fields.List(_int(), required=True, validate=validate.Length(min=MIN_SIZE, max=MAX_SIZE),
                                metadata={"description": "User ids of participants, in member-index order"})
    threshold = _int(required=True, validate=validate.Range(min=MIN_SIZE, max=MAX_SIZE),
                     metadata={"description": "k: how many members together decrypt a tally"})


class CommitteeProofIn(ma.Schema):
    c = _HEX(required=True, validate=_LEN)
    z = _HEX(required=True, validate=_LEN)


class Round1In(ma.Schema):
    transport_key = _HEX(required=True, validate=_LEN)
    commitments = ma.fields.List(_HEX(validate=_LEN), required=True, validate=validate.Length(max=MAX_SIZE))
    pok = ma.fields.Nested(CommitteeProofIn, required=True)


class KeyShareIn(ma.Schema):
    to = _int(required=True)
    ephemeral = _HEX(required=True, validate=_LEN)
    ciphertext = _HEX(required=True, validate=_LEN)


class Round2In(ma.Schema):
    shares = ma.fields.List(ma.fields.Nested(KeyShareIn), required=True, validate=validate.Length(max=MAX_SIZE))


class ConfirmIn(ma.Schema):
    verification_key = _HEX(validate=_LEN, metadata={"description": "K_j = s_j·G"})
    complaint_against = _int(metadata={"description": "The member whose share failed the Feldman check"})


class CommitteeMemberOut(ma.Schema):
    index = ma.fields.Integer()
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    round = ma.fields.String(metadata={"description": "invited, published, shares_sent or confirmed"})
    verification_key = ma.fields.String(allow_none=True)
    complaint_against = ma.fields.Integer(allow_none=True)


class CommitteeProgressOut(ma.Schema):
    published = ma.fields.Integer()
    shares_sent = ma.fields.Integer()
    confirmed = ma.fields.Integer()


class CommitteeSeatOut(ma.Schema):
    index = ma.fields.Integer()
    next = ma.fields.String(metadata={"description": "round1, round2, confirm, wait, done or none"})


class CommitteeOut(ma.Schema):
    id = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    uid = ma.fields.String()
    threshold = ma.fields.Integer()
    size = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": list(COMMITTEE_STATUSES)})
    public_key = ma.fields.String(allow_none=True)
    failure = ma.fields.String(allow_none=True)
    created_at = UtcDateTime()
    ready_at = UtcDateTime(allow_none=True)
    in_use = ma.fields.Boolean(metadata={"description": "A poll was opened under its key"})
    members = ma.fields.List(ma.fields.Nested(CommitteeMemberOut))
    progress = ma.fields.Nested(CommitteeProgressOut)
    me = ma.fields.Nested(CommitteeSeatOut, allow_none=True)


class Round1Message(ma.Schema):
    transport_key = ma.fields.String()
    commitments = ma.fields.List(ma.fields.String())
    pok = ma.fields.Nested(CommitteeProofIn)


class Round1Item(ma.Schema):
    index = ma.fields.Integer()
    message = ma.fields.Nested(Round1Message)


class Round1Out(ma.Schema):
    round1 = ma.fields.List(ma.fields.Nested(Round1Item))


class KeyShareOut(ma.Schema):
    sender = ma.fields.Integer(attribute="from", data_key="from")
    to = ma.fields.Integer()
    ephemeral = ma.fields.String()
    ciphertext = ma.fields.String()


class SharesOut(ma.Schema):
    shares = ma.fields.List(ma.fields.Nested(KeyShareOut))
