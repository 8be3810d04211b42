"""REST shapes of the follow-up tasks (marshmallow; unknown fields are refused)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from meetings.platform.http.schemas import UtcDateTime
from meetings.tasks.models import EXTENSION_STATUSES, PRIORITIES, SOURCE_KINDS, TASK_STATUSES

Int = ma.fields.Integer
Str = ma.fields.String
MAX_ID = 2**31 - 1


def _id(**kw) -> ma.fields.Integer:
    return Int(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kw)


class SourceIn(ma.Schema):
    kind = Str(load_default="manual", validate=validate.OneOf(SOURCE_KINDS),
               metadata={"description": "conclusion (of a conclusion notice), opinion (a written opinion result) "
                                        "or manual"})
    id = _id(allow_none=True, metadata={"description": "The conclusion's or opinion result's id"})
    label = Str(allow_none=True, validate=validate.Length(max=500),
                metadata={"description": "How the source reads, e.g. \"Kết luận 2, Thông báo số 15/TB-UBND\""})
    meeting_id = _id(allow_none=True, metadata={"description": "The sitting the source came from"})


class TaskPatch(ma.Schema):
    title = Str(validate=validate.Length(min=1, max=500))
    description = Str(allow_none=True, validate=validate.Length(max=20000))
    lead_unit_id = _id(allow_none=True, metadata={"description": "Đơn vị chủ trì"})
    assignee_id = _id(allow_none=True, metadata={"description": "The person assigned (with or without a unit)"})
    support_unit_ids = ma.fields.List(_id(), validate=validate.Length(max=30),
                                      metadata={"description": "Đơn vị phối hợp"})
    deadline = UtcDateTime()
    priority = Str(validate=validate.OneOf(PRIORITIES))


class TaskCreate(TaskPatch):
    title = Str(required=True, validate=validate.Length(min=1, max=500))
    deadline = UtcDateTime(required=True)
    priority = Str(load_default="normal", validate=validate.OneOf(PRIORITIES))
    source = ma.fields.Nested(SourceIn, load_default=dict)


class TaskQuery(ma.Schema):
    """Filters of a body's task list, its dashboard and exports."""

    unit_id = Int(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "lead or supporting unit"})
    status = Str(validate=validate.OneOf((*TASK_STATUSES, "overdue")))
    meeting_id = Int(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "source sitting"})
    from_ = UtcDateTime(data_key="from", metadata={"description": "deadline at or after"})
    to = UtcDateTime(metadata={"description": "deadline before"})
    source_kind = Str(validate=validate.OneOf(SOURCE_KINDS), metadata={"description": "where the tasks come from"})
    source_id = Int(validate=validate.Range(min=1, max=MAX_ID),
                    metadata={"description": "the conclusion's or opinion form's id (with source_kind)"})

    @ma.validates_schema
    def _id_needs_kind(self, data, **kwargs):
        # a bare id names nothing: conclusion 5 and opinion form 5 are different sources
        if "source_id" in data and "source_kind" not in data:
            raise ma.ValidationError("source_id needs source_kind.", field_name="source_kind")


class MyQuery(ma.Schema):
    include_accepted = ma.fields.Boolean(load_default=False)


class ReportForm(ma.Schema):
    """A progress report or a submission (multipart: these fields plus ``file`` parts, PDF)."""

    text = Str(validate=validate.Length(max=20000))
    progress = Int(validate=validate.Range(min=0, max=100))


class DecisionIn(ma.Schema):
    text = Str(allow_none=True, validate=validate.Length(max=20000))


class ReturnIn(ma.Schema):
    reason = Str(required=True, validate=validate.Length(min=1, max=20000))


class ExtensionIn(ma.Schema):
    new_deadline = UtcDateTime(required=True)
    reason = Str(required=True, validate=validate.Length(min=1, max=20000))


class ExtensionDecisionIn(ma.Schema):
    approve = ma.fields.Boolean(required=True)
    answer = Str(allow_none=True, validate=validate.Length(max=20000))


class ExtensionOut(ma.Schema):
    id = Int(required=True)
    task_id = Int()
    requested_by_id = Int(allow_none=True)
    requested_at = UtcDateTime()
    old_deadline = UtcDateTime()
    new_deadline = UtcDateTime()
    reason = Str()
    status = Str(metadata={"enum": list(EXTENSION_STATUSES)})
    decided_by_id = Int(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    answer = Str(allow_none=True)


class FileOut(ma.Schema):
    id = Int(required=True)
    entry_id = Int(allow_none=True)
    filename = Str()
    sha256 = Str()
    size = Int()
    page_count = Int()
    uploaded_by_id = Int(allow_none=True)
    created_at = UtcDateTime()


class EntryOut(ma.Schema):
    id = Int(required=True)
    kind = Str(metadata={"description": "created, edited, progress, submitted, accepted, returned, "
                                        "extension_requested, extension_approved, extension_refused"})
    author_id = Int(allow_none=True)
    author_name = Str(attribute="author.full_name", allow_none=True)
    at = UtcDateTime()
    text = Str(allow_none=True)
    progress = Int(allow_none=True)
    status_from = Str(allow_none=True)
    status_to = Str(allow_none=True)
    details = ma.fields.Dict()


class TaskOut(ma.Schema):
    id = Int(required=True)
    body_id = Int()
    meeting_id = Int(allow_none=True)
    title = Str()
    description = Str(allow_none=True)
    source_kind = Str()
    source_id = Int(allow_none=True)
    source_label = Str(allow_none=True)
    lead_unit_id = Int(allow_none=True)
    lead_unit_name = Str(allow_none=True)
    support_unit_ids = ma.fields.List(Int())
    support_unit_names = ma.fields.List(Str())
    assignee_id = Int(allow_none=True)
    assignee_name = Str(allow_none=True)
    deadline = UtcDateTime()
    original_deadline = UtcDateTime()
    priority = Str()
    status = Str(metadata={"enum": list(TASK_STATUSES)})
    progress = Int()
    submitted_at = UtcDateTime(allow_none=True)
    accepted_at = UtcDateTime(allow_none=True)
    overdue = ma.fields.Boolean(metadata={"description": "deadline passed and not accepted"})
    on_time = ma.fields.Boolean(allow_none=True, metadata={"description": "accepted by its deadline"})
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class TaskDetail(TaskOut):
    entries = ma.fields.List(ma.fields.Nested(EntryOut))
    files = ma.fields.List(ma.fields.Nested(FileOut))
    extensions = ma.fields.List(ma.fields.Nested(ExtensionOut))
    can = ma.fields.Dict(keys=Str(), values=ma.fields.Boolean(),
                         metadata={"description": "What the caller may do: report, submit, manage"})


class UnitFigures(ma.Schema):
    unit_id = Int(allow_none=True)
    unit_name = Str(allow_none=True)
    total = Int()
    overdue = Int()
    by_status = ma.fields.Dict(keys=Str(), values=Int())


class DashboardOut(ma.Schema):
    body_id = Int()
    at = UtcDateTime()
    filters = ma.fields.Dict()
    total = Int()
    by_status = ma.fields.Dict(keys=Str(), values=Int())
    by_unit = ma.fields.List(ma.fields.Nested(UnitFigures))
    overdue_count = Int()
    overdue = ma.fields.List(ma.fields.Nested(TaskOut))
    accepted = Int()
    accepted_on_time = Int()
    on_time_rate = ma.fields.Float(allow_none=True, metadata={"description": "accepted by the deadline / accepted"})
