"""Pages of the follow-up tasks: "Việc của tôi", one task, and the chair's dashboard.

Thin, like every page: who may see it is the policy's answer (404 for a task the caller
may not see, 403 for a dashboard of a body they do not lead), the page renders a small
JSON boot block, and the scripts (static/js/tasks/) fetch everything over REST and
reload what ``task.changed`` says has changed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import login_required
from sqlalchemy import select

from meetings.bodies import service as bodies
from meetings.bodies import units
from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.tasks import policy
from meetings.tasks.models import Task

bp = Blueprint("task_pages", __name__)


def _boot(user, **extra: Any) -> dict[str, Any]:
    return {"me": {"id": user.id, "name": user.full_name}, "locale": str(get_locale() or "vi"),
            "urls": {"api": "/api/v1"}, **extra}


@bp.route("/tasks")
@login_required
def my_tasks():
    """"Việc của tôi": the caller's tasks and their units', soonest deadline first."""
    user = require_user()
    return render_template("tasks/mine.html", boot=_boot(user, page="mine"))


@bp.route("/tasks/<int:task_id>")
@login_required
def task_page(task_id: int):
    """One task: what, who, by when, its history; the forms its viewer may use."""
    user = require_user()
    task = db.session.get(Task, task_id)
    if task is None or not policy.can_view(db.session, task, user):
        abort(404)
    return render_template("tasks/task.html", task=task, boot=_boot(user, page="task", task_id=task.id,
                                                                        body_id=task.body_id))


@bp.route("/bodies/<int:body_id>/tasks")
@login_required
def dashboard(body_id: int):
    """The chair's dashboard of a body's tasks (the office assigns new ones here)."""
    user = require_user()
    body = bodies.get_body(db.session, body_id)
    if not policy.can_see_dashboard(db.session, body.id, user):
        abort(403)
    meetings = db.session.execute(select(Meeting.id, Meeting.title).where(
        Meeting.id.in_(select(Task.meeting_id).where(Task.body_id == body.id))).order_by(Meeting.starts_at)).all()
    boot = _boot(user, page="dashboard", body_id=body.id, body_name=body.name,
                 office=policy.is_office(db.session, body.id, user),
                 units=[{"id": u.id, "name": u.name} for u in units.units_of(db.session, body)],
                 meetings=[{"id": m.id, "title": m.title} for m in meetings])
    return render_template("tasks/dashboard.html", body=body, boot=boot,
                           manage_units=units.can_manage_units(db.session, body, user))
