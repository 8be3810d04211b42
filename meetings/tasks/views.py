"""REST: follow-up tasks, their reports, decisions and extensions; the dashboard and its exports.

Thin views: the caller, the visible task (``policy.visible_task``: 404 for one who may not
see it), one service call, the answer. The services check what the caller may do (403).
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask_smorest import Blueprint

from meetings.bodies import service as bodies
from meetings.core.db import utcnow
from meetings.core.errors import Invalid
from meetings.core.extensions import db
from meetings.documents.receiving import default_limits
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses
from meetings.tasks import board, export, policy, service
from meetings.tasks import files as task_files
from meetings.tasks.schemas import (
    DashboardOut,
    DecisionIn,
    ExtensionDecisionIn,
    ExtensionIn,
    ExtensionOut,
    MyQuery,
    ReportForm,
    ReturnIn,
    TaskCreate,
    TaskDetail,
    TaskOut,
    TaskPatch,
    TaskQuery,
)

blp = Blueprint("tasks", __name__, description="Follow-up tasks of conclusions: assignment to done")


def _errors(*codes: int):
    return error_responses(blp, *codes, descriptions={
        403: "Your part in the task does not allow it", 409: "The task's status does not allow it now",
        415: "Not a PDF", 422: "The request's data is not valid, or a file was refused"})


@blp.before_request
def _authenticated_first() -> None:
    require_user()


def _detail(task, user) -> dict[str, Any]:
    data = board.row(task)
    data.update(entries=task.entries, files=task.files, extensions=task.extensions, can={
        "report": policy.can_report(db.session, task, user), "submit": policy.can_submit(db.session, task, user),
        "manage": policy.can_manage(db.session, task, user)})
    return data


def _filters(query: dict[str, Any]) -> board.Filters:
    return board.Filters(unit_id=query.get("unit_id"), status=query.get("status"),
                         meeting_id=query.get("meeting_id"), since=query.get("from_"), until=query.get("to"),
                         source_kind=query.get("source_kind"), source_id=query.get("source_id"))


def _multipart() -> dict:
    props = {name: {"type": "string"} for name in ReportForm().fields}
    props["file"] = {"type": "array", "items": {"type": "string", "format": "binary"}}
    return {"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": props}},
                                          "application/json": {"schema": {"type": "object", "properties": {
                                              "text": {"type": "string"}, "progress": {"type": "integer"}}}}}}


def _report() -> tuple[dict[str, Any], list[task_files.Upload]]:
    """The report's fields and files (multipart), or its fields (JSON)."""
    raw = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    try:
        fields = ReportForm().load(raw or {})
    except ma.ValidationError as err:
        raise Invalid("The request's data is not valid.", details={"form": err.messages}) from None
    uploads = [task_files.Upload(f.stream, f.filename or "tep.pdf") for f in request.files.getlist("file")]
    if len(request.files) != (1 if uploads else 0):
        raise Invalid("Send files in the multipart field `file` only.", details={"files": ["file"]})
    return fields, uploads


# ------------------------------------------------------------------ lists and the dashboard

@blp.route("/bodies/<int:body_id>/tasks")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskOut(many=True))
@_errors(403, 404)
def list_tasks(query, body_id: int):
    """A body's tasks with filters (the office and the chair)."""
    user = require_user()
    return [board.row(t) for t in board.body_tasks(db.session, bodies.get_body(db.session, body_id), user,
                                                   _filters(query))]


@blp.route("/bodies/<int:body_id>/tasks", methods=["POST"])
@blp.arguments(TaskCreate)
@blp.response(201, TaskDetail)
@_errors(403, 404)
def create_task(data, body_id: int):
    """Assign a task to a unit or a person (the body's office); from a conclusion, an opinion result, or by hand."""
    user = require_user()
    task = service.create_task(db.session, bodies.get_body(db.session, body_id), user, **data)
    return _detail(task, user)


@blp.route("/bodies/<int:body_id>/tasks/dashboard")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, DashboardOut)
@_errors(403, 404)
def dashboard(query, body_id: int):
    """Counts by status and unit, the overdue list, the on-time rate (the chair and the office)."""
    user = require_user()
    figures = board.figures(db.session, bodies.get_body(db.session, body_id), user, _filters(query))
    return {**figures, "overdue": [board.row(t) for t in figures["overdue"]]}


@blp.route("/bodies/<int:body_id>/tasks/export.csv")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, description="The tasks as CSV (UTF-8)", content_type="text/csv")
@_errors(403, 404)
def export_csv(query, body_id: int):
    """The filtered tasks as CSV."""
    user = require_user()
    body = bodies.get_body(db.session, body_id)
    now = utcnow()
    data = export.csv_bytes(board.body_tasks(db.session, body, user, _filters(query), now), now,
                            locale=user.locale or "vi", tz=current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=nhiem-vu-{body.id}.csv", "Cache-Control": "private, no-store"})


@blp.route("/bodies/<int:body_id>/tasks/report.pdf")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, description="Báo cáo tình hình thực hiện nhiệm vụ (PDF)", content_type="application/pdf")
@_errors(403, 404)
def export_pdf(query, body_id: int):
    """The dashboard as a PDF report in Vietnamese."""
    user = require_user()
    body = bodies.get_body(db.session, body_id)
    filters = _filters(query)
    figures = board.figures(db.session, body, user, filters)
    tasks = board.body_tasks(db.session, body, user, filters, figures["at"])
    data = export.pdf_report(body, figures, tasks, figures["at"],
                             tz=current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=bao-cao-nhiem-vu-{body.id}.pdf",
        "Cache-Control": "private, no-store"})


