"""REST shapes of invitations, answers, the expected attendance and the calendar feed."""
from __future__ import annotations

import marshmallow as ma

from meetings.live.schemas import AttendanceListOut, QuorumOut


class ReplyIn(ma.Schema):
    reply = ma.fields.String(required=True, validate=ma.validate.OneOf(("attend", "decline", "proxy")))
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    proxy_holder_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=2**31 - 1))


class InvitationOut(ma.Schema):
    id = ma.fields.Integer(allow_none=True)
    meeting_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    reply = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    proxy_holder_id = ma.fields.Integer(allow_none=True)
    proxy_holder_name = ma.fields.String(allow_none=True)
    sequence = ma.fields.Integer(allow_none=True)
    replied_at = ma.fields.String(allow_none=True)
    cancelled = ma.fields.Boolean()


class ProxyChoiceOut(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()


class MyInvitationOut(InvitationOut):
    proxy_choices = ma.fields.List(ma.fields.Nested(ProxyChoiceOut))


class ExpectedRowOut(InvitationOut):
    full_name = ma.fields.String()
    role = ma.fields.String()
    can_vote = ma.fields.Boolean()
    invited = ma.fields.Boolean()
    has_email = ma.fields.Boolean()


class CountsOut(ma.Schema):
    pending = ma.fields.Integer()
    attend = ma.fields.Integer()
    decline = ma.fields.Integer()
    proxy = ma.fields.Integer()
    total = ma.fields.Integer()


class ExpectedFiguresOut(ma.Schema):
    voting_members = ma.fields.Integer()
    voting_attending = ma.fields.Integer()
    voting_represented = ma.fields.Integer()
    quorum = ma.fields.Nested(QuorumOut)


class ExpectedOut(ma.Schema):
    meeting_id = ma.fields.Integer()
    invitations = ma.fields.List(ma.fields.Nested(ExpectedRowOut))
    counts = ma.fields.Nested(CountsOut)
    expected = ma.fields.Nested(ExpectedFiguresOut)


class FromRepliesOut(AttendanceListOut):
    marked = ma.fields.List(ma.fields.Integer())


class FeedOut(ma.Schema):
    url = ma.fields.String()
