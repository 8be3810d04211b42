"""REST shapes of the voting domain (marshmallow; they also make the OpenAPI document)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.platform.http.schemas import UtcDateTime
from meetings.voting.models import MAJORITY_BASES, POLL_KINDS, TIE_RULES

# Named thresholds a form can offer; a fraction can be given instead.
THRESHOLD_PRESETS = {
    "more_than_half": (1, 2, True),
    "two_thirds": (2, 3, False),
    "three_quarters": (3, 4, False),
}


def _int(**kw) -> ma.fields.Integer:
    # Unranged numbers (ids) are bounded: a larger one overflows SQLite's driver (a 500 found by tests/fuzz).
    kw.setdefault("validate", validate.Range(min=-(2**31), max=2**31 - 1))
    return ma.fields.Integer(strict=True, **kw)


class PollCreate(ma.Schema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=20000))
    agenda_item_id = _int(allow_none=True)
    kind = ma.fields.String(load_default="for_against_abstain", validate=validate.OneOf(POLL_KINDS))
    options = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=300)),
                             validate=validate.Length(max=100))
    secret = ma.fields.Boolean(load_default=False)
    results_live = ma.fields.Boolean(load_default=False)
    allow_change = ma.fields.Boolean(load_default=False)
    presence_required = ma.fields.Boolean(load_default=False)
    weighted = ma.fields.Boolean(load_default=False)
    publish_on_close = ma.fields.Boolean(load_default=False)
    close_when_complete = ma.fields.Boolean(load_default=False)
    min_choices = _int(validate=validate.Range(min=0, max=100))
    max_choices = _int(validate=validate.Range(min=1, max=100))
    quorum_numerator = _int(allow_none=True, validate=validate.Range(min=0, max=1000))
    quorum_denominator = _int(allow_none=True, validate=validate.Range(min=1, max=1000))
    majority_base = ma.fields.String(load_default="cast", validate=validate.OneOf(MAJORITY_BASES))
    threshold = ma.fields.String(validate=validate.OneOf(tuple(THRESHOLD_PRESETS)),
                                 metadata={"description": "A named threshold; overrides the fraction fields."})
    threshold_numerator = _int(load_default=1, validate=validate.Range(min=1, max=1000))
    threshold_denominator = _int(load_default=2, validate=validate.Range(min=1, max=1000))
    threshold_strict = ma.fields.Boolean(load_default=True,
                                         metadata={"description": "true: more than the fraction; false: at least"})
    tie_rule = ma.fields.String(load_default="reject", validate=validate.OneOf(TIE_RULES))
    time_limit_seconds = _int(allow_none=True, validate=validate.Range(min=5, max=24 * 3600))

    @ma.post_load
    def _preset(self, data, **_kw):
        preset = data.pop("threshold", None)
        if preset:
            (data["threshold_numerator"], data["threshold_denominator"],
             data["threshold_strict"]) = THRESHOLD_PRESETS[preset]
        return data


class BallotIn(ma.Schema):
    option_ids = ma.fields.List(_int(), validate=validate.Length(max=100),
                                metadata={"description": "Named polls: the chosen option ids"})
    ballot = ma.fields.Dict(metadata={"description": "Secret polls: the encrypted ballot "
                                                     "({ciphertexts, total_proof}; docs/secret-ballot.md)"})
    on_behalf_of = _int(allow_none=True, metadata={"description": "The grantor's user id, when voting by proxy"})


class SocketBallotIn(BallotIn):
    poll_id = _int(required=True)


class BallotAck(ma.Schema):
    poll_id = ma.fields.Integer(required=True)
    voter_id = ma.fields.Integer(required=True)
    voted = ma.fields.Boolean(required=True)
    option_ids = ma.fields.List(ma.fields.Integer(), metadata={"description": "Named polls only"})
    tracking_code = ma.fields.String(metadata={"description": "Secret polls: find it on the bulletin board"})


class PartialIn(ma.Schema):
    shares = ma.fields.List(ma.fields.Dict(), required=True, validate=validate.Length(max=100),
                            metadata={"description": "One {d, c, z} per option, in the poll's option order"})


class PartialAck(ma.Schema):
    poll_id = ma.fields.Integer(required=True)
    member_index = ma.fields.Integer(required=True)
    shares = ma.fields.List(ma.fields.Dict(), metadata={"description": "As stored (the first valid submission)"})
    status = ma.fields.String(metadata={"description": "counting, or closed/published once k partials combined"})
    partials = ma.fields.Integer(metadata={"description": "How many members have sent theirs"})
    threshold = ma.fields.Integer(metadata={"description": "How many are needed (k)"})


class AnnulIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class PollOut(ma.Schema):
    id = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    agenda_item_id = ma.fields.Integer(allow_none=True)
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    secret = ma.fields.Boolean()
    results_live = ma.fields.Boolean()
    allow_change = ma.fields.Boolean()
    presence_required = ma.fields.Boolean()
    weighted = ma.fields.Boolean()
    publish_on_close = ma.fields.Boolean()
    close_when_complete = ma.fields.Boolean()
    min_choices = ma.fields.Integer()
    max_choices = ma.fields.Integer()
    rules = ma.fields.Dict()
    status = ma.fields.String()
    time_limit_seconds = ma.fields.Integer(allow_none=True)
    opened_at = ma.fields.String(allow_none=True)
    closes_at = ma.fields.String(allow_none=True)
    closed_at = ma.fields.String(allow_none=True)
    published_at = ma.fields.String(allow_none=True)
    annulled_at = ma.fields.String(allow_none=True)
    annul_reason = ma.fields.String(allow_none=True)
    options = ma.fields.List(ma.fields.Dict())
    committee_id = ma.fields.Integer(allow_none=True, metadata={"description": "Secret polls: the counting committee"})
    board_id = ma.fields.String(allow_none=True, metadata={"description": "Secret polls: the context of every proof"})
    public_key = ma.fields.String(allow_none=True, metadata={"description": "Secret polls: the key ballots are "
                                                                            "encrypted with (hex), set at open"})
    count = ma.fields.Dict(metadata={"description": "While counting: {partials: [member indices], threshold}"})
    voted = ma.fields.Integer(metadata={"description": "While open: to those who run the meeting, or all if live"})
    entitled = ma.fields.Integer()
    counts = ma.fields.List(ma.fields.Dict(), metadata={"description": "Named polls with live results only"})
    result = ma.fields.Dict(allow_none=True, metadata={"description": "Once the caller may see it"})
    named_votes = ma.fields.List(ma.fields.Dict(), allow_none=True)
    my_ballot = ma.fields.Dict()


class ProxyIn(ma.Schema):
    grantor_id = _int(metadata={"description": "Defaults to the caller"})
    holder_id = _int(required=True)


class ProxyOut(ma.Schema):
    id = ma.fields.Integer()
    meeting_id = ma.fields.Integer()
    grantor_id = ma.fields.Integer()
    holder_id = ma.fields.Integer()
    active = ma.fields.Boolean()
    created_at = UtcDateTime()
    revoked_at = UtcDateTime(allow_none=True)