@blp.route("/me/tasks")
@blp.arguments(MyQuery, location="query")
@blp.response(200, TaskOut(many=True))
def my_tasks(query):
    """"Việc của tôi": the caller's tasks and their units' (open ones unless include_accepted)."""
    user = require_user()
    return [board.row(t) for t in board.my_tasks(db.session, user, include_accepted=query["include_accepted"])]


# ------------------------------------------------------------------ one task

@blp.route("/tasks/<int:task_id>")
@blp.response(200, TaskDetail)
@_errors(404)
def get_task(task_id: int):
    """One task with its history, files and extension requests."""
    user = require_user()
    return _detail(policy.visible_task(db.session, task_id, user), user)


@blp.route("/tasks/<int:task_id>", methods=["PATCH"])
@blp.arguments(TaskPatch)
@blp.response(200, TaskDetail)
@_errors(403, 404, 409)
def update_task(data, task_id: int):
    """Change what, of whom, by when (the office)."""
    user = require_user()
    task = service.update_task(db.session, policy.visible_task(db.session, task_id, user), user, **data)
    return _detail(task, user)


@blp.route("/tasks/<int:task_id>/progress", methods=["POST"])
@blp.doc(requestBody=_multipart())
@blp.response(201, TaskDetail)
@_errors(403, 404, 409, 413, 415, 422)
def report_progress(task_id: int):
    """Report progress: ``text``, ``progress`` (0–100) and ``file`` parts (PDF), the assignees and supporting units."""
    user = require_user()
    task = policy.visible_task(db.session, task_id, user)
    policy.require(policy.can_report(db.session, task, user), "Only the task's units can report on it.")
    fields, uploads = _report()
    service.report_progress(db.session, task, user, text=fields.get("text"), progress=fields.get("progress"),
                            uploads=uploads, storage_path=current_app.config["STORAGE_PATH"], limits=default_limits())
    return _detail(task, user), 201


@blp.route("/tasks/<int:task_id>/submit", methods=["POST"])
@blp.doc(requestBody=_multipart())
@blp.response(200, TaskDetail)
@_errors(403, 404, 409, 413, 415, 422)
def submit(task_id: int):
    """Report the task done with evidence (``text`` and/or ``file`` parts): the assignees."""
    user = require_user()
    task = policy.visible_task(db.session, task_id, user)
    policy.require(policy.can_submit(db.session, task, user), "Only the task's assignees can report it done.")
    fields, uploads = _report()
    service.submit(db.session, task, user, text=fields.get("text"), uploads=uploads,
                   storage_path=current_app.config["STORAGE_PATH"], limits=default_limits())
    return _detail(task, user)


@blp.route("/tasks/<int:task_id>/accept", methods=["POST"])
@blp.arguments(DecisionIn)
@blp.response(200, TaskDetail)
@_errors(403, 404, 409)
def accept(data, task_id: int):
    """Accept a submitted task as done (the office)."""
    user = require_user()
    task = service.accept(db.session, policy.visible_task(db.session, task_id, user), user, text=data.get("text"))
    return _detail(task, user)


@blp.route("/tasks/<int:task_id>/return", methods=["POST"])
@blp.arguments(ReturnIn)
@blp.response(200, TaskDetail)
@_errors(403, 404, 409)
def return_task(data, task_id: int):
    """Send a submitted task back with the reason (the office)."""
    user = require_user()
    task = service.return_task(db.session, policy.visible_task(db.session, task_id, user), user, **data)
    return _detail(task, user)


@blp.route("/tasks/<int:task_id>/extensions", methods=["POST"])
@blp.arguments(ExtensionIn)
@blp.response(201, ExtensionOut)
@_errors(403, 404, 409)
def request_extension(data, task_id: int):
    """Ask for more time: the new date and the reason (the assignees)."""
    user = require_user()
    return service.request_extension(db.session, policy.visible_task(db.session, task_id, user), user, **data)


@blp.route("/task-extensions/<int:extension_id>/decision", methods=["POST"])
@blp.arguments(ExtensionDecisionIn)
@blp.response(200, ExtensionOut)
@_errors(403, 404, 409)
def decide_extension(data, extension_id: int):
    """Approve (the deadline moves) or refuse (with a reason) an extension request (the office)."""
    user = require_user()
    return service.decide_extension(db.session, service.get_extension(db.session, extension_id, user), user, **data)


@blp.route("/tasks/<int:task_id>/files/<int:file_id>")
@blp.response(200, description="The reported file (checked PDF)", content_type="application/pdf")
@_errors(404)
def file(task_id: int, file_id: int):
    """A file reported on the task, for whoever sees the task."""
    task = policy.visible_task(db.session, task_id, require_user())
    return task_files.send(task_files.file_of(task, file_id), root=current_app.config["STORAGE_PATH"])
